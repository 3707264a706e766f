"""A list to choose one item from: segments to branch from, branches to view, benchmark rows."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option


class ChooseScreen(ModalScreen[int | None]):
    """Pick one of `items` (index returned); with `searchable`, an input filters the list."""

    DEFAULT_CSS = """
    ChooseScreen { align: center middle; }
    ChooseScreen > Vertical {
        width: 100; height: auto; max-height: 85%; padding: 1 2;
        border: thick $accent; background: $surface;
    }
    ChooseScreen OptionList { height: 24; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, items: list[str], searchable: bool = False, highlight: int | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.items = items
        self.searchable = searchable
        self.highlight = highlight

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"[b]{self.title_text}[/b]")
            if self.searchable:
                yield Input(placeholder="filter", id="filter")
            yield OptionList(*self._options(""), id="choices")

    def _options(self, needle: str) -> list[Option]:
        needle = needle.lower()
        return [Option(Text(item), id=str(i)) for i, item in enumerate(self.items) if needle in item.lower()]

    def on_mount(self) -> None:
        choices = self.query_one("#choices", OptionList)
        if self.highlight is not None:
            choices.highlighted = min(self.highlight, max(0, choices.option_count - 1))
        if not self.searchable:
            choices.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        choices = self.query_one("#choices", OptionList)
        choices.clear_options()
        choices.add_options(self._options(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        choices = self.query_one("#choices", OptionList)
        if choices.option_count:
            self.dismiss(int(choices.get_option_at_index(choices.highlighted or 0).id or 0))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        self.dismiss(None)
