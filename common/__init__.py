"""Vocabulary every layer shares (``forecast``, ``solver`` and ``api`` import it; it imports
none of them): the kinds of channel and of leave, defined once."""
