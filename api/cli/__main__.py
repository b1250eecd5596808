"""``python -m api.cli``: the same as the ``wfm`` console script."""

from api.cli import main

main()
