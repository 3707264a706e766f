"""The model picker: the embedded models, recent models, GGUF files and model folders on disk, and the
models a configured server serves. It returns a `ModelChoice`; the app applies it as a change of
settings, so a model that fails to load leaves the one in use."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, Label, OptionList
from textual.widgets.option_list import Option

from start_tui.backends.embedded import EMBEDDED, INSTALL, assembled, installed
from start_tui.visible import visible


@dataclass(frozen=True)
class ModelChoice:
    backend: str
    """llama (a GGUF file or an embedded model's name), hf (a model folder), openai (a served model)."""
    model: str


def is_model_folder(path: Path) -> bool:
    """A transformers model folder (what the hf backend loads)."""
    return path.is_dir() and (path / "config.json").is_file()


class ModelTree(DirectoryTree):
    """Folders, and of files only GGUF ones."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() == ".gguf")]


class ModelScreen(ModalScreen[ModelChoice | None]):
    DEFAULT_CSS = """
    ModelScreen { align: center middle; }
    ModelScreen > Vertical {
        width: 96%; height: 90%; padding: 1 2; border: thick $accent; background: $surface;
    }
    ModelScreen Horizontal { height: 1fr; margin-top: 1; }
    ModelScreen OptionList { width: 1fr; height: 1fr; }
    ModelScreen DirectoryTree { width: 1fr; height: 1fr; }
    ModelScreen #hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        current: str,
        recent: list[str],
        browse_from: Path,
        server: str | None = None,
        served: list[str] | None = None,
    ) -> None:
        """`served`: the models of `server` when already known (otherwise they are asked for)."""
        super().__init__()
        self.current = current
        self.recent = [r for r in recent if r not in EMBEDDED]
        self.browse_from = browse_from
        self.server = server
        self.served = served
        self.choices: dict[str, ModelChoice] = {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"[b]Pick a model[/b]  in use: {visible(self.current)}", markup=True)
            yield Input(placeholder="search, or type a .gguf path or a model folder and press Enter", id="filter")
            with Horizontal():
                yield OptionList(id="models")
                yield ModelTree(self.browse_from, id="files")
            yield Label(
                "Enter on a model loads it (the one in use stays if it fails) · Tab to the file browser", id="hint"
            )

    def on_mount(self) -> None:
        self._fill("")
        if self.server and self.served is None:
            self._ask_server()

    def _entries(self) -> list[tuple[str, str, ModelChoice | None]]:
        """(group, text, choice); a group header has no choice."""
        out: list[tuple[str, str, ModelChoice | None]] = [("embedded", "embedded models", None)]
        for name, model in EMBEDDED.items():
            usable = assembled(name) is not None or installed(name)
            state = "ready" if assembled(name) else "installed" if usable else f"not installed: {INSTALL}"
            text = f"{name} · {model.title} · {model.size / 1e9:.2f} GB · {state}"
            out.append(("embedded", text, ModelChoice("llama", name) if usable else None))
        if self.recent:
            out.append(("recent", "recent", None))
            for path in self.recent:
                backend = "hf" if is_model_folder(Path(path)) else "llama"
                missing = "" if Path(path).exists() else " · missing"
                out.append(("recent", visible(path) + missing, ModelChoice(backend, path)))
        if self.server:
            out.append(("served", f"served by {visible(self.server)}", None))
            if self.served is None:
                out.append(("served", "asking the server…", None))
            for name in self.served or []:
                out.append(("served", visible(name), ModelChoice("openai", name)))
        return out

    def _fill(self, needle: str) -> None:
        options = self.query_one("#models", OptionList)
        options.clear_options()
        self.choices = {}
        needle = needle.lower()
        for i, (_group, text, choice) in enumerate(self._entries()):
            if choice is None:
                options.add_option(Option(Text(text, style="bold"), id=f"h{i}", disabled=True))
            elif not needle or needle in text.lower():
                key = f"m{i}"
                self.choices[key] = choice
                mark = "● " if choice.model == self.current else "  "
                options.add_option(Option(Text(mark + text), id=key))

    @work(thread=True, exclusive=True)
    def _ask_server(self) -> None:
        from start_tui.backends.openai import OpenAIBackend
        from start_tui.errors import StartTuiError

        assert self.server is not None
        try:
            backend = OpenAIBackend(self.server, retries=0, connect_timeout_s=5)
            try:
                served = backend.served_models()
            finally:
                backend.close()
        except StartTuiError as exc:
            self.app.call_from_thread(self.notify, f"The server's models cannot be listed: {exc}", severity="error")
            served = []
        self.app.call_from_thread(self._served, served)

    def _served(self, served: list[str]) -> None:
        self.served = served
        self._fill(self.query_one("#filter", Input).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        path = Path(text).expanduser()
        if text and (path.suffix.lower() == ".gguf" or is_model_folder(path) or "/" in text):
            self._pick_path(path)
            return
        if len(self.choices) == 1:  # the search left one model
            self.dismiss(next(iter(self.choices.values())))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        choice = self.choices.get(event.option.id or "")
        if choice is not None:
            self.dismiss(choice)

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self._pick_path(event.path)

    def on_directory_tree_directory_selected(self, event: DirectoryTree.DirectorySelected) -> None:
        if is_model_folder(event.path):
            self._pick_path(event.path)

    def _pick_path(self, path: Path) -> None:
        if is_model_folder(path):
            self.dismiss(ModelChoice("hf", str(path)))
        elif path.is_file():
            self.dismiss(ModelChoice("llama", str(path.resolve())))
        else:
            self.notify(f"{visible(str(path))} is neither a GGUF file nor a model folder.", severity="error")

    def action_cancel(self) -> None:
        self.dismiss(None)
