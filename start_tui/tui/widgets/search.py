"""Find text in the trace (`/`): thinking, hints, code and outputs, however long the trace is.

The bar only edits the term and tells where the search stands; the conversation finds the matches
in its items (data, not widgets), brings the current one into view and marks every occurrence on
the widgets it has. Enter goes to the first match and back to the conversation, where `n` and `N`
step to the next and the previous one while the bar shows where they are; Esc in the bar ends it.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label


class SearchBar(Horizontal):
    DEFAULT_CSS = """
    SearchBar { height: 1; display: none; padding: 0 1; background: $boost; }
    SearchBar.-open { display: block; }
    SearchBar > Label { width: auto; padding: 0 1 0 0; }
    SearchBar > Input { width: 1fr; height: 1; border: none; padding: 0; background: transparent; }
    SearchBar > #search-count { padding: 0 0 0 1; color: $text-muted; }
    """

    class Changed(Message):
        """The term changed (empty: no search)."""

        def __init__(self, term: str) -> None:
            super().__init__()
            self.term = term

    class Step(Message):
        """Go to the next match (1) or the previous one (-1)."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    class Closed(Message):
        pass

    def compose(self) -> ComposeResult:
        yield Label("find:")
        yield Input(placeholder="text in thinking, code and outputs", id="search-input")
        yield Label("", id="search-count")

    @property
    def input(self) -> Input:
        return self.query_one("#search-input", Input)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self) -> None:
        self.add_class("-open")
        self.input.focus()

    def close(self) -> None:
        self.remove_class("-open")
        self.post_message(self.Closed())

    def show_position(self, current: int, total: int) -> None:
        text = "no match" if not total else f"{current}/{total}" if current else f"{total} matches"
        self.query_one("#search-count", Label).update(text if self.input.value else "")

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Step(1))

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            event.stop()
            self.close()
