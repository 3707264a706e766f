"""The conversation view: every segment is data, widgets exist only near the viewport, and each one
lies exactly where the view says its item is, wherever the view is scrolled."""

from __future__ import annotations

import asyncio
import gc
import itertools

from textual import events
from textual.pilot import Pilot
from textual.widgets._collapsible import CollapsibleTitle

from start_tui.engine import Finished, load_traces
from start_tui.engine.events import Event, Span
from start_tui.engine.trace import Trace, trace_events
from start_tui.tui.app import StartApp
from start_tui.tui.settings import Settings
from start_tui.tui.widgets.cached import render_lines
from start_tui.tui.widgets.conversation import Conversation
from start_tui.tui.widgets.items import ExecutionItem, ThinkingItem
from start_tui.tui.widgets.segments import ExecutionPanel, FrozenThinking, thinking_renderable
from tests.conftest import DATA

SIZE = (100, 30)


def long_trace(repeats: int) -> Trace:
    """The recorded run's spans repeated: many thinking segments, hints and executions."""
    [recorded] = load_traces(DATA / "sum-of-squares.jsonl")
    body = [s for s in recorded.spans if s.kind != "prompt"]
    spans = [recorded.spans[0]] + [Span(s.kind, s.text, dict(s.meta)) for _ in range(repeats) for s in body]
    return Trace(id="long", problem=recorded.problem, spans=spans, meta=dict(recorded.meta))


def events_of(trace: Trace) -> list[Event]:
    return [e for e in trace_events(trace) if not isinstance(e, Finished)]


def described(conversation: Conversation) -> list[tuple[str, int, int]]:
    return [(type(i).__name__, i.start_offset, i.end_offset) for i in conversation.segments]


async def settle(pilot: Pilot, conversation: Conversation) -> None:
    """Let the line renderer, the layout and the window catch up."""
    for _ in range(3):
        await pilot.pause()
        await asyncio.sleep(0.1)
        await pilot.pause()
        await conversation._update_window()


def misplaced(conversation: Conversation) -> list[tuple[int, int, int]]:
    """Mounted widgets whose laid-out top is not where the view places their item: (item, want, got)."""
    out = []
    for item in conversation.segments:
        widget = conversation.widget_of(item)
        if widget is not None and widget.display:
            index = conversation.segments.index(item)
            want, got = conversation.item_top(index), widget.virtual_region.y
            if want != got:
                out.append((index, want, got))
    return out


async def stream(conversation: Conversation, events: list[Event]) -> None:
    for i in range(0, len(events), 7):
        await conversation.show(events[i : i + 7])


async def test_a_long_trace_keeps_a_bounded_window_of_widgets_and_every_segment_as_data():
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=SIZE) as pilot:
        conversation = app.conversation
        counts = {}
        for repeats in (6, 48):
            trace = long_trace(repeats)
            await conversation.show(events_of(trace))  # all at once: the reference
            reference = described(conversation)
            await conversation.clear()
            await stream(conversation, events_of(trace))
            await settle(pilot, conversation)
            assert described(conversation) == reference  # branching sees every segment, in order
            items = conversation.segments
            assert items[-1].end_offset == len(trace.text)
            for a, b in itertools.pairwise(items):  # in order, and nothing left out but a model's opening fence
                fence = isinstance(b, ExecutionItem) and a.end_offset < b.start_offset
                assert a.end_offset == b.start_offset or fence
            counts[repeats] = len(conversation.children)
            await conversation.clear()
        assert len(long_trace(48).spans) > 7 * len(long_trace(6).spans)
        assert counts[48] <= counts[6] + 4 < 40  # the widgets do not grow with the trace


