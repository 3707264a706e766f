"""Snapshots of the main states, rendered from a recorded trace so they are deterministic.

Update after an intended visual change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the SVGs before committing them.
"""

from __future__ import annotations

from pathlib import Path

from start_tui.engine import Finished, HintLibrary, load_traces
from start_tui.engine.trace import trace_events
from start_tui.tui.app import StartApp
from start_tui.tui.screens.hint import HintScreen
from start_tui.tui.settings import Settings

RECORDED = Path(__file__).parents[1] / "data" / "sum-of-squares.jsonl"
SIZE = (120, 40)


def app_without_model(**kw) -> StartApp:
    return StartApp(Settings(), load_engine=False, **kw)


def test_empty(snap_compare):
    assert snap_compare(app_without_model(), terminal_size=SIZE)


def test_streaming_with_panels(snap_compare):
    [trace] = load_traces(RECORDED)
    events = trace_events(trace)
    cut = max(i for i, e in enumerate(events) if type(e).__name__ == "HintInserted") + 2

    async def stream_part(pilot) -> None:
        app = pilot.app
        app.editor.text = trace.problem
        await app.conversation.show([e for e in events[:cut] if not isinstance(e, Finished)])
        app.facts.state, app.facts.model, app.facts.tokens = "streaming", "Gemma 3 270m", 98
        app.facts.tool_calls, app.facts.max_tool_calls, app.facts.rounds, app.facts.max_rounds = 1, 6, 1, 1
        app._refresh_status()
        await pilot.pause()

    assert snap_compare(app_without_model(), terminal_size=SIZE, run_before=stream_part)


def test_finished_with_answer(snap_compare):
    assert snap_compare(app_without_model(open_path=RECORDED), terminal_size=SIZE)


def test_hint_input_open(snap_compare):
    async def open_hint(pilot) -> None:
        pilot.app.push_screen(HintScreen(HintLibrary.load(), "math"))
        await pilot.pause()

    assert snap_compare(app_without_model(open_path=RECORDED), terminal_size=SIZE, run_before=open_hint)
