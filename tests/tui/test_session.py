"""The app's session model without Textual: runs, branches, autosave, files and engine swaps, on a
scripted model and the real sandbox (fast)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from start_tui.backends.openai import OpenAIBackend
from start_tui.engine import load_traces
from start_tui.errors import StartTuiError
from start_tui.options import EngineOptions
from start_tui.tui.session import SolveSession, open_engine
from tests.scripted import ScriptedBackend

SETTINGS = EngineOptions(profile="gemma3-base", conjunctions=(), rounds=0, max_tokens=200)
REPLIES = ("We add squares.\n```python\nprint(sum(i * i for i in range(1, 4)))\n```\n", "Final answer: 14")


@pytest.fixture
def session(tmp_path: Path) -> Iterator[SolveSession]:
    s = SolveSession(SETTINGS, tmp_path / "sessions")
    s.swap_engine(*open_engine(SETTINGS, ScriptedBackend(*REPLIES)))
    yield s
    s.close()


def drive(run) -> None:
    for _ in run.events():
        pass


def test_what_a_change_of_settings_needs(session: SolveSession):
    assert session.change_for(replace(SETTINGS, timeout_s=3.0)) == "sandbox"
    assert session.change_for(replace(SETTINGS, model="other.gguf")) == "model"
    assert session.change_for(replace(SETTINGS, max_tokens=50)) == "reasoner"
    assert session.change_for(SETTINGS) == "nothing"
    assert SolveSession(SETTINGS, Path("x")).change_for(SETTINGS) == "model"  # nothing loaded yet


def test_a_run_is_autosaved_as_it_streams_and_its_branch_too(session: SolveSession):
    (run,) = session.start("Sum of the squares of 1 to 3?")
    drive(run)
    assert run.trace.answer == "14" and session.session_file is not None
    (saved,) = load_traces(session.session_file)
    assert saved.text == run.trace.text and saved.stats["tool_calls"] == 1
    offsets = run.trace.offsets()
    cut = offsets[[s.kind for s in run.trace.spans].index("output")][1]  # right after the output
    session.reasoner.backend.replies = ["Check again: 1 + 4 + 9 = 14. Final answer: 14"]  # type: ignore[union-attr]
    branch = session.branch_from(cut, "Wait, let me verify by hand.\n")
    drive(branch)
    assert (session.current, session.branches[1].parent, session.branches[1].label) == (1, 0, "from 1")
    assert branch.trace.meta["parent"] == {"trace_id": run.trace.id, "offset": cut}
    assert branch.trace.text.startswith(run.trace.text[:cut])
    assert [t.id for t in load_traces(session.session_file)] == [run.trace.id, branch.trace.id]
    want = [
        "1. first run · finished · answer 14",
        f"2. branch of 1 at character {cut:,} · hint \u201cWait, let me verify by hand.\u201d · finished · answer 14",
    ]
    assert session.labels() == want
    reopened = SolveSession(SETTINGS, session.sessions_dir)
    reopened.open(session.session_file)
    assert reopened.labels() == want  # lineage and hint come from the traces: the same after open or resume


def test_save_open_and_export(session: SolveSession, tmp_path: Path):
    drive(session.start("Sum of the squares of 1 to 3?")[0])
    saved = session.save(tmp_path / "all.jsonl")
    other = SolveSession(SETTINGS, tmp_path / "sessions")
    traces = other.open(saved)
    assert [t.text for t in traces] == [t.text for t in session.traces()] and other.current == 0
    md = session.export(tmp_path / "run.md").read_text()
    assert md.count("```python\n") == 1 and "**Final answer:** 14" in md
    with pytest.raises(StartTuiError, match="cannot be written"):
        session.export(tmp_path / "no-such-folder" / "run.md")
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(StartTuiError, match="holds no trace"):
        other.open(tmp_path / "empty.jsonl")
    assert len(other.branches) == 1  # a failed open keeps what was there


def test_a_sandbox_change_stops_runs_on_the_old_sandbox_and_closes_it_once_they_end(session: SolveSession):
    (run,) = session.start("Sum of the squares of 1 to 3?")
    run.pause()
    drive(run)  # started, paused at once
    old_box, backend = session.sandbox, session.reasoner.backend  # type: ignore[union-attr]
    new = replace(SETTINGS, timeout_s=3.0)
    stopped = session.swap_engine(*open_engine(new, backend))
    assert stopped == [run] and session.sandbox is not old_box and session.reasoner.backend is backend  # type: ignore[union-attr]
    session.close_retired({run})  # still driving: kept
    assert old_box is not None and old_box.running
    drive(run)  # the stop lands at its next step
    assert run.finished and run.trace.status == "stopped"
    session.close_retired(set())
    assert not old_box.running and session.retired == []
    assert session.sandbox is not None and session.sandbox.config.timeout_s == 3.0


def test_a_model_change_closes_the_old_backend(tmp_path: Path):
    """The old model's resources (here an HTTP client of the served backend) are released after a swap."""

    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [{"id": "served"}]})

    served = OpenAIBackend("http://scripted:8000/v1", transport=httpx.MockTransport(server))
    session = SolveSession(SETTINGS, tmp_path)
    session.swap_engine(*open_engine(SETTINGS, served))
    old_box = session.sandbox
    local = ScriptedBackend(*REPLIES)
    session.swap_engine(*open_engine(SETTINGS, local))
    session.close_retired(set())
    assert served._client.is_closed and old_box is not None and not old_box.running
    assert session.reasoner is not None and session.reasoner.backend is local and not local.closed
    session.close()
    assert session.sandbox is not None and not session.sandbox.running