async def test_every_widget_lies_where_the_view_places_its_item_wherever_it_is_scrolled():
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=SIZE) as pilot:
        conversation = app.conversation
        await stream(conversation, events_of(long_trace(30)))
        await settle(pilot, conversation)
        assert conversation.is_anchored and not misplaced(conversation)
        first_seen = conversation.widget_of(conversation.segments[0])
        assert first_seen is None  # far above the view: data only

        conversation.scroll_home(animate=False, immediate=True)
        await settle(pilot, conversation)
        assert isinstance(conversation.widget_of(conversation.segments[0]), FrozenThinking)
        assert not misplaced(conversation)

        middle = len(conversation.segments) // 2
        await conversation.show_item(middle)
        await settle(pilot, conversation)
        assert conversation.widget_of(conversation.segments[middle]) is not None and not misplaced(conversation)

        conversation.toggle_thinking()  # hidden thinking takes no room
        await settle(pilot, conversation)
        assert not misplaced(conversation)
        conversation.toggle_thinking()

        await pilot.resize_terminal(70, 24)  # another width: heights are worked out anew
        await settle(pilot, conversation)
        await conversation.show_item(middle)
        await settle(pilot, conversation)
        assert not misplaced(conversation)
        conversation.scroll_end(animate=False, immediate=True)
        await settle(pilot, conversation)
        assert not misplaced(conversation)


async def test_home_lands_at_the_top_at_once_and_stays_there_whatever_scroll_was_pending():
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=SIZE) as pilot:
        conversation = app.conversation
        await stream(conversation, events_of(long_trace(30)))
        await settle(pilot, conversation)
        app.animation_level = "full"  # as in a terminal (a test app has none)
        for _ in range(4):
            # a panel whose title is the view's last line, focused
            panel = [w for w in conversation.query(ExecutionPanel) if w.region.height][-1]
            view = conversation.scrollable_content_region.height
            conversation.scroll_to(y=panel.virtual_region.y - view + 1, animate=False, immediate=True)
            await settle(pilot, conversation)
            panel = [w for w in conversation.query(ExecutionPanel) if w.region.height][-1]
            panel.query_one(CollapsibleTitle).focus()
            await settle(pilot, conversation)
            # what focusing and unfolding it ask for, after the next refresh: a scroll to centre it, a
            # scroll to show its body; Home comes before they are done
            conversation.scroll_to(y=conversation.scroll_y + 3)
            panel.collapsed = not panel.collapsed
            app.post_message(events.Key("home", None))
            await pilot.pause()
            assert conversation.scroll_y == 0  # not animated over a second, not deferred
            await settle(pilot, conversation)
            await asyncio.sleep(0.3)  # any animation would have moved the view by now
            await settle(pilot, conversation)
            assert conversation.scroll_y == 0 and not misplaced(conversation)
            assert isinstance(conversation.widget_of(conversation.segments[0]), FrozenThinking)
            await pilot.press("end")
            await settle(pilot, conversation)
            assert conversation.scroll_y == conversation.max_scroll_y > 0 and conversation.is_anchored


async def test_a_jump_draws_the_new_view_before_it_removes_what_it_left_and_holds_the_collector_meanwhile():
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=SIZE) as pilot:
        conversation = app.conversation
        await stream(conversation, events_of(long_trace(30)))
        await settle(pilot, conversation)
        pinned = conversation._pinned()  # the segment still being written stays mounted
        left = [w for item, w in conversation._widgets.items() if item not in pinned]
        assert left and gc.isenabled()

        conversation.jump_to(0)
        assert not gc.isenabled()  # no full collection in the middle of the jump
        await conversation._update_window()
        first = conversation.widget_of(conversation.segments[0])
        assert isinstance(first, FrozenThinking)
        # what the jump left is hidden, not yet removed (a removal waits for each widget's task)
        assert all(w.is_attached and not w.display for w in left)
        await settle(pilot, conversation)
        assert not any(w.is_attached for w in left) and gc.isenabled()
        assert conversation.scroll_y == 0 and not misplaced(conversation)

        gc.disable()  # a collector the program turned off stays off
        try:
            conversation.scroll_end(animate=False, immediate=True)
            await settle(pilot, conversation)
            conversation.jump_to(0)
            await settle(pilot, conversation)
            assert not gc.isenabled() and conversation.scroll_y == 0 and not misplaced(conversation)
        finally:
            gc.enable()


async def test_the_view_gaining_or_losing_the_focus_looks_as_a_restyle_of_everything_in_it_would():
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=SIZE) as pilot:
        conversation = app.conversation
        await stream(conversation, events_of(long_trace(3)))  # the last segment still streaming
        conversation.scroll_to(y=conversation.max_scroll_y - 12, animate=False, immediate=True)
        await settle(pilot, conversation)
        panel = next(w for w in conversation.query(ExecutionPanel) if w.region.height)
        title = panel.query_one(CollapsibleTitle)
        shots = set()
        for target in (conversation, title, conversation):
            target.focus()
            await settle(pilot, conversation)
            ours = app.export_screenshot()
            app.update_styles(conversation)  # what Textual does at a focus change: the view and all in it
            await settle(pilot, conversation)
            assert app.export_screenshot() == ours
            shots.add(ours)
        assert len(shots) == 2  # the focus shows


