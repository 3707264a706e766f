"""The real app driven with Pilot, on the real embedded model: stream, panels, hints, stop, branch, save, reopen."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from start_tui.engine import load_traces
from start_tui.tui.app import StartApp
from start_tui.tui.screens.choose import ChooseScreen
from start_tui.tui.screens.hint import HintScreen
from start_tui.tui.screens.prompt import PromptScreen
from start_tui.tui.screens.settings import SettingsScreen
from start_tui.tui.settings import Settings
from start_tui.tui.widgets.conversation import Conversation
from start_tui.tui.widgets.items import ExecutionItem, HintItem
from start_tui.tui.widgets.segments import AnswerPanel, ExecutionPanel, FrozenThinking, HintPanel, ThinkingSegment
from tests.conftest import SUM_OF_SQUARES, TEST_MODEL

SIZE = (120, 40)


async def wait_until(pilot: Pilot, predicate: Callable[[], bool], timeout: float = 120.0, what: str = "") -> None:
    """Poll the app until `predicate` holds (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.05)


def make_app(**kw) -> StartApp:
    return StartApp(Settings(model=TEST_MODEL, max_tokens=400, rounds=1), **kw)


async def start(pilot: Pilot, app: StartApp, problem: str = SUM_OF_SQUARES) -> None:
    await wait_until(pilot, lambda: app.reasoner is not None, what="the model to load")
    app.editor.text = problem
    await pilot.press("ctrl+r")
    await wait_until(pilot, lambda: app._current_run() is not None, what="the run to start")


def run_of(app: StartApp):
    run = app._current_run()
    assert run is not None
    return run


@pytest.mark.model
async def test_a_problem_streams_with_hint_and_execution_panels_and_an_answer(sessions: Path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app)
        await wait_until(pilot, lambda: bool(app.query(ThinkingSegment)), what="thinking to stream")
        await wait_until(pilot, lambda: run_of(app).finished and not app._driving, what="the run to finish")
        await wait_until(
            pilot,
            lambda: bool(app.query(AnswerPanel)) == (run_of(app).trace.answer is not None),
            what="the real panels",
        )
        if run_of(app).trace.answer is not None:
            assert app.query_one(AnswerPanel).answer == run_of(app).trace.answer
        # only what is near the view is mounted: the first panels are there once the reader goes to the top
        conversation = app.query_one(Conversation)
        await wait_until(pilot, lambda: not conversation._stale, what="the view to settle")
        conversation.focus()
        await pilot.press("home")
        try:
            await wait_until(pilot, lambda: bool(app.query(HintPanel)) and bool(app.query(ExecutionPanel)), 60)
        except AssertionError:
            kinds = [type(i).__name__ for i in conversation.items[:6]]
            raise AssertionError(
                f"no hint or execution panel at the top: scroll_y {conversation.scroll_y}, "
                f"window {conversation._window}, first items {kinds}, answer {run_of(app).trace.answer!r}"
            ) from None
        hints = list(app.query(HintPanel))
        panels = list(app.query(ExecutionPanel))
        assert hints and "policy" in str(hints[0].title)
        # every block that ran has its outcome; a block written after the tool budget is "not run", and
        # only a block the token limit (or a loop stop) cut off is still "writing"
        done = ("ok", "error", "timeout", "not run")
        assert panels and all(p.status in done for p in panels[:-1])
        cut = run_of(app).trace.meta.get("finish_reason") in ("max_tokens", "loop")
        assert panels[-1].status in done or (panels[-1].status == "writing" and cut)
        assert "python · run 1 · " in str(panels[0].title)
        assert panels[0].code.strip() and "print" in panels[0].code
        # the session was autosaved while streaming and compacted at the end
        [saved] = load_traces(next(sessions.glob("*.jsonl")))
        assert saved.text == run_of(app).trace.text


