"""The view of one run: engine events in, items out, widgets only near the viewport.

Every segment of the trace is an item (`items.py`): data with its offsets and its box height at
this width. Widgets are made only for the items within `WINDOW_SCREENS` screens of the viewport;
a spacer above them stands for every item before, one below for every item after. So a frame costs
the same at 128k tokens as at 8k: Textual lays out a few dozen widgets, not the whole trace, and
everything that reads the trace (branching, search, copy, export) reads the items.

Thinking streams into one live `ThinkingSegment` through `MarkdownStream`. When a segment ends
(at a panel, or past `SPLIT_CHARS` at a paragraph break), its Markdown is rendered to lines by the
`LineRenderer` thread, not on the event loop, and swapped in as a `FrozenThinking` when they come.
Finished segments that have no lines yet show their plain text until they do.

Where an item lies is worked out as Textual's vertical layout would place it: box heights (measured
on the widget once it was laid out, estimated before) and margins, of which two adjacent ones
collapse into the larger. Hidden thinking (`t`) takes no room and no margin.

The view keeps little for the garbage collector to walk as a trace grows: items are a few objects
each, and finished lines are packed (`lines.py`). An earlier version froze the heap at each segment's
end instead (`gc.freeze`); with widgets now made and dropped as the viewport moves, frozen widgets in
reference cycles would never have been freed.

A jump (Home, a search match, a branch point) is drawn first and tidied after: the widgets it leaves
are hidden at once and removed with the margin's mounting, once the new view is on screen, and the
garbage collector waits meanwhile (`jump_to`, `collector.py`), so neither a removal nor a full
collection lands between the key and the frame.
"""

from __future__ import annotations

import asyncio
import bisect
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual._styles_cache import StylesCache
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Collapsible, Static
from textual.widgets._markdown import MarkdownStream

from start_tui.engine.events import (
    AnswerFound,
    CodeClosed,
    CodeFinished,
    CodeOpened,
    CodeStarted,
    Event,
    Finished,
    HintInserted,
    Started,
    TextDelta,
)
from start_tui.engine.reasoner import OMITTED, output_body
from start_tui.engine.trace import Trace, trace_events
from start_tui.tui import graphics
from start_tui.tui.collector import CollectorHold
from start_tui.tui.widgets.items import AnswerItem, ExecutionItem, HintItem, Item, ThinkingItem
from start_tui.tui.widgets.lines import LineCache, LineRenderer, Packed
from start_tui.tui.widgets.segments import (
    AnswerPanel,
    ExecutionPanel,
    FrozenThinking,
    HintPanel,
    ThinkingSegment,
)
from start_tui.visible import visible, visible_event

SPLIT_CHARS = 2000
"""A thinking segment longer than this starts a new one at the next paragraph break."""

WINDOW_SCREENS = 1.0
"""Items within this many screens above and below the viewport have widgets."""

FILL_AFTER_S = 0.03
"""After a jump only what is in view is mounted; the margin around it once that is drawn (checked this often)."""

THINKING_MARGIN = 2
"""Columns a thinking widget's side margins take (its lines are rendered this much narrower)."""

ItemWidget = FrozenThinking | ThinkingSegment | HintPanel | ExecutionPanel | AnswerPanel


class Spacer(Widget):
    """Stands for the items without widgets: their height, and nothing to lay out."""

    DEFAULT_CSS = "Spacer { height: 0; width: 1fr; display: none; }"

    def set_height(self, height: int) -> None:
        if self.styles.height is None or self.styles.height.value != height:
            self.styles.height = height
        self.display = height > 0


@dataclass
class Match:
    item: int
    """Index of the item in `Conversation.items`."""
    at: int
    """Character offset of the match in the item's searchable text."""


