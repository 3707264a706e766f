"""The live view of one run: engine events in, segments out, the scroll anchored to the stream.

Thinking streams into a `ThinkingSegment` through `Markdown.get_stream`; each hint and each code
block gets its own panel, and the thinking after it starts a new segment, so the streamed block
stays small. The view follows the stream unless the reader has scrolled up (`anchor`).

While a run streams, finished segments beyond the last `LIVE_SEGMENTS` are folded into
`FoldedHistory` blocks: one widget draws `FOLD_CHUNK` segments, rendered once. Textual lays out
every child of the scroll view at each frame, so a 32k-token trace with hundreds of widgets would
make each frame cost more than the last. When the run pauses or ends, `unfold` puts the real,
collapsible panels back (the folded segments keep their offsets, so branching works either way).

Each time a segment ends while streaming, the objects alive at that moment leave the garbage
collector's view (`gc.freeze`): a long trace keeps hundreds of thousands of rendered-line objects,
and a full collection over them paused the app for 0.3-0.5 s, several times per 32k tokens. `unfold` and
`clear` give them back to the collector (`gc.unfreeze`), so nothing stays uncollected for good.
"""

from __future__ import annotations

import gc

from textual.containers import VerticalScroll
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static
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
from start_tui.engine.trace import Trace, trace_events
from start_tui.tui.widgets.cached import CachedRenderable
from start_tui.tui.widgets.segments import (
    AnswerPanel,
    ExecutionPanel,
    FrozenThinking,
    HintPanel,
    ThinkingSegment,
)

SPLIT_CHARS = 2000
"""A thinking segment longer than this starts a new one at the next paragraph break."""

LIVE_SEGMENTS = 24
"""While streaming, at most this many finished segments stay live widgets before the oldest are folded."""

FOLD_CHUNK = 16
"""Segments drawn by one folded block."""

Segment = ThinkingSegment | FrozenThinking | HintPanel | ExecutionPanel | AnswerPanel
FinishedSegment = FrozenThinking | HintPanel | ExecutionPanel | AnswerPanel


class FoldedHistory(CachedRenderable):
    """Finished segments drawn as one widget while the run streams (see the module docstring).

    Thinking is drawn from the lines its widget already rendered (Rich Markdown costs ~40 ms per
    2,000 characters); panels are drawn as Rich panels that look like their collapsible widgets.
    """

    def __init__(self, items: list[FinishedSegment], hide: bool) -> None:
        super().__init__("")
        self.items = items
        self.hide = hide

    def set_hide_thinking(self, hide: bool) -> None:
        self.hide = hide
        self.update("")

    def _render_width(self, width: int) -> list[Strip]:
        strips: list[Strip] = []
        pad = Strip.blank(1)
        for item in self.items:
            if isinstance(item, FrozenThinking):
                if self.hide:
                    continue
                cached = item.cached_strips(width - 2)  # FrozenThinking has a margin of 1 each side
                if cached is not None:
                    strips += [Strip.join([pad, line, pad]) for line in cached]
                    strips.append(Strip.blank(width))
                    continue
            strips += self.render_strips(item.folded(), width)
        return strips


