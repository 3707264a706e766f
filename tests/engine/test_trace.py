import json
from pathlib import Path

import pytest

from start_tui.engine.events import (
    AnswerFound,
    CodeFinished,
    CodeStarted,
    Finished,
    HintInserted,
    Span,
    Started,
    TextDelta,
    event_from_json,
)
from start_tui.engine.trace import Trace, TraceWriter, load_traces
from start_tui.errors import StartTuiError

EVENTS = [
    Started("t1", "What is 2+2?", [Span("prompt", "Problem: What is 2+2?\nSolution:")], {"model": "m"}),
    TextDelta(" It is 4."),
    TextDelta(" Let me check. "),
    HintInserted("Wait, I can use Python.\n```python\n", source="auto", category="general", trigger="before_stop"),
    TextDelta("print(2+2)\n", "code"),
    TextDelta("```", "model"),
    CodeStarted(1, "print(2+2)\n"),
    CodeFinished(
        index=1,
        ok=True,
        stdout="4\n",
        error=None,
        timed_out=False,
        duration_s=0.01,
        output_text="\n```output\n4\n```\n",
        executed=True,
        code_start=0,
        code_end=0,
    ),
    TextDelta("Final answer: \\boxed{4}"),
    AnswerFound("4"),
    Finished("stop", {"tool_calls": 1}),
]


def test_folding_events_builds_typed_spans_whose_text_is_the_run():
    trace = Trace.from_events(EVENTS)
    assert [s.kind for s in trace.spans] == ["prompt", "model", "hint", "code", "model", "output", "model"]
    assert trace.spans[1].text == " It is 4. Let me check. "
    assert trace.text == "".join(s.text for s in trace.spans)
    assert trace.answer == "4" and trace.status == "finished" and trace.stats == {"tool_calls": 1}
    assert trace.spans[2].meta["trigger"] == "before_stop"


def test_offsets_and_json_round_trip():
    trace = Trace.from_events(EVENTS)
    obj = trace.to_json()
    for span in obj["spans"]:
        assert obj["spans"] and trace.text[span["start"] : span["end"]] == span["text"]
    again = Trace.from_json(json.loads(json.dumps(obj)))
    assert again.to_json() == obj


def test_inconsistent_offsets_are_refused():
    obj = Trace.from_events(EVENTS).to_json()
    obj["spans"][1]["start"] += 1
    with pytest.raises(ValueError, match="offsets"):
        Trace.from_json(obj)


def test_events_round_trip_through_json():
    for event in EVENTS:
        assert event_from_json(json.loads(json.dumps(event.to_json()))) == event


def test_the_writer_journals_then_compacts_to_one_line(tmp_path: Path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"trace": ' + json.dumps(Trace.from_events(EVENTS).to_json() | {"id": "older"}) + "}\n")
    writer = TraceWriter(path, "t1")
    trace = Trace(id="", problem="")
    for event in EVENTS[:5]:
        trace.apply(event)
        writer.write(event)
    lines = path.read_text().splitlines()
    assert len(lines) == 6 and all("event" in json.loads(line) for line in lines[1:])
    for event in EVENTS[5:]:
        trace.apply(event)
        writer.write(event)
    writer.finish(trace)
    lines = path.read_text().splitlines()
    assert len(lines) == 2  # the older run kept, this run compacted
    loaded = load_traces(path)
    assert [t.id for t in loaded] == ["older", "t1"]
    assert loaded[1].to_json() == trace.to_json()


def test_a_journal_left_by_a_killed_run_loads_as_incomplete(tmp_path: Path):
    path = tmp_path / "t.jsonl"
    writer = TraceWriter(path, "t1")
    for event in EVENTS[:6]:
        writer.write(event)
    [trace] = load_traces(path)
    assert trace.status == "incomplete"
    assert trace.text == Trace.from_events(EVENTS[:6]).text
    assert [s.kind for s in trace.spans][-2:] == ["code", "model"]


def test_bad_trace_files_give_one_sentence(tmp_path: Path):
    with pytest.raises(StartTuiError, match="does not exist"):
        load_traces(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"trace_id": "x", "event": {"type": "text", "text": "a"}}\nnot json\n')
    with pytest.raises(StartTuiError, match="Line 2 of"):
        load_traces(bad)


def test_tail_and_length_do_not_need_the_joined_text():
    trace = Trace.from_events(EVENTS)
    assert trace.length == len(trace.text)
    assert trace.tail(10) == trace.text[-10:]
    assert trace.tail(10_000) == trace.text


def test_two_runs_can_share_one_file_while_one_of_them_compacts(tmp_path: Path):
    """Branches of a session write into one file; one finishing must not lose the other's lines."""
    path = tmp_path / "session.jsonl"
    a, b = TraceWriter(path, "a"), TraceWriter(path, "b")
    trace_a = Trace(id="", problem="")
    for event in [Started("a", "p", [Span("prompt", "P")], {}), TextDelta(" one"), Finished("stop", {})]:
        trace_a.apply(event)
        a.write(event)
    b.write(Started("b", "p", [Span("prompt", "P")], {}))
    a.finish(trace_a)
    b.write(TextDelta(" two"))  # after a's compaction replaced the file
    loaded = {t.id: t for t in load_traces(path)}
    assert loaded["a"].text == "P one" and loaded["a"].status == "finished"
    assert loaded["b"].text == "P two" and loaded["b"].status == "incomplete"


def test_replaying_a_trace_folds_back_into_the_same_trace():
    from start_tui.engine.trace import trace_events

    trace = Trace.from_events(EVENTS)
    again = Trace.from_events(trace_events(trace))
    assert again.text == trace.text
    assert [(s.kind, s.text) for s in again.spans] == [(s.kind, s.text) for s in trace.spans]
    assert again.answer == trace.answer and again.status == trace.status
