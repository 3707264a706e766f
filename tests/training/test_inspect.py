"""`start-tui train inspect` shows, before any GPU hour, what SFT would learn of each trace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from start_tui.engine.trace import save_traces
from tests.training.test_masking import two_executions

pytest.importorskip("transformers")


def recipe(tmp_path: Path, tiny_dir: Path, mask_hints: bool) -> Path:
    path = tmp_path / f"r-{mask_hints}.toml"
    path.write_text(
        f'name = "inspect"\nworkdir = "{tmp_path / "work"}"\n[data]\nproblems = ["p.jsonl"]\n'
        f'[sft]\nbase_model = "{tiny_dir}"\nmask_hints = {str(mask_hints).lower()}\n'
    )
    (tmp_path / "p.jsonl").write_text('{"id": "1", "problem": "1 + 1?", "answer": "2"}\n')
    return path


def inspect(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "start_tui.cli", "train", "inspect", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.mark.parametrize("mask_hints", [True, False])
def test_inspect_marks_each_masked_run_and_learns_the_fence_a_hint_opens(tmp_path: Path, tiny_dir: Path, mask_hints):
    traces = tmp_path / "traces.jsonl"
    save_traces(traces, [two_executions()] * 2)
    proc = inspect("--recipe", str(recipe(tmp_path, tiny_dir, mask_hints)), "--data", str(traces), "--n", "1")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("traces.jsonl:") == 1  # --n 1
    assert f"mask_hints = {str(mask_hints).lower()}" in out
    assert "\u27e6output: \n```output\n42925\n```\n\u27e7" in out  # tool output: never learned
    assert "\u27e6prompt: Problem: What is the sum" in out
    assert ("\u27e6hint: \nWait, I should check this with Python.\u27e7" in out) is mask_hints
    assert "\n```python\nprint(sum(i * i for i in range(1, 51)))\n```" in out  # the hint's fence, learned


def test_inspect_without_d_seed_says_which_stage_makes_it(tmp_path: Path, tiny_dir: Path):
    proc = inspect("--recipe", str(recipe(tmp_path, tiny_dir, True)))
    assert proc.returncode != 0
    assert "d_seed.jsonl' does not exist (the recipe's D_seed: run `start-tui train hint-rft` first" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_pieces_shown_join_into_the_trace_whatever_the_tokenizer_splits(tiny_dir: Path):
    """Byte-level BPE splits an emoji into tokens that each claim the whole character; it is shown once."""
    from transformers import AutoTokenizer

    from start_tui.engine.events import Span
    from training.inspect import token_kinds

    trace = two_executions()
    trace.spans[1] = Span("model", " Let me compute 😀 the sum of the squares — ∑ i².")
    tok = AutoTokenizer.from_pretrained(tiny_dir)
    pieces = list(token_kinds(trace, tok, mask_hints=True))
    shown = "".join(piece for kind, piece in pieces if kind != "special" and piece != tok.eos_token)
    assert shown == trace.text
