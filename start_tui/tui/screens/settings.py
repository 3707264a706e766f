"""Edit the options the app shows (model, generation, hints, sandbox, files) and save them to the config file.

The rows come from the option declarations (`start_tui.options`): every option with the front end
"tui", grouped as the command-line help groups them, with the same help text. Typing in the search
field keeps the rows whose name, help or group hold every word typed.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, Switch

from start_tui.errors import StartTuiError
from start_tui.options import GROUPS, EngineOptions, option_fields, parse_text, show_value, spec, value_type
from start_tui.tui.settings import settings_from_dict


class SettingRow(Vertical):
    """One setting of a group: its field and its help; `words` is what a search looks in."""

    DEFAULT_CSS = "SettingRow { height: auto; }"

    def __init__(self, group: str, words: str) -> None:
        super().__init__()
        self.group = group
        self.words = words.lower()


class SettingsScreen(ModalScreen[EngineOptions | None]):
    DEFAULT_CSS = """
    SettingsScreen { align: center middle; }
    SettingsScreen > Vertical { width: 100; height: 90%; padding: 1 2; border: thick $accent; background: $surface; }
    SettingsScreen .group { text-style: bold; margin-top: 1; }
    SettingsScreen .row { height: auto; }
    SettingsScreen .row Label { width: 18; padding-top: 1; }
    SettingsScreen .row Input { width: 1fr; }
    SettingsScreen .help { color: $text-muted; padding-left: 18; margin-bottom: 1; }
    SettingsScreen .buttons { height: auto; align-horizontal: right; }
    SettingsScreen #settings-search { margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, settings: EngineOptions) -> None:
        super().__init__()
        self.settings = settings

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                "[b]Settings[/b] (saved to the config file; a model change reloads the model, "
                "a sandbox change restarts the sandbox)"
            )
            yield Input(placeholder="search the settings (name or help)", id="settings-search")
            with VerticalScroll():
                for group in GROUPS:
                    shown = option_fields("tui", group)
                    if not shown:
                        continue
                    name: str = group.title  # type: ignore[attr-defined]
                    title = f"{name}: {(group.__doc__ or '').strip()}"
                    yield Static(title, classes="group", id=f"group-{name}")
                    for f in shown:
                        value = getattr(self.settings, f.name)
                        with SettingRow(name, f"{f.name} {spec(f).help} {title}"):
                            with Horizontal(classes="row"):
                                yield Label(f.name)
                                if value_type(f.name)[0] is bool:
                                    yield Switch(value=value, id=f"set-{f.name}")
                                else:
                                    yield Input(show_value(value), placeholder=_placeholder(f), id=f"set-{f.name}")
                            yield Static(spec(f).help, classes="help", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#settings-search", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "settings-search":
            self.search(event.value)

    def search(self, text: str) -> int:
        """Show only the settings that hold every word of `text` (all of them for ''); how many show."""
        words = text.lower().split()
        shown = 0
        for row in self.query(SettingRow):
            row.display = all(w in row.words for w in words)
            shown += row.display
        groups = {row.group for row in self.query(SettingRow) if row.display}
        for title in self.query(".group"):
            title.display = title.id in {f"group-{g}" for g in groups}
        return shown

    def values(self) -> dict[str, Any]:
        """What the fields hold, parsed; one sentence for the first field that does not parse."""
        data: dict[str, Any] = {}
        for f in option_fields("tui"):
            if value_type(f.name)[0] is bool:
                data[f.name] = self.query_one(f"#set-{f.name}", Switch).value
            else:
                data[f.name] = parse_text(f.name, self.query_one(f"#set-{f.name}", Input).value, f.name)
        return data

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        try:
            self.dismiss(settings_from_dict(self.values()))
        except StartTuiError as exc:
            self.query_one("#settings-search", Input).value = ""  # the field it names may be hidden
            self.notify(str(exc), severity="error")

    def action_cancel(self) -> None:
        self.dismiss(None)


def _placeholder(f: Any) -> str:
    s = spec(f)
    if s.choices:
        return " | ".join(s.choices)
    return "(unset)" if f.default is None else ""
