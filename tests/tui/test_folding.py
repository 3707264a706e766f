"""A long run folds its finished history while it streams and gets its real panels back afterwards."""

from __future__ import annotations

from start_tui.engine import Finished, load_traces
from start_tui.engine.events import Span
from start_tui.engine.trace import Trace, trace_events
from start_tui.tui.app import StartApp
from start_tui.tui.settings import Settings
from start_tui.tui.widgets.conversation import FOLD_CHUNK, LIVE_SEGMENTS, FoldedHistory
from start_tui.tui.widgets.segments import ExecutionPanel, FrozenThinking, HintPanel
from tests.conftest import DATA


def long_trace(repeats: int) -> Trace:
    """The recorded run's spans repeated: many thinking segments, hints and executions."""
    [recorded] = load_traces(DATA / "sum-of-squares.jsonl")
    body = [s for s in recorded.spans if s.kind != "prompt"]
    spans = [recorded.spans[0]] + [Span(s.kind, s.text, dict(s.meta)) for _ in range(repeats) for s in body]
    return Trace(id="long", problem=recorded.problem, spans=spans, meta=dict(recorded.meta))


def described(segments) -> list[tuple[str, int, int]]:
    return [(type(s).__name__, s.start_offset, s.end_offset) for s in segments]


async def test_streaming_folds_history_keeps_offsets_and_unfolds_into_real_panels():
    trace = long_trace(12)
    events = [e for e in trace_events(trace) if not isinstance(e, Finished)]
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=(100, 30)) as pilot:
        conversation = app.conversation
        await conversation.show(events)  # all at once, not folded: the reference
        await pilot.pause()
        reference = described(conversation.segments)
        assert len(reference) > LIVE_SEGMENTS + 2 * FOLD_CHUNK

        await conversation.clear()
        for i in range(0, len(events), 7):  # as a stream, in batches
            await conversation.show(events[i : i + 7], fold=True)
        await pilot.pause()
        blocks = list(conversation.query_children(FoldedHistory))
        assert len(blocks) >= 2
        assert len(conversation.children) < LIVE_SEGMENTS + FOLD_CHUNK + len(blocks) + 2
        assert described(conversation.segments) == reference  # branching sees every segment, in order

        folded_lines = blocks[0].virtual_size.height
        conversation.toggle_thinking()
        await pilot.pause()
        assert blocks[0].virtual_size.height < folded_lines  # hidden thinking leaves the folded blocks too
        conversation.toggle_thinking()

        await conversation.unfold()
        await pilot.pause()
        assert not conversation.query(FoldedHistory)
        assert described(conversation.segments) == reference
        panels = conversation.query(ExecutionPanel)
        assert len(panels) == sum(1 for kind, _, _ in reference if kind == "ExecutionPanel")
        assert all(p.status in ("ok", "error") and p.output for p in panels)
        assert len(conversation.query(HintPanel)) == sum(1 for kind, _, _ in reference if kind == "HintPanel")
        assert all(t.text for t in conversation.query(FrozenThinking))
