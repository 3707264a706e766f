"""The embedded default as a user meets it, with no flags: Qwen2.5-Coder-1.5B-Instruct on llama.cpp ends its
turn, gets the before-stop hint there, runs Python in the sandbox and answers from what it printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from start_tui.engine import load_traces
from start_tui.engine.answer import is_equivalent
from tests.test_cli import cli

pytestmark = pytest.mark.slow  # the 1.5B model: the slow layer


@pytest.mark.parametrize(
    ("problem", "answer"),
    [
        ("What is the least common multiple of 907 and 811?", "735577"),
        ("What is the sum of the squares of the integers from 1 to 50?", "42925"),
    ],
)
def test_with_no_flags_solve_runs_python_after_the_hint_and_answers(tmp_path: Path, problem: str, answer: str):
    trace_path = tmp_path / "run.jsonl"
    proc = cli("solve", problem, "--trace", str(trace_path), timeout=900)
    assert proc.returncode == 0, proc.stderr
    head = " ".join(proc.stdout.split())
    assert "Qwen2.5-Coder-1.5B-Instruct (embedded) · profile chat" in head
    (trace,) = load_traces(trace_path)
    kinds = [(s.kind, s.meta.get("trigger")) for s in trace.spans]
    assert ("hint", "before_stop") in kinds, kinds  # where its turn ended, the end-of-turn token withheld
    hint_at = kinds.index(("hint", "before_stop"))
    ran = [s for s in trace.spans[hint_at:] if s.kind == "output" and s.meta["executed"] and s.meta["ok"]]
    assert ran, "no code ran after the hint"
    assert trace.answer is not None and is_equivalent(trace.answer, answer), trace.text[-1500:]
    assert trace.meta["finish_reason"] == "eos" and trace.stats["hint_rounds"] == 1
