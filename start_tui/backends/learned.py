"""What a model that start-tui fine-tuned learned under (its profile and prompt template), so that it runs
as it was trained with no flags: written into the GGUF by `start-tui train export`, into the run's
`job.json` by the SFT stage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from start_tui.backends.gguf import GGUFInfo

PROFILE_KEY = "start_tui.profile"
"""The model profile it learned under."""
PROMPT_KEY = "start_tui.prompt"
"""The prompt template (a `{problem}` slot) it learned under, for a profile that prompts with one."""
ADAPTER_PREFIX = "adapter."
"""An adapter file's own keys carry this prefix: `adapter.start_tui.profile`, `adapter.start_tui.prompt`."""


def _kept(values: object) -> dict[str, str]:
    if not isinstance(values, dict):
        return {}
    return {k: v for k, v in values.items() if k in (PROFILE_KEY, PROMPT_KEY) and isinstance(v, str) and v}


def in_gguf(info: GGUFInfo) -> dict[str, str]:
    """What a model or adapter file says it was trained under (as model-level keys)."""
    prefix = ADAPTER_PREFIX if info.metadata.get("general.type") == "adapter" else ""
    return _kept({key: info.metadata.get(prefix + key) for key in (PROFILE_KEY, PROMPT_KEY)})


def job_of(folder: Path) -> Path | None:
    """The `job.json` of the training run that made `folder` (a checkpoint: the run's, above it)."""
    return next((j for j in (folder / "job.json", folder.parent / "job.json") if j.is_file()), None)


def job_stage(folder: Path) -> dict[str, Any] | None:
    """The `stage` the training job that made `folder` was given (None: no readable job)."""
    job = job_of(folder)
    if job is None:
        return None
    try:
        stage = json.loads(job.read_text(encoding="utf-8")).get("stage")
    except (OSError, ValueError, AttributeError):
        return None
    return stage if isinstance(stage, dict) else None


def recorded_in(stage: dict[str, Any] | None) -> dict[str, str] | None:
    """What the SFT stage recorded in its job's `stage` (None: no record, an older run's job)."""
    if stage is None or "learned_under" not in stage:
        return None
    return _kept(stage["learned_under"])


def in_job(folder: Path) -> dict[str, str] | None:
    """What the SFT stage recorded for the folder it trained (None: no record, an older run's folder)."""
    return recorded_in(job_stage(folder))
