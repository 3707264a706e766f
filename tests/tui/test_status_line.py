"""The status line speaks of the branch on screen and the model that will run next, never of another."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from start_tui.tui.app import StartApp
from start_tui.tui.widgets.status import StatusLine
from tests.conftest import DATA
from tests.scripted import ScriptedBackend
from tests.tui.test_keys import until
from tests.tui.test_session import REPLIES, SETTINGS


async def load_scripted(app: StartApp, *replies: str) -> None:
    app._reload(app.settings, backend=ScriptedBackend(*replies))
    assert await until(lambda: app.reasoner is not None and not app._loading, 30)


async def test_an_opened_trace_of_another_model_does_not_name_it_for_new_runs(sessions: Path):
    app = StartApp(SETTINGS, load_engine=False)
    async with app.run_test(size=(140, 30)) as pilot:
        assert app.facts.model == "no model loaded"
        await app._open_traces(DATA / "sum-of-squares.jsonl")
        app._refresh_status()
        assert app.facts.model == "Gemma 3 270m (new runs: no model loaded)"
        await load_scripted(app, *REPLIES)
        app._refresh_status()
        assert app.facts.model == "Gemma 3 270m (new runs: scripted)"
        app.editor.text = "What is 1 + 4 + 9?"
        await pilot.press("ctrl+r")
        assert await until(lambda: app._current_run() is not None and app._current_run().finished, 30)
        app._refresh_status()
        assert app.facts.model == "scripted"


async def test_each_branch_shows_its_own_tokens_and_time(sessions: Path):
    app = StartApp(replace(SETTINGS, samples=2), load_engine=False)
    async with app.run_test(size=(140, 30)) as pilot:
        await load_scripted(app, *REPLIES)
        app.editor.text = "What is 1 + 4 + 9?"
        await pilot.press("ctrl+r")
        assert await until(lambda: len(app.branches) == 2 and all(b.run and b.run.finished for b in app.branches), 30)
        assert await until(lambda: not app._driving, 10)
        for i in (1, 0, 1):
            app.session.current = i
            app._refresh_status()
            trace = app.branches[i].run.trace  # type: ignore[union-attr]
            assert app.facts.elapsed_s == trace.stats["elapsed_s"] and app.facts.branch == f"branch {i + 1}/2"
            assert app.facts.tokens == trace.stats["tokens_generated"]


def test_a_narrow_status_line_drops_the_least_needed_facts_and_keeps_state_model_and_tokens():
    from start_tui.tui.widgets.status import RunFacts

    f = RunFacts(model="Qwen2.5-Coder-1.5B-Instruct (embedded)", state="streaming", tokens=1234, tokens_per_s=17.5)
    f.branch, f.tool_calls, f.max_tool_calls, f.elapsed_s = "branch 2/3", 2, 6, 75.0
    wide = StatusLine.line(f, 200).plain
    assert all(
        s in wide for s in ("streaming", "Qwen2.5", "tokens 1234", "17.5 tok/s", "tools 2/6", "1:15", "branch 2/3")
    )
    for width in (78, 60, 40):
        line = StatusLine.line(f, width).plain
        assert len(line) <= width and "streaming" in line and "Qwen" in line, (width, line)
    assert "tokens 1234" in StatusLine.line(f, 78).plain and "1:15" in StatusLine.line(f, 78).plain


async def test_samples_cut_off_by_a_killed_terminal_reopen_with_their_labels_and_counts(tmp_path: Path):
    """A run that never closed wrote no figures: its tokens are counted by the model that wrote it (unknown,
    not 0, under another), its tool calls read from its spans, and its time is not made up."""
    from start_tui.tui.session import SolveSession, open_engine

    settings = replace(SETTINGS, samples=3)
    session = SolveSession(settings, tmp_path / "sessions")
    session.swap_engine(*open_engine(settings, ScriptedBackend(*REPLIES)))
    streams = []  # held: a generator closed by the collector would end its run in order
    for run in session.start("Sum of the squares of 1 to 3?"):
        streams.append(run.events())
        for event in streams[-1]:
            if event.type == "code_finished":  # past its first call
                break
        assert not run.finished
    path = session.session_file  # the terminal is killed here: the runs' journals are all there is
    assert path is not None

    app = StartApp(settings, load_engine=False)
    async with app.run_test(size=(140, 30)):
        await app._open_traces(path)
        assert [line.split(" · ")[0] for line in app.session.labels()] == [f"{i}. sample {i}/3" for i in (1, 2, 3)]
        app._refresh_status()
        assert app.facts.tokens is None and app.facts.elapsed_s is None and app.facts.tool_calls == 1
        shown = StatusLine.line(app.facts, 140).plain
        assert "tokens ?" in shown and "0:00" not in shown
        await load_scripted(app, *REPLIES)  # the model that wrote them
        for i in range(3):
            app.session.current = i
            app._refresh_status()
            trace = app.branches[i].trace
            said = "".join(s.text for s in trace.spans if s.kind in ("model", "code"))
            assert app.facts.tokens == len(said) // 3 > 0  # the scripted model's count
    session.close()