def test_a_failed_engine_opens_nothing_and_keeps_the_old_one(session: SolveSession):
    before = (session.reasoner, session.sandbox)
    with pytest.raises(StartTuiError, match="hint"):
        open_engine(replace(SETTINGS, fixed_category="no-such-hint"), ScriptedBackend())
    assert (session.reasoner, session.sandbox) == before


def test_a_reasoner_change_keeps_the_model_and_the_sandbox(session: SolveSession):
    backend, box = session.reasoner.backend, session.sandbox  # type: ignore[union-attr]
    (run,) = session.start("Sum of the squares of 1 to 3?")
    reasoner = session.rebuild_reasoner(replace(SETTINGS, max_tokens=50))
    assert reasoner.backend is backend and session.sandbox is box and reasoner.config.max_tokens == 50
    assert run.config.max_tokens == 200  # a run already started keeps its settings


def test_samples_start_as_branches_that_vote_and_branch_on_the_model_itself(tmp_path: Path):
    settings = replace(SETTINGS, samples=3)
    model = ScriptedBackend(*REPLIES)
    session = SolveSession(settings, tmp_path / "sessions")
    session.swap_engine(*open_engine(settings, model))
    runs = session.start("Sum of the squares of 1 to 3?")
    assert len(runs) == 3 and session.lanes is not None
    assert [r.backend for r in runs] == session.lanes.lanes and all(r.backend is not model for r in runs)
    assert [b.label for b in session.branches] == ["sample 1/3", "sample 2/3", "sample 3/3"]
    assert len({b.samples for b in session.branches}) == 1
    assert session.tally() is not None and session.tally().groups == []  # type: ignore[union-attr]
    for run in runs:
        drive(run)
    tally = session.tally()
    assert tally is not None and tally.answer == "14" and tally.groups[0].members == [0, 1, 2]
    assert [t.meta["samples"]["index"] for t in load_traces(session.session_file)] == [0, 1, 2]  # type: ignore[arg-type]
    # a branch of a sample runs on the model itself (the sample's lane is its own), with the sample's settings
    session.current = 2
    model.replies = ["Final answer: 14"]
    branch = session.branch_from(len(runs[2].trace.text) - 2)
    assert branch.backend is model and branch.config.sampling.seed == runs[2].config.sampling.seed
    drive(branch)
    # a change of model retires the lanes before the model, and closes both once no run uses them
    lanes = session.lanes
    session.swap_engine(*open_engine(settings, ScriptedBackend()))
    assert session.lanes is None and session.retired[:2] == [lanes, model]
    session.close_retired(set())
    assert lanes.closed and model.closed  # type: ignore[attr-defined]
    session.close()


def test_a_change_of_the_sample_count_opens_new_lanes_at_the_next_run(tmp_path: Path):
    settings = replace(SETTINGS, samples=2)
    session = SolveSession(settings, tmp_path / "sessions")
    session.swap_engine(*open_engine(settings, ScriptedBackend(*REPLIES)))
    first = session.start("Sum of the squares of 1 to 3?")
    old = session.lanes
    assert session.change_for(replace(settings, samples=4)) == "reasoner"
    session.settings = replace(settings, samples=4)
    session.rebuild_reasoner(session.settings)
    second = session.start("Sum of the squares of 1 to 3?")
    assert len(first) == 2 and len(second) == 4 and session.lanes is not old and old in session.retired
    session.close_retired(set())
    assert old.closed  # type: ignore[union-attr]
    session.close()
