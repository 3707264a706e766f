"""`start-tui train pipeline` with the shipped CPU smoke recipe, end to end, on the embedded model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RECIPE = Path(__file__).resolve().parents[2] / "training" / "recipes" / "cpu-smoke.toml"

pytest.importorskip("deepspeed")
pytestmark = pytest.mark.model


def test_the_cpu_smoke_pipeline_runs_to_the_end_and_then_skips_every_stage(tmp_path: Path):
    cmd = [sys.executable, "-m", "start_tui", "train", "pipeline", "--recipe", str(RECIPE)]
    # the 10-minute target is a figure for the note (measured: about 4 minutes), not a timed assertion
    part = subprocess.run([*cmd, "--until", "sft"], cwd=tmp_path, capture_output=True, text=True, timeout=1800)
    assert part.returncode == 0, part.stderr[-3000:]
    work = tmp_path / "runs" / "cpu-smoke"
    assert (work / "sft" / "manifest.json").is_file() and not (work / "rft").exists()
    assert "pipeline done in " in part.stderr and "runs/cpu-smoke/sft/model" in part.stderr.replace("\n", "")

    first = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=1800)
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stderr.count("done already") == 3  # the rest of the chain only
    for stage in ("hint-infer", "hint-rft", "sft", "rft", "sft-start"):
        manifest = json.loads((work / stage / "manifest.json").read_text())
        assert manifest["complete"] and manifest["stage"] == stage
    runs = [json.loads(line) for line in (work / "hint-infer" / "runs.jsonl").read_text().splitlines()]
    assert sorted((r["mode"], r["id"]) for r in runs) == [
        ("greedy", "prod"),
        ("greedy", "sq50"),
        ("hint", "prod"),
        ("hint", "sq50"),
    ]
    assert "launch: " in part.stderr and "training.sft --job" in part.stderr  # the launch command is printed
    figures = json.loads((work / "sft" / "model" / "sft_figures.json").read_text())
    assert figures["steps"] == 1 and figures["losses"]
    assert (work / "sft-start" / "model" / "config.json").is_file()
    for stage in ("sft", "sft-start"):  # what each model learned under, for export to write into its GGUF
        learned = json.loads((work / stage / "model" / "job.json").read_text())["stage"]["learned_under"]
        assert learned["start_tui.profile"] == "gemma3-base" and "{problem}" in learned["start_tui.prompt"]

    from datasets import load_dataset

    d_seed = load_dataset("json", data_files=str(work / "hint-rft" / "d_seed.jsonl"), split="train")
    assert len(d_seed) >= 1 and "trace" in d_seed.column_names

    again = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stderr.count("done already") == 5