@pytest.mark.model
async def test_a_hint_typed_mid_stream_lands_where_the_stream_was_paused():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app)
        run = run_of(app)
        await wait_until(pilot, lambda: run.trace.length > run.trace.prompt_length + 40, what="some thinking")
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HintScreen), what="the hint screen")
        await wait_until(pilot, lambda: run.status == "paused" and run not in app._driving, what="the pause")
        paused_at = run.trace.length
        before = run.trace.text
        await pilot.press(*"Let me check with Python.")
        await pilot.press("enter")
        await wait_until(pilot, lambda: run.finished and not app._driving, what="the run to finish")
        user = [s for s in run.trace.spans if s.kind == "hint" and s.meta["source"] == "user"]
        assert len(user) == 1
        start_of_hint = run.trace.offsets()[run.trace.spans.index(user[0])][0]
        assert start_of_hint == paused_at and run.trace.text.startswith(before)
        assert user[0].text.startswith(("Let me check with Python.", "\n# Let me check", "# Let me check"))
        # the typed hint is a panel of its own, or a comment of the code block it was typed into
        conversation = app.conversation
        index, item = next(
            (i, s)
            for i, s in enumerate(conversation.segments)
            if (isinstance(s, HintItem) and s.source == "user") or (isinstance(s, ExecutionItem) and s.user_hints)
        )
        await conversation.show_item(index)
        await wait_until(pilot, lambda: conversation.widget_of(item) is not None, what="the hint's panel in view")
        panel = conversation.widget_of(item)
        assert (isinstance(panel, HintPanel) and panel.source == "user") or (
            isinstance(panel, ExecutionPanel) and "hint by hand" in str(panel.title)
        )


@pytest.mark.model
async def test_escape_stops_the_run():
    app = StartApp(Settings(model=TEST_MODEL, max_tokens=2000, rounds=0, conjunctions=()))
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app, "What is 2**100 mod 7?")  # greedy: a long run of the embedded model
        run = run_of(app)
        await wait_until(pilot, lambda: run.trace.length > run.trace.prompt_length + 20, what="some text")
        app.conversation.focus()
        await pilot.press("escape")
        await wait_until(pilot, lambda: run.finished and not app._driving, timeout=30, what="the stop")
        assert run.trace.status == "stopped" and run.trace.meta["finish_reason"] == "stopped"


@pytest.mark.model
async def test_branch_from_an_earlier_segment_keeps_both_branches_and_they_save_and_reopen(tmp_path: Path):
    app = make_app()
    saved = tmp_path / "both.jsonl"
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app)
        first = run_of(app)
        await wait_until(pilot, lambda: first.finished and not app._driving, what="the first run")
        original = first.trace.to_json()
        app.conversation.focus()
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, ChooseScreen), what="the segment list")
        segments = app.conversation.segments
        index = next(i for i, s in enumerate(segments) if isinstance(s, ExecutionItem))
        cut = segments[index].end_offset
        app.screen.dismiss(index)  # the segment list: choose the first execution panel
        await wait_until(pilot, lambda: isinstance(app.screen, HintScreen), what="the branch hint screen")
        await pilot.press(*"Let me verify the formula.")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.branches) == 2, what="the branch")
        second = run_of(app)
        await wait_until(pilot, lambda: second.finished and not app._driving, what="the branch to finish")
        assert second.trace.text[:cut] == first.trace.text[:cut]
        assert second.trace.meta["parent"]["trace_id"] == first.trace.id
        assert first.trace.to_json() == original
        # both can be viewed
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, ChooseScreen), what="the branch list")
        app.screen.dismiss(0)
        await wait_until(pilot, lambda: app.current == 0, what="viewing branch 1")
        await wait_until(pilot, lambda: app.conversation.answer == first.trace.answer, what="branch 1 shown")
        # and saved
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), what="the save prompt")
        app.screen.query_one("#prompt-input").value = str(saved)
        await pilot.press("enter")
        await wait_until(pilot, saved.exists, what="the saved file")
    reopened = StartApp(Settings(), open_path=saved, load_engine=False)
    async with reopened.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(reopened.branches) == 2, what="the reopened branches")
        texts = [b.trace.text for b in reopened.branches]
        assert texts == [first.trace.text, second.trace.text]
        assert reopened.conversation.answer == second.trace.answer


