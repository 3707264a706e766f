"""Type a hint or pick one from the library; the run resumes from exactly where it paused."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, OptionList
from textual.widgets.option_list import Option

from start_tui.engine.hints import CODE_FENCE, HintLibrary


class HintScreen(ModalScreen[str | None]):
    """Returns the exact text to insert (ending in an opened python fence when code is asked for)."""

    DEFAULT_CSS = """
    HintScreen { align: center middle; }
    HintScreen > Vertical {
        width: 90; height: auto; max-height: 80%; padding: 1 2;
        border: thick $accent; background: $surface;
    }
    HintScreen OptionList { height: auto; max-height: 12; margin-top: 1; }
    HintScreen Label { margin-top: 1; color: $text-muted; }
    HintScreen #note { width: 100%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, library: HintLibrary, domain: str, title: str = "Inject a hint", note: str = "") -> None:
        super().__init__()
        self.library = library
        self.domain = domain
        self.title_text = title
        self.note = note
        """A line under the title (what a branch inherits)."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"[b]{self.title_text}[/b] - type your own and press Enter, or pick one below")
            if self.note:
                yield Label(self.note, id="note", markup=False)
            yield Input(placeholder="e.g. Let me check this with a quick computation.", id="hint-input")
            yield Checkbox("open a python code block after the hint", value=True, id="open-code")
            yield Label("hint library")
            yield OptionList(
                *[
                    Option(Text(f"[{h.category}] {h.text}"), id=str(i))
                    for i, h in enumerate(self.library.domain(self.domain))
                ],
                id="hint-library",
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.notify("Type a hint, or pick one from the library.", severity="warning")
            return
        open_code = self.query_one("#open-code", Checkbox).value
        self.dismiss(text + CODE_FENCE if open_code else text + "\n")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        hint = self.library.domain(self.domain)[int(event.option.id or 0)]
        self.dismiss(hint.render())

    def action_cancel(self) -> None:
        self.dismiss(None)
