"""Edit the settings (model, profile, hint policy, temperature, limits) and save them to the config file."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Switch

from start_tui.errors import StartTuiError
from start_tui.tui.settings import Settings, settings_from_dict

HELP = {
    "backend": "llama, hf or openai",
    "model": "llama: a .gguf file (empty: the embedded Gemma 3 270M); hf: a folder; openai: the served name",
    "base_url": "openai: http://host:port/v1",
    "api_key_env": "openai: the variable holding the API key",
    "profile": "gemma3-base, gemma3-it, qwq, deepseek-r1, qwen3 (empty: from the GGUF)",
    "prompt_file": "a prompt with a {problem} slot (empty: the profile's)",
    "temperature": "negative: the profile's own",
    "rounds": "hints before the end of thinking",
    "conjunctions": "comma-separated words after which a hint may go",
    "domain": "math or code",
}


class SettingsScreen(ModalScreen[Settings | None]):
    DEFAULT_CSS = """
    SettingsScreen { align: center middle; }
    SettingsScreen > Vertical { width: 96; height: 90%; padding: 1 2; border: thick $accent; background: $surface; }
    SettingsScreen .row { height: auto; margin-bottom: 1; }
    SettingsScreen .row Label { width: 18; padding-top: 1; }
    SettingsScreen .row Input { width: 1fr; }
    SettingsScreen .buttons { height: auto; align-horizontal: right; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("[b]Settings[/b] (saved to the config file; a model change reloads the model)")
            with VerticalScroll():
                for f in fields(Settings):
                    value = getattr(self.settings, f.name)
                    with Horizontal(classes="row"):
                        yield Label(f.name)
                        if isinstance(value, bool):
                            yield Switch(value=value, id=f"set-{f.name}")
                        else:
                            yield Input(str(value), placeholder=HELP.get(f.name, ""), id=f"set-{f.name}")
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        data: dict[str, object] = {}
        for key, default in asdict(Settings()).items():
            if isinstance(default, bool):
                data[key] = self.query_one(f"#set-{key}", Switch).value
                continue
            raw = self.query_one(f"#set-{key}", Input).value.strip()
            try:
                data[key] = type(default)(raw) if not isinstance(default, str) else raw
            except ValueError:
                self.notify(f"{key} must be a {type(default).__name__}.", severity="error")
                return
        try:
            self.dismiss(settings_from_dict(data))
        except StartTuiError as exc:
            self.notify(str(exc), severity="error")

    def action_cancel(self) -> None:
        self.dismiss(None)
