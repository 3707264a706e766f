"""Copy text to the system clipboard where one is reachable, else through the terminal.

A terminal's clipboard sequence (OSC 52, what Textual's `copy_to_clipboard` writes) is dropped
silently by tmux's default settings and by many terminals, so a program on the machine's display
(wl-copy, xclip, xsel, pbcopy) is tried first, and the caller says which way the text went.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

_TOOLS: list[tuple[str, list[str], str]] = [
    ("WAYLAND_DISPLAY", ["wl-copy"], "the system clipboard (wl-copy)"),
    ("DISPLAY", ["xclip", "-selection", "clipboard"], "the system clipboard (xclip)"),
    ("DISPLAY", ["xsel", "--clipboard", "--input"], "the system clipboard (xsel)"),
]


def system_copy(text: str) -> str | None:
    """Copy `text` with the display's clipboard program; how it went, or None when none is reachable."""
    tools = [(None, ["pbcopy"], "the system clipboard (pbcopy)")] if sys.platform == "darwin" else _TOOLS
    for env, argv, how in tools:
        if env is not None and not os.environ.get(env):
            continue
        if shutil.which(argv[0]) is None:
            continue
        try:
            subprocess.run(argv, input=text.encode(), check=True, timeout=3, capture_output=True)
        except (OSError, subprocess.SubprocessError):
            continue
        return how
    return None