class Conversation(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    Conversation { height: 1fr; padding: 0 0 1 0; }
    Conversation .problem { margin: 1 1 0 1; padding: 0 1; border-left: thick $secondary; text-style: bold; }
    Conversation.-hide-thinking .thinking { display: none; }
    """
    # The scroll keys act when the key reaches the app (priority), not after it has gone through the
    # focused panel's queue and bubbled back up through the view's, the screen's and the app's, each
    # behind the stream's batches and frames. They apply only while the focus is in the view.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_home", "Top", show=False, priority=True),
        Binding("end", "scroll_end", "Bottom", show=False, priority=True),
        Binding("pageup", "page_up", "Page up", show=False, priority=True),
        Binding("pagedown", "page_down", "Page down", show=False, priority=True),
        Binding("up", "scroll_up", "Scroll up", show=False, priority=True),
        Binding("down", "scroll_down", "Scroll down", show=False, priority=True),
    ]

    class LinesReady(Message):
        """The line renderer finished an item (posted from its thread)."""

        def __init__(self, item: ThinkingItem, width: int, text: str, lines: Packed) -> None:
            super().__init__()
            self.item, self.width, self.text, self.lines = item, width, text, lines

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: list[Item] = []
        self.text_offset = 0
        self.answer: str | None = None
        self.cache = LineCache()
        self._renderer: LineRenderer | None = None
        self._lock = asyncio.Lock()
        """Held by whatever mounts or removes widgets: a batch of events, the window, a clear."""
        self._jumps = 0
        """How many times the view jumped (`jump_to`): a scroll asked for before a jump is dropped."""
        self._filling = False
        """After a jump: the window holds what is in view only, until the margin is filled."""
        self._retired: list[ItemWidget] = []
        """Widgets a jump left behind: hidden at once, removed once the new view is drawn."""
        self._own_collector: CollectorHold | None = None
        self._hold: int | None = None
        """The hold on the collector while a jump is drawn (`jump_to`)."""
        self._reset()

    def _reset(self) -> None:
        self.items = []
        self._index: dict[Item, int] = {}
        self._widgets: dict[Item, ItemWidget] = {}
        self._pinned_area: set[Item] = set()
        """Items whose widgets sit after the bottom spacer: the one being written, or just finished."""
        self._problem: Static | None = None
        self._top, self._bottom = Spacer(), Spacer()
        self._thinking: ThinkingItem | None = None
        """The thinking item being written (the last item), if any."""
        self._live: ThinkingSegment | None = None
        self._stream: MarkdownStream | None = None
        self._unwritten = ""
        """Text of the live widget's item not yet written to its stream."""
        self._exec: ExecutionItem | None = None
        """The execution item still being written or run (the last item), if any."""
        self._tops: list[int] = []
        self._bottoms: list[int] = []
        self._valid = 0
        """Geometry of items[:_valid] is up to date."""
        self._window = (0, 0)
        self._laid_out_width = 0
        """The width the heights and the requested lines are for."""
        self._stale = True
        """The window must be synced: an item came, ended or changed, or the view moved."""
        self._queued = False
        """A sync is queued (`_schedule`)."""
        self._term = ""
        self._matches: list[Match] = []
        self._match = -1
        self.text_offset = 0
        self.answer = None
        self.cache.clear()

    # -- the trace as data ----------------------------------------------------------------------
    @property
    def segments(self) -> list[Item]:
        """Every segment in order, with or without a widget."""
        return self.items

    @property
    def last_execution(self) -> ExecutionItem | None:
        return next((i for i in reversed(self.items) if isinstance(i, ExecutionItem)), None)

    @property
    def hide_thinking(self) -> bool:
        return self.has_class("-hide-thinking")

    def widget_of(self, item: Item) -> ItemWidget | None:
        return self._widgets.get(item)

    @property
    def _width(self) -> int:
        return self.scrollable_content_region.width

    @property
    def _line_width(self) -> int:
        return max(1, self._width - THINKING_MARGIN)

    # -- mounting, clearing ---------------------------------------------------------------------
    def on_mount(self) -> None:
        self._renderer = LineRenderer(self.app.console, self.cache.styles, self._rendered)

    def on_unmount(self) -> None:
        self._release_hold()
        if self._renderer is not None:
            self._renderer.close()

    def on_resize(self) -> None:
        self._schedule()
        self.call_after_refresh(self._follow)

    def _check_width(self) -> None:
        """At a new width (a resized terminal, the scrollbar showing up) every finished segment is
        rendered again, those near the viewport first; heights are known or estimated anew."""
        if self._width == self._laid_out_width or not self._width:
            return
        self._laid_out_width = self._width
        self._valid = 0
        self._stale = True
        if self._renderer is None:
            return
        self._renderer.cancel_all()
        a, b = self._window
        near = set(self.items[a:b])
        finished = [i for i in self.items if isinstance(i, ThinkingItem) and i is not self._thinking]
        for item in [i for i in finished if i not in near] + [i for i in finished if i in near]:
            self._request_lines(item)  # the last asked for is rendered first

    def _follow(self) -> None:
        # Anchor only once the content overflows: Textual 8.2's anchored layout does not clamp the
        # scroll offset, so content shorter than the view would be pushed down (negative scroll). A
        # reader who scrolled (Textual releases the anchor then) is left where they are.
        if self.is_anchored or self._anchor_released:
            return
        if self.virtual_size.height > self.scrollable_content_region.height:
            self.anchor()

    async def clear(self) -> None:
        async with self._lock:
            await self._clear()

    async def _clear(self) -> None:
        if self._stream is not None:
            await self._stream.stop()
        if self._renderer is not None:
            self._renderer.cancel_all()
        self._reset()
        self._retired = []
        await self.remove_children()
        self.anchor(False)
        self.scroll_home(animate=False, immediate=True)
        self._anchor_released = False  # a new trace: followed from its start until the reader scrolls

    async def show_trace(self, trace: Trace) -> None:
        async with self._lock:
            await self._clear()
            await self._show(trace_events(trace))

    # -- events in ------------------------------------------------------------------------------
    async def show(self, events: list[Event]) -> None:
        """Take a batch of engine events: the items grow, and the widgets near the viewport follow."""
        async with self._lock:
            await self._show(events)

    async def _show(self, events: list[Event]) -> None:
        for event in map(visible_event, events):  # the model's and its code's text never drives the terminal
            if isinstance(event, TextDelta) and event.kind == "model":
                self._write_thinking(event.text)
            elif isinstance(event, Started):
                await self._show_started(event)
            elif isinstance(event, CodeOpened):
                self.text_offset += len(event.text)  # the model's fence: the panel shows the block
                self._open_exec(event.template)
            elif isinstance(event, CodeClosed):
                self.text_offset += len(event.text)
                if self._exec is not None:
                    self._exec.end_offset = self.text_offset
            elif isinstance(event, TextDelta):
                item = self._exec or self._open_exec()
                self._add_code(item, event.text)
            elif isinstance(event, HintInserted) and self._exec is not None and not event.opens_code:
                item = self._exec  # a hint inside a code block is a comment of the block
                item.user_hints += 1
                self._add_code(item, event.text)
            elif isinstance(event, HintInserted):
                self._end_thinking()
                start = self.text_offset
                self.text_offset += len(event.text)  # a code block it opens comes as CodeOpened
                self._append(
                    HintItem(
                        start,
                        self.text_offset,
                        text=event.text,
                        source=event.source,
                        category=event.category,
                        trigger=event.trigger,
                    )
                )
            elif isinstance(event, CodeStarted):
                item = self._exec or self._open_exec(event.code)
                item.index, item.status = event.index, "running"
                item.title = f"python · run {event.index} · running…" + _by_hand(item)
                self._changed(item)
            elif isinstance(event, CodeFinished):
                self._finish_exec(self._exec or self._open_exec(), event)
            elif isinstance(event, AnswerFound):
                self._end_thinking()
                self.answer = event.answer
                self._append(AnswerItem(self.text_offset, self.text_offset, answer=event.answer))
            elif isinstance(event, Finished):
                self._end_thinking()
                if self._exec is not None:  # the run ended inside a code block: it never ran
                    self._exec.status = "not run"
                    why = event.reason.replace("_", " ")
                    self._exec.title = f"python · not run · the run ended ({why})" + _by_hand(self._exec)
                    self._changed(self._exec)
                    self._exec = None
        await self._write_live()
        if self._stale:  # a batch that only adds to the live text changes nothing else
            # mounting is the view's own work, in its own queue: the app's handler (and a key
            # behind it) does not wait for it
            self._schedule()
        self.call_after_refresh(self._follow)

    async def _show_started(self, event: Started) -> None:
        await self._clear()
        self._problem = Static(event.problem.strip(), classes="problem")
        await self.mount_all([self._problem, self._top, self._bottom])
        prompt = [s for s in event.spans if s.kind == "prompt"]
        self.text_offset = sum(len(s) for s in prompt)
        rest = event.spans[len(prompt) :]
        if rest:  # a branch: show the kept prefix as it was
            prefix = Trace(id=event.trace_id, problem=event.problem, spans=list(event.spans), meta={})
            replay = trace_events(prefix)[1:]
            await self._show([e for e in replay if not isinstance(e, Finished)])

    def _append(self, item: Item) -> None:
        self._index[item] = len(self.items)
        self.items.append(item)
        self._stale = True

    def _changed(self, item: Item) -> None:
        """The item's content changed: its widget shows it, and its height is measured again."""
        item.forget_heights()
        self._invalidate(item)
        widget = self._widgets.get(item)
        if isinstance(widget, ExecutionPanel):
            widget.refresh_item()

    def _add_code(self, item: ExecutionItem, text: str) -> None:
        item.code += text
        if item.user_hints and not item.title.endswith(" · hint by hand"):
            item.title += " · hint by hand"
        self.text_offset += len(text)
        item.end_offset = self.text_offset
        self._changed(item)

    def _write_thinking(self, text: str) -> None:
        while text:
            item = self._thinking
            if item is None:
                item = self._thinking = ThinkingItem(self.text_offset, self.text_offset)
                self._append(item)
            part = text
            if len(item.text) + len(text) > SPLIT_CHARS:
                cut = text.rfind("\n\n")
                if cut >= 0:
                    part = text[: cut + 2]
            item.text += part
            if self._live is not None and self._live.item is item:
                self._unwritten += part
            self.text_offset += len(part)
            item.end_offset = self.text_offset
            text = text[len(part) :]
            if text:
                self._end_thinking()

    def _end_thinking(self) -> None:
        """The thinking item being written is finished: its lines are asked for, off the UI thread."""
        item = self._thinking
        if item is None:
            return
        self._thinking = None
        self._invalidate(item)
        self._request_lines(item)

    async def _write_live(self) -> None:
        """Write the new thinking text to the live widget; retire it when its item ended."""
        if self._live is not None and self._live.item is not self._thinking:
            if self._stream is not None:
                await self._stream.write(self._unwritten)
                await self._stream.stop()
            self._stream, self._live, self._unwritten = None, None, ""
            self._stale = True
            release_dropped_widgets()  # the Markdown stream dropped blocks all along
        item = self._thinking
        if item is not None and self._live is None:
            self._live = ThinkingSegment(item)
            self._widgets[item] = self._live
            self._pinned_area.add(item)
            await self.mount(self._live)
            self._stream = ThinkingSegment.get_stream(self._live)
            self._unwritten = item.text
            self._stale = True
        if self._unwritten and self._stream is not None:
            text, self._unwritten = self._unwritten, ""
            await self._stream.write(text)

    def _open_exec(self, code: str = "") -> ExecutionItem:
        self._end_thinking()
        item = ExecutionItem(self.text_offset, self.text_offset, code=code)
        self._exec = item
        self._append(item)
        return item

    def _finish_exec(self, item: ExecutionItem, event: CodeFinished) -> None:
        item.index = event.index
        item.status = (
            "not run" if not event.executed else "timeout" if event.timed_out else "ok" if event.ok else "error"
        )
        item.title = f"python · run {event.index} · {item.status} · {event.duration_s * 1000:.0f} ms" + _by_hand(item)
        item.output = output_body(event.output_text)
        for f in event.figures:  # where each figure the model was told of lies (the panel's reader opens it)
            if f.get("path"):
                line = f"[figure {f['number']}: {f['width']}x{f['height']}, saved]"
                item.output = item.output.replace(line, f"{line} {visible(f['path'])}", 1)
                if graphics.drawable(str(f["path"])):
                    item.figures.append(str(f["path"]))
        if cut := OMITTED.search(item.output):  # the panel shows what the model read, so it says so
            item.title += f" · the model read it cut ({int(cut.group(1)):,} characters left out)"
        self.text_offset += len(event.output_text)
        item.end_offset = self.text_offset
        self._exec = None
        self._changed(item)

    # -- lines of finished thinking -------------------------------------------------------------
    def _rendered(self, item: ThinkingItem, width: int, text: str, lines: Packed) -> None:
        self.post_message(self.LinesReady(item, width, text, lines))  # from the renderer's thread

    def _request_lines(self, item: ThinkingItem) -> None:
        if self._renderer is not None and self._laid_out_width and self.cache.get(item, self._line_width) is None:
            self._renderer.request(item, self._line_width)

    async def on_conversation_lines_ready(self, message: LinesReady) -> None:
        item = message.item
        if message.text != item.text or message.width != self._line_width or self._index.get(item) is None:
            return  # the item changed, the view was resized or cleared meanwhile
        self.cache.put(item, message.width, message.lines)
        widget = self._widgets.get(item)
        # a Markdown widget keeps its own height until it is swapped for these lines
        if not isinstance(widget, ThinkingSegment) and item.heights.get(self._width) != len(message.lines):
            item.heights[self._width] = len(message.lines)
            self._invalidate(item)
        if isinstance(widget, FrozenThinking):
            widget.ready[message.width] = message.lines.unpack(self.cache.styles)
            widget.update(widget.renderable)
        if isinstance(widget, ThinkingSegment | FrozenThinking) or self._stale:
            self._schedule()  # one sync for however many items came meanwhile

    # -- geometry -------------------------------------------------------------------------------
    def _invalidate(self, item: Item) -> None:
        index = self._index.get(item)
        if index is not None:
            self._valid = min(self._valid, index)
            self._stale = True

    def _hidden(self, item: Item) -> bool:
        return isinstance(item, ThinkingItem) and self.hide_thinking

    def _margins(self, item: Item) -> tuple[int, int]:
        if isinstance(self._widgets.get(item), ThinkingSegment):
            return (0, 0)  # the live Markdown widget keeps its last paragraph's margin inside
        return item.margin

    def _height(self, item: Item) -> int:
        """The item's box height at this width: measured, worked out from its lines, or estimated
        (and kept, until its lines come or its widget is measured)."""
        w = self._width
        known = item.heights.get(w)
        if known is not None:
            return known
        height = self._estimate(item, w)
        if item is not self._thinking and item is not self._exec:  # a finished item's estimate stands
            item.heights[w] = height
        return height

    def _estimate(self, item: Item, w: int) -> int:
        if isinstance(item, ThinkingItem):
            lines = self.cache.get(item, self._line_width)
            return len(lines) if lines is not None else _text_lines(item.text, self._line_width)
        inner = max(1, w - 7)  # margins, the thick left border, the padding and the contents' indent
        if isinstance(item, HintItem):
            return 1 if item.collapsed else 2 + _text_lines(item.shown, inner)
        if isinstance(item, ExecutionItem):
            code, output = _text_lines(item.code.rstrip("\n"), inner), _text_lines(item.output, inner)
            pictures = len(item.figures) * (graphics.FIGURE_ROWS + 1)
            return 1 if item.collapsed else 3 + code + output + pictures
        return 3  # an answer: one line between two borders

    def _geometry(self) -> tuple[list[int], list[int]]:
        """Box top and bottom of every item, counted from the end of the problem's box."""
        tops, bottoms = self._tops, self._bottoms
        del tops[self._valid :], bottoms[self._valid :]
        cursor, prev_b = 0, 0
        last = self._last_visible(len(tops))
        if last is not None:  # resume after the last visible item already placed
            cursor, prev_b = bottoms[last], self._margins(self.items[last])[1]
        for item in self.items[len(tops) :]:
            if self._hidden(item):
                tops.append(cursor)
                bottoms.append(cursor)
                continue
            top_margin, bottom_margin = self._margins(item)
            top = cursor + max(prev_b, top_margin)
            cursor = top + self._height(item)
            tops.append(top)
            bottoms.append(cursor)
            prev_b = bottom_margin
        self._valid = len(self.items)
        return tops, bottoms

    def _last_visible(self, end: int, start: int = 0) -> int | None:
        """The last item before `end` (and from `start`) that takes room."""
        for i in range(end - 1, start - 1, -1):
            if not self._hidden(self.items[i]):
                return i
        return None

    def _origin(self) -> int:
        """Where the items start in the scrolled content: below the problem's box."""
        if self._problem is None:
            return 0
        return 1 + max(1, self._problem.outer_size.height)  # its top margin and its box

    def segment_in_view(self) -> int | None:
        """The segment at the top of the viewport; the last one while the view shows the end of the trace."""
        if not self.items:
            return None
        if self._following() or self.scroll_y >= self.max_scroll_y - 1:
            return len(self.items) - 1
        _, bottoms = self._geometry()
        view = round(self.scroll_y) - self._origin()
        return min(bisect.bisect_right(bottoms, view), len(self.items) - 1)

    def item_top(self, index: int) -> int:
        """The content line where item `index` starts (its box top)."""
        tops, _ = self._geometry()
        return self._origin() + tops[index]

    # -- the window -----------------------------------------------------------------------------
    def _pinned(self) -> list[Item]:
        """Items whose widgets stay mounted wherever the viewport is: the one being written."""
        return [i for i in (self._thinking, self._exec) if i is not None and i in self._widgets]

    def _following(self) -> bool:
        return self.is_anchored and not self._anchor_released

    def _schedule(self) -> None:
        """Sync the window soon, in the view's own queue (one sync pending at most; it waits for the lock)."""
        self._stale = True
        if not self._queued:
            self._queued = True
            self.call_later(self._update_window)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if round(old) != round(new) and self.items:
            self._schedule()

    def _fill(self, tries: int = 10) -> None:
        laid_out = all(w.size for i, w in self._widgets.items() if not self._hidden(i))
        if not laid_out and tries > 1:  # not drawn yet: mounting more now would only delay the frame
            self.set_timer(FILL_AFTER_S, lambda: self._fill(tries - 1))
            return
        self._filling = False
        self._release_hold()
        self._schedule()

    async def _update_window(self) -> None:
        self._queued = False
        async with self._lock:
            await self._sync_window()

    async def _sync_window(self) -> None:
        """Mount the widgets of the items near the viewport, remove the others, size the spacers."""
        self._stale = True
        while self._stale:
            self._stale = False
            await self._sync_once()

    def _wanted(
        self, tops: list[int], bottoms: list[int], history: int, screens: float = WINDOW_SCREENS
    ) -> tuple[int, int]:
        """The history items within `screens` screens around the viewport: [a, b)."""
        if history == 0:
            return (0, 0)
        height = max(1, self.scrollable_content_region.height)
        margin = math.ceil(height * screens)
        # following: the bottom of the content (the live part comes below); else where the user scrolled
        view = bottoms[history - 1] - height if self._following() else round(self.scroll_y) - self._origin()
        lo, hi = view - margin, view + height + margin
        a = min(bisect.bisect_right(bottoms, lo, 0, history), history - 1)
        b = max(bisect.bisect_left(tops, hi, 0, history), a + 1)
        return (a, b)

    async def _sync_once(self) -> None:
        if self._problem is None or not self._width:
            return
        self._check_width()
        pinned = self._pinned()
        history = len(self.items) - len(pinned)
        # widgets of items no longer being written go back between the spacers, in order
        for item in sorted(self._pinned_area - set(pinned), key=self._index.__getitem__):
            self._pinned_area.discard(item)
            if (widget := self._widgets.get(item)) is not None:
                self.move_child(widget, before=self._bottom)
        tops, bottoms = self._geometry()
        a, b = self._wanted(tops, bottoms, history, 0 if self._filling else WINDOW_SCREENS)
        a0, b0 = self._window
        jump = not (a0 < b and a < b0)
        if not jump:  # still in reach of what is mounted: widgets go only past twice the margin
            keep_a, keep_b = self._wanted(tops, bottoms, history, 2 * WINDOW_SCREENS)
            a, b = max(keep_a, min(a, a0)), min(keep_b, max(b, b0), history)
        elif b0 > a0:  # a jump (to the top, to a match): what is in view first, the margin once it is drawn
            a, b = self._wanted(tops, bottoms, history, 0)
            if not self._filling:
                self._filling = True
                self.set_timer(FILL_AFTER_S, self._fill)  # "after a refresh" can still come before the layout
        gone = [item for item in self._widgets if item not in pinned and not a <= self._index[item] < b]
        if gone:
            widgets = [self._widgets.pop(item) for item in gone]
            focused = self.screen.focused
            if focused is not None and any(focused is w or w in focused.ancestors for w in widgets):
                # Textual would focus another widget, and scroll to it (animated): the view takes the
                # focus now (`focus()` would only queue it, after the removal), and stays where it is
                self.screen.set_focus(self, scroll_visible=False)
            for item in gone:
                if isinstance(item, ThinkingItem) and item.heights:
                    item.forget_heights()  # measured as another widget: its lines stand for it now
                    self._invalidate(item)
            # Removing a widget waits for its task (and its children's) to end, in the app's queue:
            # after a jump that would come before the new view is drawn. They are hidden now (no room,
            # nothing to lay out) and removed with the margin's widgets, once the view is drawn.
            for widget in widgets:
                widget.display = False
            self._retired.extend(widgets)
        if self._retired and not self._filling:
            retired, self._retired = self._retired, []
            await self.remove_children(retired)
            release_dropped_widgets()
        await self._swap_in_lines(a, b)
        present = [i for i in range(a, b) if self.items[i] in self._widgets]
        first = present[0] if present else b
        head = [self._make(self.items[i]) for i in range(a, min(first, b))]
        tail = [self._make(self.items[i]) for i in range(first, b) if self.items[i] not in self._widgets]
        if head:
            await self.mount_all(head, after=self._top)
        if tail:
            await self.mount_all(tail, before=self._bottom)
        for item in pinned:
            if item not in self._pinned_area:  # an execution panel being written
                self._pinned_area.add(item)
                await self.mount(self._widgets[item])
        self._window = (a, b)
        tops, bottoms = self._geometry()
        self._size_spacers(tops, bottoms, a, b, history)
        if head or tail or pinned:
            self.call_after_refresh(self._measure)
        self.call_after_refresh(self._follow)  # the content may overflow the view only now
        if not self._filling:  # a jump within reach of the window: drawn at the next frame
            self._release_hold(after_refresh=True)

    async def _swap_in_lines(self, a: int, b: int) -> None:
        """A finished segment still shown as Markdown gives way to its rendered lines, once they came."""
        for i in range(a, b):
            item = self.items[i]
            widget = self._widgets.get(item)
            if isinstance(widget, ThinkingSegment) and widget is not self._live and isinstance(item, ThinkingItem):
                lines = self.cache.get(item, self._line_width)
                if lines is None:
                    continue
                frozen = self._make(item)
                await self.mount(frozen, before=widget)
                await widget.remove()
                item.forget_heights()
                item.heights[self._width] = len(lines)
                self._invalidate(item)

    def _size_spacers(self, tops: list[int], bottoms: list[int], a: int, b: int, history: int) -> None:
        first = next((i for i in range(a, b) if not self._hidden(self.items[i])), None)
        last = self._last_visible(b, a)
        if first is None or last is None:
            self._top.set_height(0)
            self._bottom.set_height(0)
            return
        self._top.set_height(tops[first] - self._margins(self.items[first])[0])
        end = self._last_visible(history)
        assert end is not None
        last_b, end_b = self._margins(self.items[last])[1], self._margins(self.items[end])[1]
        below = bottoms[end] + end_b - bottoms[last] - last_b
        pinned = [i for i in self._pinned() if not self._hidden(i)]
        if pinned and end != last:  # the live widget's top margin collapses with the last item's
            top_p = self._margins(pinned[0])[0]
            below = bottoms[end] + max(end_b, top_p) - top_p - bottoms[last] - last_b
        self._bottom.set_height(max(0, below))

    def _make(self, item: Item) -> ItemWidget:
        widget: ItemWidget
        if isinstance(item, ThinkingItem):
            lines = self.cache.strips(item, self._line_width)
            widget = FrozenThinking(item, {self._line_width: lines} if lines is not None else None)
            if lines is None:
                self._request_lines(item)
        elif isinstance(item, HintItem):
            widget = HintPanel(item)
        elif isinstance(item, ExecutionItem):
            widget = ExecutionPanel(item)
        else:
            assert isinstance(item, AnswerItem)
            widget = AnswerPanel(item)
        if self._term and not isinstance(widget, AnswerPanel):
            widget.set_highlight(self._term)
        self._widgets[item] = widget
        return widget

    def _measure(self) -> None:
        """Read the box heights of laid-out widgets; keep the view still when one above it changed."""
        if not self._width or self._problem is None:
            return
        tops, _ = self._geometry()
        view = round(self.scroll_y) - self._origin()
        shift = 0
        changed = False
        for item, widget in list(self._widgets.items()):
            if not widget.is_attached or not widget.display or isinstance(widget, ThinkingSegment):
                continue
            height = widget.outer_size.height
            old = self._height(item)
            if height <= 0 or height == old:
                continue
            item.heights[self._width] = height
            item.measured.add(self._width)
            index = self._index[item]
            self._valid = min(self._valid, index)
            changed = True
            if tops[index] < view:
                shift += height - old
        if changed:
            if shift and not self._following():  # the view's own correction: the reader did not move
                self.scroll_to(y=self.scroll_y + shift, animate=False, immediate=True, release_anchor=False)
            self._schedule()

    @on(Collapsible.Toggled)
    def _toggled(self, message: Collapsible.Toggled) -> None:
        widget = message.collapsible
        if isinstance(widget, HintPanel | ExecutionPanel):
            widget.item.collapsed = widget.collapsed
            widget.item.forget_heights()
            self._invalidate(widget.item)
            self.call_after_refresh(self._measure)

    def watch_has_focus(self, has_focus: bool) -> None:
        """Textual restyles a widget and everything in it when it gains or loses the focus (a rule could
        select on `Conversation:focus`): 12-27 ms at each move between the view and a panel's title, at
        a pause or a jump. Only the view's own rule does (`Conversation:focus`, a tint), so the view alone
        is restyled (its scrollbar shows where the keys go)."""
        self.app.stylesheet.update_nodes([self], animate=True)
        self.refresh()

    # -- keys -----------------------------------------------------------------------------------
    # Textual animates Home and End over a second: through a long trace every frame of the animation
    # would be a jump of the window, with its widgets mounted and dropped again. They jump at once.
    def action_scroll_home(self) -> None:
        if not self._allow_scroll:
            raise SkipAction()
        self.jump_to(0)

    def action_scroll_end(self) -> None:
        if not self._allow_scroll:
            raise SkipAction()
        self.scroll_end(animate=False)  # after a refresh, at the bottom the layout gives; the view follows again

    def jump_to(self, y: int) -> None:
        """Scroll to `y` now. A scroll animation on the way ends, and a scroll still waiting for a
        refresh is dropped: focusing a panel asks for one (to center it), which would otherwise carry
        the view back to where it was a frame ago."""
        self._jumps += 1
        if self._hold is None:
            self._hold = self.collector.hold()
        if self.app.animator.is_being_animated(self, "scroll_y"):
            self.app.animator.force_stop_animation(self, "scroll_y")
        self.scroll_to(y=y, animate=False, immediate=True)
        if not self._stale:  # nothing to mount or drop: drawn at the next frame
            self._release_hold(after_refresh=True)

    @property
    def collector(self) -> CollectorHold:
        """The app's hold on the garbage collector (`collector.py`), or the view's own."""
        shared = getattr(self.app, "collector", None)
        if isinstance(shared, CollectorHold):
            return shared
        if self._own_collector is None:
            self._own_collector = CollectorHold(self)
        return self._own_collector

    def _release_hold(self, after_refresh: bool = False) -> None:
        token, self._hold = self._hold, None
        if after_refresh:
            self.collector.release_after_refresh(token)
        else:
            self.collector.release(token)

    def scroll_to(
        self,
        x: float | None = None,
        y: float | None = None,
        *,
        immediate: bool = False,
        release_anchor: bool = True,
        **kwargs: Any,
    ) -> None:
        """Textual's `scroll_to`, but a scroll deferred to after a refresh is dropped if the view jumped
        meanwhile (the anchor is released at once, as Textual does)."""
        if immediate:
            super().scroll_to(x, y, immediate=True, release_anchor=release_anchor, **kwargs)
            return
        if release_anchor:
            self.release_anchor()
        jumps = self._jumps

        def after_refresh() -> None:
            if self._jumps == jumps:
                super(Conversation, self).scroll_to(x, y, immediate=True, release_anchor=False, **kwargs)

        self.call_after_refresh(after_refresh)

    # -- thinking shown or hidden ---------------------------------------------------------------
    def toggle_thinking(self) -> None:
        self.toggle_class("-hide-thinking")
        self._valid = 0
        self._schedule()

    # -- search ---------------------------------------------------------------------------------
    def search(self, term: str) -> int:
        """Find `term` (any case) in thinking, hints, code and outputs; the number of matches."""
        self._term = term.lower()
        self._matches = []
        if self._term:
            for index, item in enumerate(self.items):
                text = item.searchable().lower()
                at = text.find(self._term)
                while at >= 0:
                    self._matches.append(Match(index, at))
                    at = text.find(self._term, at + len(self._term))
        self._match = -1
        for widget in self._widgets.values():
            if not isinstance(widget, AnswerPanel | ThinkingSegment):
                widget.set_highlight(self._term)
        return len(self._matches)

    @property
    def match_position(self) -> tuple[int, int]:
        """(the current match, counted from 1; the number of matches)."""
        return (self._match + 1, len(self._matches))

    async def next_match(self, step: int = 1) -> Match | None:
        """Go to the next match (`step` -1: the previous one) and bring its item into view."""
        if not self._matches:
            return None
        if self._match < 0 and step < 0:
            self._match = len(self._matches) - 1
        else:
            self._match = (self._match + step) % len(self._matches)
        match = self._matches[self._match]
        await self.show_item(match.item, line=self._line_in_item(match))
        return match

    def _line_in_item(self, match: Match) -> int:
        """The line of its item where the match is drawn, where the item's lines are known."""
        item = self.items[match.item]
        lines = self.cache.get(item, self._line_width) if isinstance(item, ThinkingItem) else None
        if lines is None:
            return 0
        nth = sum(1 for m in self._matches if m.item == match.item and m.at < match.at)
        seen = 0
        for number, line in enumerate(lines.texts):
            seen += line.lower().count(self._term)
            if seen > nth:
                return number
        return 0

    async def show_item(self, index: int, line: int = 0) -> None:
        """Scroll so that item `index` (its `line`-th line) is near the top of the view."""
        if self.hide_thinking and isinstance(self.items[index], ThinkingItem):
            self.toggle_thinking()
        self.jump_to(max(0, self.item_top(index) + line - 2))
        await self._update_window()


def release_dropped_widgets() -> None:
    """Let go of the widgets Textual itself still holds after they were removed.

    Textual 8.2 memoizes `StylesCache.get_inner_outer` with `functools.lru_cache` on the method, so
    its key holds the StylesCache, and with it every line the widget rendered, for up to 1,024
    widgets after they are gone. A view that makes and drops widgets as it scrolls (and a Markdown
    stream that replaces its blocks) would keep thousands of lines alive for the collector to walk.
    The memo is two styles per pair of colours: clearing it costs nothing.
    """
    clear = getattr(StylesCache.get_inner_outer, "cache_clear", None)
    if clear is not None:
        clear()


def _by_hand(item: ExecutionItem) -> str:
    return " · hint by hand" if item.user_hints else ""


def _text_lines(text: str, width: int) -> int:
    """Lines `text` takes when wrapped at `width` (an estimate until the widget is measured)."""
    return sum(max(1, math.ceil(len(line) / width)) for line in text.split("\n")) if text else 1
