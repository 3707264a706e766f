"""The shape of the event stream, pinned: a scripted model drives the real engine (and the real
sandbox), and a trace replayed with `trace_events` gives back exactly the events the engine emitted.
Every consumer (the TUI, the Markdown export, replay) reads code blocks from `CodeOpened` and
`CodeClosed`, so this is the one contract between the engine and them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from start_tui.engine import Event, HintPolicy, Reasoner, RunConfig, TextDelta
from start_tui.engine.events import CodeClosed, CodeFinished, CodeOpened, Finished, HintInserted, Paused
from start_tui.engine.hints import split_at_fence
from start_tui.engine.trace import Trace, trace_events
from start_tui.export import trace_to_markdown
from start_tui.sandbox import Sandbox
from tests.scripted import PROFILE, ScriptedBackend


def merged(events: list[Event]) -> list[Event]:
    """Consecutive text deltas of one kind as one (chunking is the backend's business, not the shape)."""
    out: list[Event] = []
    for e in events:
        if isinstance(e, TextDelta) and out and isinstance(out[-1], TextDelta) and out[-1].kind == e.kind:
            out[-1] = TextDelta(out[-1].text + e.text, e.kind)
        else:
            out.append(e)
    return out


def comparable(events: list[Event]) -> list[tuple]:
    rows = []
    for e in merged(events):
        if isinstance(e, CodeFinished):
            rows.append(("code_finished", e.index, e.ok, e.output_text, e.executed, e.code_start, e.code_end))
        elif isinstance(e, Finished):
            rows.append(("finished", e.reason))
        else:
            rows.append((e.type, *(v for k, v in vars(e).items() if k not in ("spans", "meta", "trace_id"))))
    return rows


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


SCRIPT = (
    "Squares add up.\n```python\nprint(sum(i * i for i in range(1, 51)))\n```\n",
    "So it is 42925.</think>",
    "print(42925 == 50 * 51 * 101 // 6)\n```\n",
    "Both agree.\n```py\n1/0\n```\n",
    "x = 1\n```\n",
    "Final answer: 42925<|end|>",
)


def run_script(box: Sandbox, *replies: str, **policy: object) -> tuple[list[Event], Trace, ScriptedBackend]:
    backend = ScriptedBackend(*replies)
    policy = {"conjunctions": (), "before_stop_rounds": 1, "fixed_category": "self_reflection", **policy}
    reasoner = Reasoner(backend, box, PROFILE, HintPolicy(**policy), RunConfig(max_tokens=10_000))  # type: ignore[arg-type]
    run = reasoner.start("What is the sum of the squares of 1 to 50?")
    events = list(run.events())
    return events, run.trace, backend


def test_code_blocks_open_and_close_as_events_by_the_model_and_by_hints(box: Sandbox):
    events, trace, _ = run_script(box, *SCRIPT)
    opened = [e for e in events if isinstance(e, CodeOpened)]
    closed = [e for e in events if isinstance(e, CodeClosed)]
    # the model's two fences, the before-stop hint's and the error hint's
    assert [(e.by, e.text, e.language) for e in opened] == [
        ("model", "```python\n", "python"),
        ("hint", "", "python"),
        ("model", "```py\n", "python"),
        ("hint", "", "python"),
    ]
    assert len(closed) == 4 and all(e.text == "```" for e in closed)
    kinds = [type(e).__name__ for e in events]
    # each block: opened, its code, closed, started, finished, in that order
    for start in (i for i, k in enumerate(kinds) if k == "CodeOpened"):
        rest = [k for k in kinds[start:] if k in ("CodeOpened", "CodeClosed", "CodeStarted", "CodeFinished")]
        assert rest[:4] == ["CodeOpened", "CodeClosed", "CodeStarted", "CodeFinished"]
    finished = [e for e in events if isinstance(e, CodeFinished)]
    assert [e.ok for e in finished] == [True, True, False, True]
    assert "42925" in finished[0].output_text and "ZeroDivisionError" in finished[2].output_text
    assert trace.answer == "42925" and events[-1] == Finished("stop", events[-1].stats)  # type: ignore[attr-defined]
    # the code that ran is exactly the text between the fences in the trace
    text = trace.text
    for e in finished:
        ran = text[e.code_start : e.code_end]
        assert ran.endswith("\n") and "```" not in ran


def test_a_replayed_trace_gives_the_events_the_engine_emitted(box: Sandbox):
    events, trace, _ = run_script(box, *SCRIPT)
    replay = trace_events(trace)
    assert comparable(replay) == comparable(events)
    again = Trace(id="", problem="")
    for e in replay:
        again.apply(e)
    assert again.text == trace.text and [s.kind for s in again.spans] == [s.kind for s in trace.spans]


def test_the_trace_text_is_what_the_model_wrote_plus_what_was_inserted(box: Sandbox):
    _, trace, backend = run_script(box, *SCRIPT)
    # every continuation starts from the whole trace so far: fences included, nothing rewritten
    assert backend.seen[1].endswith("```output\n42925\n```\n")
    assert trace.text.startswith(backend.seen[0]) and "```python\nprint(sum(" in trace.text


def test_the_markdown_export_reads_the_same_blocks(box: Sandbox):
    _, trace, _ = run_script(box, *SCRIPT)
    md = trace_to_markdown(trace)
    assert md.count("```python\n") == 4 and md.count("```output\n") == 4
    assert "print(42925 == 50 * 51 * 101 // 6)" in md and "> **Hint (policy, before_stop):**" in md


def test_a_hint_typed_inside_a_code_block_is_a_comment_and_opens_nothing(box: Sandbox):
    backend = ScriptedBackend("Try.\n```python\nx = 2\n", "print(x)\n```\nFinal answer: 2<|end|>")
    reasoner = Reasoner(backend, box, PROFILE, HintPolicy(conjunctions=(), before_stop_rounds=0), RunConfig())
    run = reasoner.start("x?")
    run.pause()
    events = list(run.events())  # pauses at once
    run.resume()
    it = run.events()
    got: list[Event] = []
    for e in it:
        got.append(e)
        if (
            isinstance(e, TextDelta)
            and e.kind == "code"
            and "x = 2" in "".join(g.text for g in got if isinstance(g, TextDelta) and g.kind == "code")
        ):
            run.inject_hint("Check x.\n```python\n")
    events += got
    hints = [e for e in events if isinstance(e, HintInserted)]
    assert hints and "# Check x.\n" in hints[0].text and not hints[0].opens_code
    assert sum(isinstance(e, CodeOpened) for e in events) == 1
    assert "```python" not in hints[0].text  # the fence the person typed is not in the block
    shown = [e for e in events if not isinstance(e, Paused)]
    assert comparable(trace_events(run.trace)) == comparable(shown)


def test_a_branch_point_gives_the_counters_and_mode_of_its_prefix():
    """Branching reads the prefix back through the same events (no model, no sandbox)."""
    from start_tui.engine.reasoner import _state_of
    from start_tui.engine.trace import load_traces
    from tests.conftest import DATA

    (trace,) = load_traces(DATA / "sum-of-squares.jsonl")[:1]
    offsets = trace.offsets()
    spans = trace.spans
    assert {"hint", "code", "output"} <= {s.kind for s in spans}
    for i in range(1, len(spans)):
        state = _state_of(spans[: i + 1], PROFILE)
        done = spans[: i + 1]
        last = done[-1]
        # an oracle from the spans themselves
        outputs = [s for s in done if s.kind == "output"]
        assert state.tool_calls == sum(s.meta.get("executed", True) for s in outputs), i
        assert state.auto_hints == sum(s.kind == "hint" and s.meta.get("source") != "user" for s in done), i
        assert state.last_tool_end == (  # no output yet: the model's text starts the count
            offsets[max(j for j, s in enumerate(done) if s.kind == "output")][1] if outputs else offsets[0][1]
        )
        in_code = last.kind == "code" or (last.kind == "hint" and last.meta.get("opens_code", True))
        in_code |= last.kind == "model" and last.text.endswith("```python\n")
        assert (state.mode == "code") == in_code, (i, last.kind)
        if last.kind == "hint" and in_code:
            _, template = split_at_fence(last.text)
            assert state.code_start == offsets[i][1] - len(template or "")
        if last.kind == "code":
            first = max(j for j in range(i + 1) if spans[j].kind != "code") + 1
            assert state.code_start == offsets[first][0], i
