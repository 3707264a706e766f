"""Figures as pictures in the terminal: Sixel or the Kitty graphics protocol where the terminal says
it speaks one, otherwise none (a panel then shows each figure's line and the path of its PNG).

textual-image asks the terminal when it is first imported, and the answer can only be read before
Textual starts (Textual's input thread takes everything from then on), so `detect` runs once at
launch. Its other ways of drawing (coloured half cells, Unicode blocks) are not used: a plot at that
resolution is not readable, and the path opens the real one.
"""

from __future__ import annotations

import os
import sys
from typing import Literal

from textual.widget import Widget

from start_tui.sandbox.protocol import png_size

Protocol = Literal["sixel", "tgp"]

FIGURE_ROWS = 16
"""Terminal rows a figure takes in a panel (its width follows from its aspect ratio)."""

_protocol: Protocol | None = None


def detect() -> Protocol | None:
    """Ask the terminal which image protocol it speaks (call before the app starts); `START_TUI_GRAPHICS=off`
    turns pictures off."""
    global _protocol
    _protocol = None
    stdout, stdin = sys.__stdout__, sys.__stdin__
    if os.environ.get("START_TUI_GRAPHICS") == "off" or not (stdout and stdin and stdout.isatty() and stdin.isatty()):
        return None
    try:
        from textual_image import renderable
    except Exception:  # a terminal that answers oddly: no pictures, the paths still show
        return None
    if renderable.Image is renderable.SixelImage:
        _protocol = "sixel"
    elif renderable.Image is renderable.TGPImage:
        _protocol = "tgp"
    if _protocol is not None:
        import textual_image.widget  # noqa: F401 - asks the terminal its cell size, which sizes every picture
    return _protocol


def protocol() -> Protocol | None:
    """The protocol `detect` found (None: figures show as their line and path)."""
    return _protocol


def use(value: Protocol | None) -> None:
    """Set the protocol by hand (tests, or a terminal known to speak one)."""
    global _protocol
    _protocol = value


MAX_PIXELS = 4096 * 4096
"""The largest figure drawn: the PNG's bytes were written by model code, and Pillow decodes all of
it in the app's process before scaling it down."""


def drawable(path: str) -> bool:
    """Whether the terminal can draw the figure at `path`: it speaks a protocol, and the file is a PNG
    (by its header) of at most `MAX_PIXELS`."""
    if _protocol is None:
        return False
    try:
        with open(path, "rb") as f:
            size = png_size(f.read(64))
    except OSError:
        return False
    return size is not None and size[0] * size[1] <= MAX_PIXELS


def figure_widget(path: str) -> Widget | None:
    """A widget that draws the PNG at `path`, or None when it is not `drawable`."""
    if not drawable(path):
        return None
    from textual_image.widget import Image

    image = Image(path, classes="exec-figure")
    image.styles.height = FIGURE_ROWS
    image.styles.width = "auto"
    return image
