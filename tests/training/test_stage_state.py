"""A complete stage is reused only while its recipe tables and inputs are the ones it was made from."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from rich.console import Console

from start_tui.engine.events import Span
from start_tui.engine.trace import Trace
from training.cli import print_status
from training.config import STAGES, Recipe
from training.stages import run_pipeline, stage_dir, stage_state, write_manifest


def _runs_row(pid: str, mode: str, right: bool) -> dict:
    spans = [Span("prompt", "Problem: p\nSolution:"), Span("model", f"reasoning about {pid} with care")]
    spans += [Span("code", "print(1)\n"), Span("output", "\n```output\n1\n```\n"), Span("model", "Final answer: 1")]
    trace = Trace(id=pid, problem="p", spans=spans).to_json()
    return {"benchmark": "b", "id": pid, "mode": mode, "sample": 0, "correct": right, "trace": trace}


@pytest.fixture
def recipe(tmp_path: Path) -> Recipe:
    """A recipe whose hint-infer stage is done (its runs on disk, its manifest written)."""
    r = Recipe(workdir=str(tmp_path / "w"))
    folder = stage_dir(r, "hint-infer")
    folder.mkdir(parents=True)
    rows = [_runs_row(pid, mode, mode == "hint") for pid in ("a", "b") for mode in ("hint", "greedy")]
    (folder / "runs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    write_manifest(folder, "hint-infer", r, [], {}, time.monotonic())
    return r


def _states(recipe: Recipe) -> list[str]:
    return [stage_state(recipe, stage)[0] for stage in STAGES]


def test_a_changed_recipe_or_input_runs_the_stage_again_and_later_stages_follow(recipe: Recipe, capsys):
    console = Console(quiet=True)
    run_pipeline(recipe, console, until="hint-rft")
    d_seed = stage_dir(recipe, "hint-rft") / "d_seed.jsonl"
    sft = stage_dir(recipe, "sft")
    sft.mkdir()
    write_manifest(sft, "sft", recipe, [d_seed], {}, time.monotonic())  # as a finished SFT leaves it
    assert _states(recipe) == ["done", "done", "done", "not run", "not run"]

    manifest = (stage_dir(recipe, "hint-rft") / "manifest.json").read_text()
    run_pipeline(recipe, console, until="hint-rft")  # nothing changed: nothing runs
    assert (stage_dir(recipe, "hint-rft") / "manifest.json").read_text() == manifest

    recipe.launch.nproc_per_node = 8  # more GPUs make the same model
    assert _states(recipe)[:3] == ["done", "done", "done"]

    recipe.filter.max_repetition = 0.5
    assert stage_state(recipe, "hint-rft") == ("stale", "the recipe changed (filter.max_repetition)")
    print_status(recipe)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:2] == ["hint-rft", "stale"]
    assert lines[2].split()[:2] == ["sft", "stale"] and "hint-rft before it will run again" in lines[2]
    run_pipeline(recipe, console, until="hint-rft")
    [aside] = stage_dir(recipe, "hint-rft").parent.glob("hint-rft.stale-*")
    assert (aside / "d_seed.jsonl").is_file()  # what it made before is kept, whole
    assert stage_state(recipe, "hint-rft") == ("done", "")
    state, why = stage_state(recipe, "sft")  # made from the hint-rft that was replaced
    assert state == "stale" and why == f"its input {stage_dir(recipe, 'hint-rft') / 'manifest.json'} changed"

    runs = stage_dir(recipe, "hint-infer") / "runs.jsonl"
    runs.write_text(runs.read_text() + json.dumps(_runs_row("c", "hint", True)) + "\n")
    assert stage_state(recipe, "hint-rft") == ("stale", f"its input {runs} changed")
    runs.unlink()
    assert stage_state(recipe, "hint-rft") == ("stale", f"its input {runs} is gone")
