"""TUI settings: model, profile, hint policy and generation limits, from a TOML config file.

The file is `$START_TUI_CONFIG`, else `~/.config/start-tui/config.toml` (XDG). Unknown keys and
wrong types are refused with one sentence; the settings screen writes the file back.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from start_tui.errors import StartTuiError


@dataclass
class Settings:
    backend: str = "llama"
    """llama (a GGUF file here), hf (a transformers folder) or openai (an OpenAI-compatible server)."""
    model: str = ""
    """llama: a .gguf file (empty: the embedded Gemma 3 270M); hf: a model folder; openai: the served name."""
    base_url: str = ""
    """openai: the server, e.g. http://127.0.0.1:8000/v1."""
    api_key_env: str = "OPENAI_API_KEY"
    """openai: the environment variable that holds the API key."""
    profile: str = ""
    """A model profile name; empty means chosen from the model's metadata."""
    prompt_file: str = ""
    """A plain-text prompt with a `{problem}` slot instead of the profile's; empty: the profile's."""
    temperature: float = -1.0
    """Sampling temperature; negative means the profile's own."""
    max_tokens: int = 2048
    max_tool_calls: int = 6
    rounds: int = 1
    """Hints inserted before the end of thinking."""
    conjunctions: str = "Wait,Alternatively"
    hints_enabled: bool = True
    domain: str = "math"
    seed: int = 0
    timeout_s: float = 10.0
    n_ctx: int = 8192

    def to_toml(self) -> str:
        lines = ["# start-tui settings (written by the settings screen)"]
        for key, value in asdict(self).items():
            if isinstance(value, bool):
                lines.append(f"{key} = {'true' if value else 'false'}")
            elif isinstance(value, str):
                lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")  # a valid TOML basic string
            else:
                lines.append(f"{key} = {value}")
        return "\n".join(lines) + "\n"


def config_path() -> Path:
    env = os.environ.get("START_TUI_CONFIG")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "start-tui" / "config.toml"


def load_settings(path: Path | None = None) -> Settings:
    path = path or config_path()
    if not path.exists():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise StartTuiError(f"The config file {str(path)!r} cannot be read ({exc}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise StartTuiError(f"The config file {str(path)!r} is not valid TOML ({exc}).") from None
    return settings_from_dict(data, str(path))


def settings_from_dict(data: dict[str, object], where: str = "the settings") -> Settings:
    known = {f.name: f for f in fields(Settings)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise StartTuiError(f"Unknown keys in {where}: {', '.join(unknown)} (known: {', '.join(known)}).")
    defaults = Settings()
    values = {}
    for key, value in data.items():
        expected = type(getattr(defaults, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not expected:
            raise StartTuiError(f"{key} in {where} must be a {expected.__name__}, not {type(value).__name__}.")
        values[key] = value
    backend = values.get("backend", defaults.backend)
    if backend not in ("llama", "hf", "openai"):
        raise StartTuiError(f"backend in {where} must be llama, hf or openai, not {backend!r}.")
    return Settings(**values)  # type: ignore[arg-type]


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(settings.to_toml(), encoding="utf-8")
    return path


def sessions_dir() -> Path:
    """Where every run is autosaved as it streams."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return Path(os.environ.get("START_TUI_SESSIONS") or base / "start-tui" / "sessions")
