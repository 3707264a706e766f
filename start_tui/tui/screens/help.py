"""The keys of the app, listed from its bindings so the list cannot drift from them."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

_NAMES = {
    "comma": ",",
    "slash": "/",
    "question_mark": "?",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "escape": "Esc",
    "enter": "Enter",
    "home": "Home",
    "end": "End",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "up": "Up",
    "down": "Down",
    "tab": "Tab",
}


def key_name(key: str) -> str:
    """How a binding's key reads to a person: `ctrl+r` is Ctrl+R, `right_square_bracket` is ]."""
    *mods, base = key.split("+")
    if base in _NAMES:
        name = _NAMES[base]
    elif len(base) == 1:
        name = base.upper() if mods else base
    else:
        name = base.upper() if base[0] == "f" and base[1:].isdigit() else base.replace("_", " ").capitalize()
    return "+".join([*(m.capitalize() for m in mods), name])


def key_names(keys: str) -> str:
    """`f2,comma` reads F2 or ,"""
    return " or ".join(key_name(k.strip()) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 80; height: auto; max-height: 90%; padding: 1 2; border: thick $accent; background: $surface;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "close", "Close")]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        lines = ["[b]start-tui keys[/b]", ""]
        lines += [f"  [b]{key:<14}[/b] {description}" for key, description in self.keys]
        lines += [
            "",
            "In the trace: Home and End go to the top and the bottom, PgUp, PgDn, Up and Down scroll.",
            "Panels: Tab to a panel title, Enter (or a click) to expand or collapse it.",
            "In the problem field: Ctrl+A and Ctrl+E go to the line's start and end, Ctrl+U and Ctrl+K",
            "delete to them, Ctrl+W deletes a word, F7 selects everything; Tab leaves the field.",
            "Ctrl+P opens the command palette with every action.",
        ]
        with VerticalScroll():
            yield Static("\n".join(lines))

    def action_close(self) -> None:
        self.dismiss(None)
