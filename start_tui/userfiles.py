"""Reading files a user names on the command line."""

from __future__ import annotations

import sys
from pathlib import Path

from start_tui.errors import StartTuiError


def read_user_text(path: str, what: str) -> str:
    """The text of a file the user named (`-` is standard input); one clear sentence if it cannot be read."""
    try:
        if path == "-":
            return sys.stdin.read()
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StartTuiError(f"The {what} {path!r} does not exist.") from None
    except IsADirectoryError:
        raise StartTuiError(f"The {what} {path!r} is a folder, not a file.") from None
    except PermissionError:
        raise StartTuiError(f"The {what} {path!r} cannot be read (permission denied).") from None
    except UnicodeDecodeError:
        raise StartTuiError(f"The {what} {path!r} is not UTF-8 text.") from None
    except OSError as exc:
        raise StartTuiError(f"The {what} {path!r} cannot be read ({exc.strerror}).") from None
