"""Hint-infer's greedy runs read off the hinted runs: greedy decoding is the hinted run up to its first hint."""

from __future__ import annotations

import json
from pathlib import Path

from start_tui.benchmarks import Problem
from start_tui.engine import HintPolicy, Reasoner, RunConfig
from start_tui.engine.events import Span
from start_tui.engine.trace import Trace
from start_tui.options import EngineOptions
from tests.scripted import PROFILE, ScriptedBackend
from training.stages import greedy_from_hinted

PROMPT = "Problem: {}\nThink step by step.\n"


class NoSandbox:
    def close(self) -> None:
        pass


def hinted(pid: str, problem: str, spans: list[Span]) -> dict:
    trace = Trace(id=f"h-{pid}", problem=problem, spans=[Span("prompt", PROMPT.format(problem)), *spans])
    trace.status, trace.answer = "finished", spans[-1].text.rpartition("Final answer: ")[2]
    return {"benchmark": "t", "id": pid, "mode": "hint", "sample": 0, "correct": True, "trace": trace.to_json()}


def test_greedy_runs_are_the_hinted_runs_up_to_a_before_stop_hint_continued_without_hints(tmp_path: Path):
    problems = [
        Problem("stop", "t", "What is 6 times 7?", "42"),
        Problem("none", "t", "What is 2 plus 2?", "4"),
        Problem("error", "t", "What is 3 cubed?", "27"),
        Problem("done", "t", "What is 1 plus 1?", "2"),
        Problem("missing", "t", "What is 9 squared?", "81"),
    ]
    before = "I think 6 times 7 is 41.\nFinal answer: 41"
    rows = [
        hinted(
            "stop",
            problems[0].problem,
            [
                Span("model", before),  # the model's stop was withheld here, and a hint went in
                Span(
                    "hint",
                    "\nWait, let me check with Python.\n```python\n",
                    {"trigger": "before_stop", "source": "auto"},
                ),
                Span("code", "print(6 * 7)\n"),
                Span("model", "```"),
                Span("output", "\n```output\n42\n```\n", {"executed": True, "ok": True}),
                Span("model", "Final answer: 42"),
            ],
        ),
        hinted("none", problems[1].problem, [Span("model", "Two plus two is four.\nFinal answer: 4")]),
        hinted(
            "error",
            problems[2].problem,
            [
                Span("model", "```python\nprint(3 ** 3\n```"),
                Span("output", "\n```output\nSyntaxError\n```\n", {"executed": True, "ok": False}),
                Span(
                    "hint", "The code above raised an error. Let me fix it.\n", {"trigger": "error", "source": "auto"}
                ),
                Span("model", "Final answer: 27"),
            ],
        ),
        hinted("done", problems[3].problem, [Span("model", "Final answer: 2")]),
        {"benchmark": "t", "id": "done", "mode": "greedy", "sample": 0, "correct": True, "trace": None},
    ]
    out = tmp_path / "runs.jsonl"
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    backend = ScriptedBackend("<|end|>")  # greedy, told the same text again, stops where it stopped

    def build(opts: EngineOptions) -> tuple[Reasoner, NoSandbox]:
        assert not opts.hints_enabled
        return Reasoner(backend, None, PROFILE, HintPolicy(enabled=False), RunConfig(max_tokens=50)), NoSandbox()  # type: ignore[arg-type]

    left = greedy_from_hinted(problems, EngineOptions(max_tokens=50), out, build=build)  # type: ignore[arg-type]

    assert [p.id for p in left] == ["error", "missing"]  # decoded from the start: a hint changed what came next
    # one continuation, of the text before the hint
    assert backend.seen == [PROMPT.format(problems[0].problem) + before]
    greedy = {r["id"]: r for r in map(json.loads, out.read_text().splitlines()) if r["mode"] == "greedy"}
    assert set(greedy) == {"stop", "none", "done"}
    stop = Trace.from_json(greedy["stop"]["trace"])
    assert stop.text == PROMPT.format(problems[0].problem) + before and stop.answer == "41"
    assert not greedy["stop"]["correct"] and "hint" not in {s.kind for s in stop.spans}
    assert "before its first hint" in greedy["stop"]["derived"]
    assert greedy["none"]["correct"] and greedy["none"]["trace"] == rows[1]["trace"]  # the hinted run itself
