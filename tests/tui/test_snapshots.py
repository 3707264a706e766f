"""Snapshots of the main states, rendered from a recorded trace so they are deterministic.

Update after an intended visual change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the SVGs before committing them.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from start_tui.engine import Finished, HintLibrary, load_traces
from start_tui.engine.trace import trace_events
from start_tui.tui.app import StartApp
from start_tui.tui.screens.hint import HintScreen
from start_tui.tui.settings import Settings

RECORDED = Path(__file__).parents[1] / "data" / "sum-of-squares.jsonl"
SIZE = (120, 40)


class SnapshotApp(StartApp):
    def on_mount(self) -> None:
        super().on_mount()
        self.editor.cursor_blink = False  # a blinking cursor would make the snapshot depend on timing


def app_without_model(**kw) -> StartApp:
    return SnapshotApp(Settings(), load_engine=False, **kw)


def test_empty(snap_compare):
    assert snap_compare(app_without_model(), terminal_size=SIZE)


def test_streaming_with_panels(snap_compare):
    [trace] = load_traces(RECORDED)
    events = trace_events(trace)
    # up to the first code the model wrote after the last hint: a hint panel and a block being written
    hint = max(i for i, e in enumerate(events) if type(e).__name__ == "HintInserted")
    cut = next(i for i, e in enumerate(events) if i > hint and getattr(e, "kind", "") == "code") + 1

    async def stream_part(pilot) -> None:
        app = pilot.app
        app.editor.text = trace.problem
        await app.conversation.show([e for e in events[:cut] if not isinstance(e, Finished)])
        app.facts.state, app.facts.model, app.facts.tokens = "streaming", "Gemma 3 270m", 98
        app.facts.tool_calls, app.facts.max_tool_calls, app.facts.rounds, app.facts.max_rounds = 1, 6, 1, 1
        app._refresh_status()
        stream = app.conversation._stream
        for _ in range(200):  # the Markdown stream renders in its own task: let it catch up
            await pilot.pause()
            if stream is None or (not stream._pending and not stream._new_markup.is_set()):
                break
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    assert snap_compare(app_without_model(), terminal_size=SIZE, run_before=stream_part)


def test_finished_with_answer(snap_compare):
    assert snap_compare(app_without_model(open_path=RECORDED), terminal_size=SIZE)


def test_hint_input_open(snap_compare):
    async def open_hint(pilot) -> None:
        screen = HintScreen(HintLibrary.load(), "math")
        await pilot.app.push_screen(screen)
        for field in screen.query(Input):
            field.cursor_blink = False  # steady cursor: the snapshot must not depend on timing
        await pilot.pause()

    assert snap_compare(app_without_model(open_path=RECORDED), terminal_size=SIZE, run_before=open_hint)
