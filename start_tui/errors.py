"""Errors a user can cause: each carries one sentence that says what went wrong and what to do."""


class StartTuiError(Exception):
    """A user-facing error: the CLI prints its message alone, with no traceback, and exits non-zero."""
