"""The app's settings: the engine options the TUI shows (`start_tui.options`), kept in a TOML config file.

The file is `$START_TUI_CONFIG`, else `~/.config/start-tui/config.toml` (XDG). Unknown keys and
wrong types are refused with one sentence; the settings screen writes the file back, each key
with its help as a comment. Files written before the options were declared in one place (empty
strings for unset values, a negative temperature for the profile's, comma-separated conjunctions)
still load.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from start_tui.errors import StartTuiError
from start_tui.options import (
    GROUPS,
    EngineOptions,
    front_defaults,
    option_fields,
    options_from_dict,
    spec,
    value_type,
)

Settings = EngineOptions
"""The app's settings are engine options (those with the front end "tui")."""


def default_settings() -> EngineOptions:
    return front_defaults("tui")


def settings_to_toml(settings: EngineOptions) -> str:
    """The config file: every option the app shows, with its help; unset ones as comments."""
    import json

    lines = ["# start-tui settings (written by the settings screen; every key is optional)"]
    for group in GROUPS:
        names = option_fields("tui", group)
        if not names:
            continue
        lines += ["", f"# -- {group.title}: {(group.__doc__ or '').strip()}"]  # type: ignore[attr-defined]
        for f in names:
            value = getattr(settings, f.name)
            lines.append(f"# {spec(f).help}")
            if value is None:
                lines.append(f"# {f.name} =")
            elif isinstance(value, bool):
                lines.append(f"{f.name} = {'true' if value else 'false'}")
            elif isinstance(value, str):
                lines.append(f"{f.name} = {json.dumps(value, ensure_ascii=False)}")  # a valid TOML basic string
            elif isinstance(value, tuple):
                lines.append(f"{f.name} = [{', '.join(json.dumps(v, ensure_ascii=False) for v in value)}]")
            else:
                lines.append(f"{f.name} = {value!r}")
    return "\n".join(lines) + "\n"


def config_path() -> Path:
    env = os.environ.get("START_TUI_CONFIG")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "start-tui" / "config.toml"


def load_settings(path: Path | None = None) -> EngineOptions:
    path = path or config_path()
    if not path.exists():
        return default_settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise StartTuiError(f"The config file {str(path)!r} cannot be read ({exc}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise StartTuiError(f"The config file {str(path)!r} is not valid TOML ({exc}).") from None
    return settings_from_dict(data, str(path))


def settings_from_dict(data: dict[str, Any], where: str = "the settings") -> EngineOptions:
    data = dict(data)
    for f in option_fields("tui"):
        _, optional = value_type(f.name)
        value = data.get(f.name)
        if optional and value == "":
            data[f.name] = None  # older files wrote unset values as empty strings
        elif f.name == "temperature" and isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            data[f.name] = None  # older files: a negative temperature meant the profile's
    return options_from_dict(data, where, "tui")


def save_settings(settings: EngineOptions, path: Path | None = None) -> Path:
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(settings_to_toml(settings), encoding="utf-8")
    tmp.replace(path)  # a crash mid-write never leaves half a config file
    return path


def sessions_dir() -> Path:
    """Where every run is autosaved as it streams."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return Path(os.environ.get("START_TUI_SESSIONS") or base / "start-tui" / "sessions")


def ui_state_path() -> Path:
    """What the app remembers that is no engine setting (the theme), beside the settings file."""
    return config_path().with_name("ui.json")


def load_ui_state() -> dict[str, Any]:
    try:
        data = json.loads(ui_state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_ui_state(**values: Any) -> None:
    path = ui_state_path()
    state = {**load_ui_state(), **values}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a read-only home: the theme is simply not remembered
