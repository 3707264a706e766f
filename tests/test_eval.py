"""`start-tui eval` end to end on the embedded model, resumable; pass@k; the sample-test grader for code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from start_tui.benchmarks import load_benchmark
from start_tui.eval.code import _kwargs, passes_samples, sample_tests
from start_tui.eval.runner import pass_at_k, settings_from
from tests.conftest import TEST_MODEL


@pytest.mark.model
def test_eval_end_to_end_with_and_without_hints_then_resume(tmp_path: Path):
    out = tmp_path / "eval"
    cmd = [sys.executable, "-m", "start_tui", "eval", "--benchmark", "math500", "--limit", "3", "--model", TEST_MODEL]
    cmd += ["--hints", "on,off", "--rounds", "0,1", "--max-tokens", "160", "--out", str(out)]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stderr
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines()]
    assert len(rows) == 9  # 3 problems x (no hints, hints 0 rounds, hints 1 round)
    assert {(r["hints"], r["round"]) for r in rows} == {(False, 0), (True, 0), (True, 1)}
    for r in rows:
        assert isinstance(r["correct"], bool) and r["tokens"] > 0 and r["gold"]
        assert set(r) >= {"id", "predicted", "tool_calls", "seconds", "trace_path", "trace_id"}
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["benchmarks"]["math500"]) == {"no hints", "hints, 0 rounds", "hints, 1 round"}
    assert all(0 <= e["pass@1"] <= 1 and e["problems"] == 3 for e in summary["benchmarks"]["math500"].values())
    png = out / "scaling.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    traces = (out / "traces.jsonl").read_text().splitlines()
    assert len(traces) == 9
    assert "pass@1" in first.stderr and "accuracy against hint rounds" in first.stderr

    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    said = " ".join(again.stderr.split())  # rich wraps at the terminal's width, wherever that falls
    assert "9 runs already in" in said and "0 to go" in said
    assert len((out / "rows.jsonl").read_text().splitlines()) == 9


def test_pass_at_k():
    assert pass_at_k(4, 0, 1) == 0.0
    assert pass_at_k(4, 4, 2) == 1.0
    assert abs(pass_at_k(4, 1, 1) - 0.25) < 1e-12
    assert abs(pass_at_k(4, 1, 2) - 0.5) < 1e-12


def test_settings_parse():
    labels = [s.label for s in settings_from("on,off", "0,2,1")]
    assert labels == ["no hints", "hints, 0 rounds", "hints, 1 round", "hints, 2 rounds"]


def test_code_is_scored_on_the_prompt_samples(sandbox):
    problems = {p.id: p for p in load_benchmark("livecodebench").problems}
    second_largest = next(p for p in problems.values() if "second largest" in p.problem)
    tests = sample_tests(second_largest.problem)
    assert tests is not None and tests.kind == "stdin" and len(tests.samples) == 2
    right = "n = int(input())\na = list(map(int, input().split()))\nprint(a.index(sorted(a)[-2]) + 1)\n"
    wrong = "n = int(input())\nprint(1)\n"
    assert passes_samples(right, tests, sandbox) == (True, "")
    ok, why = passes_samples(wrong, tests, sandbox)
    assert not ok and "sample 1" in why

    leet = next(p for p in problems.values() if "class Solution" in p.problem)
    tests = sample_tests(leet.problem)
    assert tests is not None and tests.kind == "function"
    # a "solution" that looks the samples up: proves the harness calls the method with each example's arguments
    table = {repr(sorted(_kwargs(s.input).items())): s.output for s in tests.samples}
    program = (
        "import json\n"
        "class Solution:\n"
        f"    def {tests.method}(self, **kw):\n"
        f"        return json.loads({table!r}[repr(sorted(kw.items()))])\n"
    )
    assert passes_samples(program, tests, sandbox) == (True, "")
    wrong = program.replace("return json.loads(", "return len(")
    assert not passes_samples(wrong, tests, sandbox)[0]
