"""The session list: every autosaved run to go back to, searchable; open one or delete it."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label

from start_tui.tui.sessions import SessionSummary, list_sessions
from start_tui.visible import visible


def _cut(text: str, width: int) -> str:
    text = visible(text)
    return text if len(text) <= width else text[: width - 1] + "…"


class SessionsScreen(ModalScreen[Path | None]):
    """Pick a session to open (its path is returned). Delete asks for a second press; the session the app
    is writing to now cannot be deleted."""

    DEFAULT_CSS = """
    SessionsScreen { align: center middle; }
    SessionsScreen > Vertical {
        width: 96%; height: 85%; padding: 1 2; border: thick $accent; background: $surface;
    }
    SessionsScreen DataTable { height: 1fr; margin-top: 1; }
    SessionsScreen #where { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back"),
        Binding("delete,ctrl+d", "delete", "Delete"),
        Binding("down", "focus_table", show=False),
    ]

    def __init__(self, folder: Path, current: Path | None = None, busy: Path | None = None) -> None:
        super().__init__()
        self.folder = folder
        self.current = current
        self.busy = busy
        """The session a run is writing to: it cannot be deleted."""
        self.sessions: list[SessionSummary] = []
        self._armed: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("[b]Sessions[/b]  Enter opens · Delete deletes (press twice) · Esc goes back")
            yield Label(f"in {visible(str(self.folder))}", id="where")
            yield Input(placeholder="search problems, models, answers", id="search")
            yield DataTable(id="sessions", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("date", "problem", "model", "answer", "branches")
        table.loading = True
        self._load()

    @work(thread=True, exclusive=True)
    def _load(self) -> None:
        sessions = list_sessions(self.folder)
        self.app.call_from_thread(self._loaded, sessions)

    def _loaded(self, sessions: list[SessionSummary]) -> None:
        self.sessions = sessions
        table = self.query_one(DataTable)
        table.loading = False
        self._fill(self.query_one("#search", Input).value)
        if sessions:
            table.focus()

    def _fill(self, needle: str) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for s in self.sessions:
            if needle and not s.matches(needle):
                continue
            problem = Text(_cut(s.problem or "(no problem text)", 60))
            if s.path == self.current:
                problem.append("  (on screen)", style="bold")
            if s.status.startswith("unreadable"):
                problem.append("  " + _cut(s.status, 40), style="red")
            elif s.status == "incomplete":
                problem.append("  (cut off)", style="yellow")
            answer = _cut(s.answer, 16) if s.answer is not None else "-"
            table.add_row(s.date, problem, _cut(s.model, 28), answer, str(s.branches), key=str(s.path))
        if not table.row_count:
            self.query_one("#where", Label).update(
                f"in {visible(str(self.folder))}: " + ("nothing matches" if needle else "no session yet")
            )

    def on_input_changed(self, event: Input.Changed) -> None:
        self._armed = None
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()

    def action_focus_table(self) -> None:
        self.query_one(DataTable).focus()

    def _selected(self) -> Path | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return Path(key) if key else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.dismiss(Path(event.row_key.value))

    def action_delete(self) -> None:
        path = self._selected()
        if path is None:
            return
        if path == self.busy:
            self.notify("A run is writing to this session; stop it first.", severity="warning", timeout=6)
            return
        if self._armed != path:
            self._armed = path
            self.notify(f"Press Delete again to delete {path.name}.", timeout=6)
            return
        try:
            path.unlink()
        except OSError as exc:
            self.notify(f"{path.name} cannot be deleted ({exc.strerror}).", severity="error", timeout=10)
            return
        self._armed = None
        self.sessions = [s for s in self.sessions if s.path != path]
        self._fill(self.query_one("#search", Input).value)
        self.notify(f"Deleted {path.name}.", timeout=4)

    def action_cancel(self) -> None:
        self.dismiss(None)
