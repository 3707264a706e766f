"""`--samples K` from the command line: solve on each backend, eval with maj@K and the two-axis picture."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from start_tui.engine import load_traces
from tests.conftest import SUM_OF_SQUARES, TEST_MODEL
from tests.servers import LlamaServer

if TYPE_CHECKING:
    from start_tui.batch import Outcome

pytestmark = pytest.mark.model


def start_tui(*args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "start_tui", *args], capture_output=True, text=True, timeout=timeout)


def check_siblings(trace_path: Path, k: int) -> None:
    traces = load_traces(trace_path)
    assert len(traces) == k
    sets = {t.meta["samples"]["set"] for t in traces}
    assert len(sets) == 1 and sorted(t.meta["samples"]["index"] for t in traces) == list(range(k))
    assert {t.meta["samples"]["of"] for t in traces} == {k}


def test_solve_with_four_samples_ends_with_the_vote(tmp_path: Path):
    trace_path = tmp_path / "samples.jsonl"
    proc = start_tui(
        "solve",
        SUM_OF_SQUARES,
        "--model",
        TEST_MODEL,
        "--samples",
        "4",
        "--max-tokens",
        "200",
        "--trace",
        str(trace_path),
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert "Vote over 4 samples" in proc.stdout
    voted = [line for line in lines if line.startswith("Voted answer: ")]
    assert voted, proc.stdout[-2000:]
    check_siblings(trace_path, 4)
    traces = sorted(load_traces(trace_path), key=lambda t: t.meta["samples"]["index"])  # written as they end
    hints = {s.meta["category"] for t in traces for s in t.spans if s.kind == "hint"}
    assert len(hints) >= 2  # hint-diverse: the samples started from different categories
    assert {t.meta["sampling"]["temperature"] for t in traces[1:]} == {0.6}


def test_solve_with_samples_through_the_server(server: LlamaServer, keyed: None, tmp_path: Path):
    trace_path = tmp_path / "served.jsonl"
    proc = start_tui(
        "solve", SUM_OF_SQUARES, "--samples", "2", "--max-tokens", "120", "--trace", str(trace_path),
        "--backend", "openai", "--base-url", server.url, "--api-key-env", "START_TEST_KEY",
        "--tokenizer", str(server.model_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Voted answer" in proc.stdout
    check_siblings(trace_path, 2)


def test_solve_with_samples_through_transformers(tiny_dir: Path, tmp_path: Path):
    trace_path = tmp_path / "hf.jsonl"
    proc = start_tui(
        "solve", SUM_OF_SQUARES, "--samples", "3", "--max-tokens", "20", "--trace", str(trace_path),
        "--backend", "hf", "--model", str(tiny_dir), "--profile", "gemma3-base", "--no-hints",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    check_siblings(trace_path, 3)
    assert {t.stats["tokens_generated"] for t in load_traces(trace_path)} == {20}


def test_eval_with_samples_writes_maj_at_k_and_the_two_axis_picture(tmp_path: Path):
    out = tmp_path / "eval"
    cmd = ["eval", "--benchmark", "math500", "--limit", "2", "--samples", "2", "--rounds", "0"]
    cmd += ["--max-tokens", "120", "--out", str(out)]
    first = start_tui(*cmd)
    assert first.returncode == 0, first.stderr
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines()]
    votes = [json.loads(line) for line in (out / "votes.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and len(votes) == 4  # 2 problems x (no hints, hints 0 rounds) x 2 samples
    for v in votes:
        mine = [r for r in rows if r["set"] == v["set"]]
        assert sorted(r["sample"] for r in mine) == [0, 1]
        assert v["correct_members"] == [r["sample"] for r in mine if r["correct"]]
        assert sum(g["size"] for g in v["vote"]["groups"]) + len(v["vote"]["unanswered"]) == 2
    summary = json.loads((out / "summary.json").read_text())
    for entry in summary["benchmarks"]["math500"].values():
        assert {"pass@1", "pass@2", "maj@2"} <= set(entry) and 0 <= entry["maj@2"] <= 1
    axes = {p["axis"] for p in summary["two_axis"]["math500"]}
    assert axes == {"parallel", "sequential"}
    assert (out / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    said = " ".join(first.stderr.split())
    assert "maj@2" in said and "two ways to spend them" in said

    again = start_tui(*cmd, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "4 sets already in" in " ".join(again.stderr.split())
    assert len((out / "rows.jsonl").read_text().splitlines()) == 8


def test_problems_in_flight_on_a_local_model_decode_together_on_lanes():
    """`--concurrency` on llama.cpp: problems on lanes of one context, sharing one sandbox. Up to the first
    insertion each run is token for token what it is alone (under four lanes every sequence has its own
    cells); past it the kernels that a step's mix of rows picks may round a near tie the other way, as
    batched inference does anywhere."""
    from start_tui.batch import solve_many
    from start_tui.benchmarks import Problem
    from start_tui.options import EngineOptions

    problems = [
        Problem(str(i), "t", text, answer)
        for i, (text, answer) in enumerate(
            [(SUM_OF_SQUARES, "42925"), ("What is 17 times 23?", "391"), ("What is 2 to the power 20?", "1048576")]
        )
    ]
    opts = EngineOptions(model=TEST_MODEL, max_tokens=120, temperature=0.0, rounds=1)
    alone = solve_many(problems, opts)
    together = solve_many(problems, opts, concurrency=3)
    assert [o.problem.id for o in together] == ["0", "1", "2"]  # in the problems' order
    assert all(o.error is None and o.trace is not None for o in alone + together), [o.error for o in together]

    def before_first_insertion(o: Outcome) -> str:
        assert o.trace is not None
        spans = o.trace.spans
        first = next((i for i, s in enumerate(spans) if s.kind in ("output", "hint")), len(spans))
        return "".join(s.text for s in spans[:first])

    for a, t in zip(alone, together, strict=True):
        assert t.trace is not None and problems[int(t.problem.id)].problem in t.trace.text  # its own problem
        assert before_first_insertion(t) == before_first_insertion(a)
        assert t.trace.status == "finished" and t.trace.stats["tokens_generated"] <= 120
    ran = [s for o in together if o.trace for s in o.trace.spans if s.kind == "output" and s.meta.get("executed")]
    assert ran and all(s.meta.get("executed") for s in ran)  # tool calls ran in the sandbox the lanes share