@pytest.mark.model
async def test_branch_from_the_first_segment_of_a_128k_token_trace(tmp_path: Path):
    """The recorded run tiled to 128k tokens, opened: the branch list holds every segment, and a branch
    after the first one continues from exactly there, while the opened trace stays as it was."""
    from start_tui.engine.events import Span
    from start_tui.engine.trace import Trace, save_traces

    [recorded] = load_traces(Path(__file__).parents[1] / "data" / "sum-of-squares.jsonl")
    body = [s for s in recorded.spans if s.kind != "prompt"]
    app = StartApp(Settings(model=TEST_MODEL, max_tokens=24, rounds=0, conjunctions=()))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.reasoner is not None, what="the model to load")
        backend = app.reasoner.backend
        per_repeat = backend.count_tokens("".join(s.text for s in body))
        repeats = int(128_000 / per_repeat * 1.02)  # tiles join into slightly fewer tokens than they have apart
        spans = [recorded.spans[0]] + [Span(s.kind, s.text, dict(s.meta)) for _ in range(repeats) for s in body]
        long = Trace(id="long", problem=recorded.problem, spans=spans, meta=dict(recorded.meta))
        assert backend.count_tokens(long.text) >= 128_000
        save_traces(tmp_path / "long.jsonl", [long])
        await app._open_traces(tmp_path / "long.jsonl")
        conversation = app.conversation
        await wait_until(pilot, lambda: len(conversation.segments) > 4 * repeats, what="the trace shown")
        assert len(conversation.children) < 40  # widgets only near the viewport
        conversation.focus()
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, ChooseScreen), what="the segment list")
        segments = conversation.segments
        cut = segments[0].end_offset
        app.screen.dismiss(0)  # the first segment
        await wait_until(pilot, lambda: isinstance(app.screen, HintScreen), what="the branch hint screen")
        await pilot.press(*"Let me verify the formula.")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.branches) == 2, what="the branch")
        branch = run_of(app)
        await wait_until(pilot, lambda: branch.finished and not app._driving, what="the branch to finish")
        assert branch.trace.text[:cut] == long.text[:cut]
        assert "Let me verify the formula." in branch.trace.text[cut:]
        assert branch.trace.meta["parent"]["trace_id"] == long.id
        assert app.branches[0].trace.text == long.text
        assert conversation.segments[0].end_offset == cut  # the view shows the branch, from its start


async def test_a_killed_session_reopens_from_its_journal(tmp_path: Path):
    """What a killed terminal leaves behind (a journal without its final record) opens as a run."""
    from start_tui.engine.events import Span, Started, TextDelta
    from start_tui.engine.trace import TraceWriter

    path = tmp_path / "killed.jsonl"
    writer = TraceWriter(path, "k1")
    writer.write(Started("k1", SUM_OF_SQUARES, [Span("prompt", "Problem: x\nSolution:")], {"model": "m"}))
    writer.write(TextDelta(" The squares add up"))
    app = StartApp(Settings(), open_path=path, load_engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(app.branches), what="the opened trace")
        assert app.branches[0].trace.status == "incomplete"
        assert app.editor.text == SUM_OF_SQUARES
        await wait_until(pilot, lambda: bool(app.query(ThinkingSegment)), what="the replayed thinking")


async def test_keys_toggle_thinking_copy_and_help():
    app = StartApp(Settings(), open_path=Path(__file__).parents[1] / "data" / "sum-of-squares.jsonl", load_engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(app.query(AnswerPanel)), what="the replay")
        app.conversation.focus()
        await pilot.press("t")
        assert app.conversation.has_class("-hide-thinking")
        await wait_until(pilot, lambda: all(not seg.display for seg in app.query(ThinkingSegment)), what="hidden")
        await pilot.press("t")
        assert not app.conversation.has_class("-hide-thinking")
        await pilot.press("c")
        assert app.clipboard == app.conversation.answer
        await pilot.press("y")
        assert app.clipboard == app.conversation.last_execution.code
        await pilot.press("f1")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", what="the help screen")
        await pilot.press("escape")
        # an execution panel collapses and expands from the keyboard
        panel = app.query(ExecutionPanel).first()
        panel.query_one("CollapsibleTitle").focus()
        await pilot.press("enter")
        assert panel.collapsed
        await pilot.press("enter")
        assert not panel.collapsed