async def test_a_panel_collapsed_far_up_is_still_collapsed_when_its_widget_is_made_again():
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=SIZE) as pilot:
        conversation = app.conversation
        await stream(conversation, events_of(long_trace(30)))
        conversation.scroll_home(animate=False, immediate=True)
        await settle(pilot, conversation)
        panel = next(w for w in conversation.query(ExecutionPanel))
        item = panel.item
        panel.collapsed = True
        await settle(pilot, conversation)
        assert item.collapsed and not misplaced(conversation)
        conversation.scroll_end(animate=False, immediate=True)
        await settle(pilot, conversation)
        assert conversation.widget_of(item) is None  # gone with the viewport
        conversation.scroll_home(animate=False, immediate=True)
        await settle(pilot, conversation)
        again = conversation.widget_of(item)
        assert isinstance(again, ExecutionPanel) and again is not panel and again.collapsed
        assert not misplaced(conversation)


async def test_search_finds_text_anywhere_in_the_trace_and_brings_it_into_view():
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=SIZE) as pilot:
        conversation = app.conversation
        trace = long_trace(30)
        await stream(conversation, events_of(trace))
        await settle(pilot, conversation)
        term = "i % 2 == 0"  # code the model wrote, in every repetition
        expected = sum(i.searchable().lower().count(term) for i in conversation.segments)
        assert expected >= 30
        assert conversation.search(term.upper()) == expected  # any case
        match = await conversation.next_match()
        assert match is not None and conversation.match_position == (1, expected)
        await settle(pilot, conversation)
        widget = conversation.widget_of(conversation.segments[match.item])
        assert isinstance(widget, ExecutionPanel) and widget.code_view._term == term
        assert widget.virtual_region.y <= conversation.scroll_y + conversation.size.height  # in view
        last = await conversation.next_match(-1)
        assert last is not None and conversation.match_position == (expected, expected)  # wraps around
        assert last.item > match.item
        assert conversation.search("no such text anywhere") == 0


async def test_finished_thinking_is_drawn_from_lines_made_off_the_event_loop():
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=SIZE) as pilot:
        conversation = app.conversation
        await stream(conversation, [*events_of(long_trace(4)), Finished("eos")])  # every segment finished
        await settle(pilot, conversation)
        frozen = list(conversation.query(FrozenThinking))
        assert frozen
        for widget in frozen:
            width = widget.size.width
            ready = widget.lines_for(width)
            assert ready is not None  # the renderer thread made them
            assert ready == render_lines(app.console, thinking_renderable(widget.item.text), width)
        thinking = [i for i in conversation.segments if isinstance(i, ThinkingItem)]
        assert all(conversation.cache.get(i, conversation._line_width) is not None for i in thinking)


async def test_slash_opens_the_search_and_n_and_shift_n_step_through_the_matches():
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=SIZE) as pilot:
        conversation = app.conversation
        await conversation.show_trace(long_trace(20))
        await settle(pilot, conversation)
        conversation.focus()
        await pilot.press("slash")
        assert app.search_bar.is_open and app.focused is app.search_bar.input
        await pilot.press(*"i % 2 == 0")
        total = conversation.match_position[1]
        assert total == 40  # two code blocks in each of the 20 repetitions
        await pilot.press("enter")  # to the first match, and back to the conversation
        assert conversation.match_position == (1, total) and app.focused is conversation
        await pilot.press("n", "n")
        assert conversation.match_position == (3, total)
        await pilot.press("N")
        assert conversation.match_position == (2, total)
        assert app.search_bar.is_open and "2/40" in str(app.search_bar.query_one("#search-count").render())
        await settle(pilot, conversation)
        item = conversation.segments[conversation._matches[1].item]
        assert conversation.widget_of(item) is not None  # the match is in view, on a widget
        await pilot.press("slash", "escape")
        assert not app.search_bar.is_open and app.focused is conversation
        assert conversation.match_position == (0, 0)  # closing the bar ends the search
