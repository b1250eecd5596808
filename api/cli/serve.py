"""``wfm serve``: run the HTTP service (uvicorn) with settings from the ``WFM_*`` environment.

Registered on the ``wfm`` app by the import at the end of ``api/cli.py``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError

from api.cli.common import app, err, reports_input_errors
from api.errors import InputError, Problem
from api.settings import Settings


@app.command(name="serve")
@reports_input_errors
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on", min=1, max=65535)] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Run the HTTP service: OpenAPI at /docs; settings from WFM_* (docs/service.md)."""
    # start-up time: uvicorn, FastAPI and SQLAlchemy load only for `wfm serve`, not every command
    import uvicorn

    from api.web import create_app  # start-up time, as above (the service and the workspace)

    try:
        settings = Settings()
    except ValidationError as exc:
        raise InputError(
            [
                Problem(
                    "WFM_" + "_".join(str(p) for p in e["loc"][:1]).upper(),
                    str(e["msg"]).removeprefix("Value error, "),
                )
                for e in exc.errors()
            ]
        ) from None
    except SettingsError as exc:
        raise InputError.one(
            "WFM_*", f"{exc} (JSON values such as WFM_API_KEYS must be valid JSON)"
        ) from None
    if not settings.api_keys:
        err.print(
            "[yellow]warning[/yellow]: no API keys configured (WFM_API_KEYS); every request "
            "except /health will be refused with 401",
            highlight=False,
        )
    roles = sorted({r.value for rs in settings.api_keys.values() for r in rs})
    db = (
        "SQLite" if settings.database_url is None else settings.effective_database_url.split(":")[0]
    )
    err.print(
        f"wfm service on http://{host}:{port} (docs at /docs); database: {db}; data: "
        f"{settings.data_dir.resolve()}; {len(settings.api_keys)} API key(s) with roles "
        f"{', '.join(roles) or '-'}; {settings.max_concurrent_solves} solve(s) at once, "
        f"{settings.queue_size} queued at most",
        highlight=False,
    )
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)