@pytest.mark.model
async def test_changing_settings_does_not_change_a_run_already_started(tmp_path, monkeypatch):
    """Through the settings screen: a change of the token limit makes a new reasoner on the same model
    and sandbox; a change of the sandbox timeout makes a new sandbox (the old one is closed) on the same
    model; neither touches a run already started."""
    monkeypatch.setenv("START_TUI_CONFIG", str(tmp_path / "config.toml"))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app)
        run = run_of(app)
        await wait_until(pilot, lambda: run.finished and not app._driving, what="the run to finish")
        backend, sandbox = app.reasoner.backend, app.sandbox

        async def change(key: str, value: str) -> None:
            await pilot.press("comma")
            await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen), what="the settings screen")
            app.screen.query_one(f"#set-{key}", Input).value = value
            await pilot.click("#save")
            await wait_until(pilot, lambda: not isinstance(app.screen, SettingsScreen), what="the screen to close")

        await change("max_tokens", "50")
        assert (run.config.max_tokens, run.config.sampling.max_tokens) == (400, 400)
        assert app.reasoner.config.max_tokens == 50
        assert app.reasoner.backend is backend and app.sandbox is sandbox and not app._loading

        await change("timeout_s", "3")
        await wait_until(pilot, lambda: not app._loading, what="the new sandbox")
        assert app.reasoner.backend is backend and app.sandbox is not sandbox
        assert app.sandbox.config.timeout_s == 3.0 and not sandbox.running
        assert "max_tokens = 50" in (tmp_path / "config.toml").read_text()


@pytest.mark.model
async def test_samples_stream_together_as_branches_with_a_live_tally(sessions: Path):
    app = StartApp(Settings(model=TEST_MODEL, max_tokens=160, rounds=1, samples=3))
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app)
        assert [b.label for b in app.branches] == ["sample 1/3", "sample 2/3", "sample 3/3"]
        await wait_until(pilot, lambda: all(b.run is not None and b.run.tokens_generated > 5 for b in app.branches))
        assert len(app._driving) == 3  # they stream at the same time, each on its own lane
        await pilot.press("right_square_bracket")  # view the second sample while it streams
        assert app.current == 1
        # its thinking, live or already finished (a sample whose first segment ended at a code block before
        # the switch shows it rendered, and then only panels)
        await wait_until(
            pilot,
            lambda: bool(app.query(ThinkingSegment) or app.query(FrozenThinking)),
            what="the second sample's text",
        )
        paused = app.branches[2].run
        assert paused is not None
        paused.pause()
        await wait_until(
            pilot, lambda: all(b.run is not None and b.run.finished for b in app.branches[:2]), what="two samples"
        )
        assert paused.status == "paused" and not paused.finished  # the others finished without it
        paused.resume()
        app._start_drive(paused)
        await wait_until(pilot, lambda: paused.finished and not app._driving, what="the third sample")
        await wait_until(pilot, lambda: "vote" in app.facts.vote or app.session.tally() is not None)
        tally = app.session.tally()
        assert tally is not None and sum(g.size for g in tally.groups) + len(tally.unanswered) == 3
        assert app.facts.vote.startswith("vote ")
        traces = load_traces(next(sessions.glob("*.jsonl")))
        assert len(traces) == 3 and len({t.meta["samples"]["set"] for t in traces}) == 1


@pytest.mark.model
async def test_a_long_prompt_says_it_is_being_read_and_esc_stops_it(sessions: Path):
    problem = "Which of these numbers is the largest? " + ", ".join(str(i * 7919 % 10007) for i in range(330))
    app = StartApp(Settings(model=TEST_MODEL, max_tokens=400, rounds=1, n_ctx=4096))
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app, problem)
        await wait_until(pilot, lambda: "reading the prompt" in app.facts.state, 60, "the reading to show")
        assert run_of(app).prefill is not None and run_of(app).tokens_generated == 0
        await pilot.press("escape")
        assert "stopping" in app.facts.state or run_of(app).finished
        t0 = time.monotonic()
        await wait_until(pilot, lambda: run_of(app).finished and not app._driving, 30, "the run to stop")
        assert time.monotonic() - t0 < 5  # at the next batch, not after the whole prompt and a reply
        assert run_of(app).trace.meta["finish_reason"] == "stopped" and run_of(app).tokens_generated == 0
        await wait_until(pilot, lambda: "stopping" not in app.facts.state, 5, "the stopped state")