class Conversation(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    Conversation { height: 1fr; padding: 0 0 1 0; }
    Conversation .problem { margin: 1 1 0 1; padding: 0 1; border-left: thick $secondary; text-style: bold; }
    Conversation.-hide-thinking .thinking { display: none; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text_offset = 0
        self.answer: str | None = None
        self._thinking: ThinkingSegment | None = None
        self._stream: MarkdownStream | None = None
        self._exec: ExecutionPanel | None = None
        self._children_at_freeze = 0

    def _follow(self) -> None:
        # Anchor only once the content overflows: Textual 8.2's anchored layout does not clamp the
        # scroll offset, so content shorter than the view would be pushed down (negative scroll).
        if self.is_anchored or self.virtual_size.height <= self.scrollable_content_region.height:
            return
        if self.scroll_y >= self.max_scroll_y - 2 or self.scroll_y == 0:
            self.anchor()

    def on_resize(self) -> None:
        self.call_after_refresh(self._follow)

    @property
    def segments(self) -> list[Segment]:
        """Every segment in order, folded ones included (those are not mounted: data only)."""
        out: list[Segment] = []
        for w in self.children:
            if isinstance(w, FoldedHistory):
                out += w.items
            elif isinstance(w, Segment):
                out.append(w)
        return out

    @property
    def folded(self) -> bool:
        return any(isinstance(w, FoldedHistory) for w in self.children)

    @property
    def hide_thinking(self) -> bool:
        return self.has_class("-hide-thinking")

    def toggle_thinking(self) -> None:
        self.toggle_class("-hide-thinking")
        for block in self.query_children(FoldedHistory):
            block.set_hide_thinking(self.hide_thinking)

    async def _fold(self) -> None:
        """Fold the oldest finished segments once more than `LIVE_SEGMENTS` are live."""
        live = [w for w in self.children if isinstance(w, FinishedSegment) and w is not self._exec]
        if len(live) >= LIVE_SEGMENTS + FOLD_CHUNK:
            chunk = live[:FOLD_CHUNK]
            block = FoldedHistory(chunk, self.hide_thinking)
            await self.mount(block, before=chunk[0])
            await self.remove_children(chunk)
        if len(self.children) != self._children_at_freeze:  # a segment ended: its lines are history now
            self._children_at_freeze = len(self.children)
            gc.freeze()  # see the module docstring

    def _thaw(self) -> None:
        if gc.get_freeze_count():
            gc.unfreeze()

    async def unfold(self) -> None:
        """Put the folded segments back as real widgets (collapsible panels, focusable)."""
        self._thaw()
        for block in list(self.query_children(FoldedHistory)):
            if block.parent is not self:  # cleared meanwhile (another trace shown)
                continue
            await self.mount_all([item.clone() for item in block.items], before=block)
            await block.remove()

    @property
    def last_execution(self) -> ExecutionPanel | None:
        panels = [s for s in self.segments if isinstance(s, ExecutionPanel)]
        return panels[-1] if panels else None

    async def clear(self) -> None:
        self._thaw()
        await self._end_thinking()
        self._exec = None
        self.text_offset = 0
        self.answer = None
        await self.remove_children()
        self.anchor(False)
        self.scroll_home(animate=False, immediate=True)

    async def show_trace(self, trace: Trace) -> None:
        await self.clear()
        await self.show(trace_events(trace))

    async def _end_thinking(self) -> None:
        if self._stream is not None:
            await self._stream.stop()
        segment, self._stream, self._thinking = self._thinking, None, None
        if segment is not None and segment.is_attached:
            frozen = FrozenThinking(segment.source, segment.start_offset, segment.end_offset)
            await self.mount(frozen, before=segment)
            await segment.remove()

    async def _mount(self, widget: Widget) -> None:
        await self._end_thinking()
        await self.mount(widget)

    async def _write_thinking(self, text: str) -> None:
        while text:
            if self._thinking is None:
                self._thinking = ThinkingSegment(self.text_offset)
                await self.mount(self._thinking)
                self._stream = ThinkingSegment.get_stream(self._thinking)
            seg = self._thinking
            part = text
            if seg.chars + len(text) > SPLIT_CHARS:
                cut = text.rfind("\n\n")
                if cut >= 0:
                    part = text[: cut + 2]
            assert self._stream is not None
            await self._stream.write(part)
            seg.chars += len(part)
            self.text_offset += len(part)
            seg.end_offset = self.text_offset
            text = text[len(part) :]
            if text:
                await self._end_thinking()

    async def _open_exec(self, code: str = "") -> ExecutionPanel:
        panel = ExecutionPanel(self.text_offset, code)
        await self._mount(panel)
        self._exec = panel
        return panel

    async def show(self, events: list[Event], fold: bool = False) -> None:
        """Render a batch of engine events (consecutive thinking deltas are written at once).

        `fold` (while a run streams) keeps the number of live widgets bounded (see `FoldedHistory`).
        """
        pending: list[str] = []

        async def flush() -> None:
            if pending:
                text = "".join(pending)
                pending.clear()
                await self._write_thinking(text)

        for event in events:
            if isinstance(event, TextDelta) and event.kind == "model":
                pending.append(event.text)
                continue
            await flush()
            if isinstance(event, CodeOpened):
                self.text_offset += len(event.text)  # the model's fence: the panel shows the block
                await self._open_exec(event.template)
            elif isinstance(event, CodeClosed):
                self.text_offset += len(event.text)
                if self._exec is not None:
                    self._exec.end_offset = self.text_offset
            elif isinstance(event, TextDelta):
                panel = self._exec or await self._open_exec()
                panel.append_code(event.text)
                self.text_offset += len(event.text)
                panel.end_offset = self.text_offset
            elif isinstance(event, Started):
                await self._show_started(event)
            elif isinstance(event, HintInserted) and self._exec is not None and not event.opens_code:
                self._exec.add_user_hint(event.text)  # a hint inside a code block is a comment of the block
                self.text_offset += len(event.text)
                self._exec.end_offset = self.text_offset
            elif isinstance(event, HintInserted):
                await self._mount(HintPanel(event.text, event.source, event.category, event.trigger, self.text_offset))
                self.text_offset += len(event.text)  # a code block it opens comes as CodeOpened
            elif isinstance(event, CodeStarted):
                panel = self._exec or await self._open_exec(event.code)
                panel.set_running(event.index)
            elif isinstance(event, CodeFinished):
                panel = self._exec or await self._open_exec()
                panel.set_result(
                    event.index, event.ok, event.timed_out, event.executed, event.duration_s, event.output_text
                )
                self.text_offset += len(event.output_text)
                panel.end_offset = self.text_offset
                self._exec = None
            elif isinstance(event, AnswerFound):
                self.answer = event.answer
                await self._mount(AnswerPanel(event.answer, self.text_offset))
            elif isinstance(event, Finished):
                await self._end_thinking()
        await flush()
        if fold:
            await self._fold()
        self.call_after_refresh(self._follow)

    async def _show_started(self, event: Started) -> None:
        await self.clear()
        await self.mount(Static(event.problem.strip(), classes="problem"))
        prompt = [s for s in event.spans if s.kind == "prompt"]
        self.text_offset = sum(len(s) for s in prompt)
        rest = event.spans[len(prompt) :]
        if rest:  # a branch: show the kept prefix as it was
            prefix = Trace(id=event.trace_id, problem=event.problem, spans=list(event.spans), meta={})
            replay = trace_events(prefix)[1:]
            await self.show([e for e in replay if not isinstance(e, Finished)])
