"""Lines of finished thinking, rendered off the UI thread and kept in a bounded cache.

Rich's Markdown costs tens of milliseconds per 2,000 characters. Done on the event loop when a
segment ends, that was the tail of the key latency while a long run streamed. A `LineRenderer`
thread takes requests (an item, a width), the latest first (what was asked for last is nearest the
viewport), renders them with a console of its own set up as the app's, and hands back lines without
the widget's style (the widget applies it).

`LineCache` keeps them packed (`Packed`): per line its text and its style runs as bytes (offsets and
indexes into a table of styles). A `Strip` carries seven caches of its own and a tuple per
segment, all of which the garbage collector walks at every full collection; packed lines give it
nothing to walk, so a 128k-token trace does not make collections (and the app's pauses) longer.
Strips are made again only for the widgets near the viewport. At most `budget` lines are kept; the
least recently used items go (they keep their height and are rendered again when they come back).
"""

from __future__ import annotations

import io
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from start_tui.tui.widgets.cached import render_lines
from start_tui.tui.widgets.items import ThinkingItem
from start_tui.tui.widgets.segments import thinking_renderable

Lines = list[Strip]


class StyleTable:
    """Styles by index, shared by every packed line of a cache (a handful of distinct styles in all)."""

    def __init__(self) -> None:
        self.styles: list[Style | None] = []
        self._index: dict[Style | None, int] = {}
        self._lock = threading.Lock()  # packed on the renderer's thread, unpacked on the UI thread

    def index(self, style: Style | None) -> int:
        with self._lock:
            found = self._index.get(style)
            if found is None:
                found = self._index[style] = len(self.styles)
                self.styles.append(style)
            return found


@dataclass(frozen=True)
class Packed:
    """Lines as texts and style runs (offset, style index, offset, style index...) of a `StyleTable`."""

    texts: tuple[str, ...]
    runs: tuple[bytes, ...]
    """Per line: unsigned ints (offset, style index, offset, style index...); bytes, which the GC does not track."""
    width: int

    @classmethod
    def pack(cls, lines: Lines, width: int, table: StyleTable) -> Packed:
        texts, runs = [], []
        for line in lines:
            run = array("I")
            parts = []
            at = 0
            for segment in line:
                run.extend((at, table.index(segment.style)))
                parts.append(segment.text)
                at += len(segment.text)
            texts.append("".join(parts))
            runs.append(run.tobytes())
        return cls(tuple(texts), tuple(runs), width)

    def unpack(self, table: StyleTable) -> Lines:
        styles = table.styles
        out = []
        for text, packed in zip(self.texts, self.runs, strict=True):
            run = array("I", packed)
            starts = run[0::2]
            ends = [*starts[1:], len(text)]
            segments = [Segment(text[a:b], styles[i]) for a, b, i in zip(starts, ends, run[1::2], strict=True)]
            out.append(Strip(segments, self.width))
        return out

    def __len__(self) -> int:
        return len(self.texts)


class LineCache:
    """Packed lines per (item, width), least recently used out once more than `budget` lines are kept."""

    def __init__(self, budget: int = 20_000) -> None:
        self.budget = budget
        self.styles = StyleTable()
        self._lines: OrderedDict[tuple[ThinkingItem, int], Packed] = OrderedDict()
        self._count = 0

    def get(self, item: ThinkingItem, width: int) -> Packed | None:
        key = (item, width)
        lines = self._lines.get(key)
        if lines is not None:
            self._lines.move_to_end(key)
        return lines

    def strips(self, item: ThinkingItem, width: int) -> Lines | None:
        """The lines as strips, for a widget about to show them."""
        packed = self.get(item, width)
        return packed.unpack(self.styles) if packed is not None else None

    def put(self, item: ThinkingItem, width: int, lines: Packed) -> None:
        key = (item, width)
        old = self._lines.pop(key, None)
        self._count += len(lines) - (len(old) if old else 0)
        self._lines[key] = lines
        while self._count > self.budget and len(self._lines) > 1:
            _, dropped = self._lines.popitem(last=False)
            self._count -= len(dropped)

    def clear(self) -> None:
        self._lines.clear()
        self._count = 0

    @property
    def line_count(self) -> int:
        return self._count


class LineRenderer:
    """A thread that renders thinking items to packed lines; `done(item, width, text, packed)` runs on it."""

    def __init__(
        self, console: Console, styles: StyleTable, done: Callable[[ThinkingItem, int, str, Packed], None]
    ) -> None:
        self._console = Console(
            color_system=console.color_system,  # type: ignore[arg-type]
            file=io.StringIO(),
            markup=True,
            highlight=False,
            emoji=False,
            legacy_windows=False,
            force_terminal=True,
            safe_box=False,
            soft_wrap=False,
        )
        self._styles = styles
        self._done = done
        self._wanted: OrderedDict[tuple[ThinkingItem, int], None] = OrderedDict()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="line-renderer", daemon=True)
        self._thread.start()

    def request(self, item: ThinkingItem, width: int) -> None:
        with self._cond:
            self._wanted[(item, width)] = None
            self._wanted.move_to_end((item, width))
            self._cond.notify()

    def cancel_all(self) -> None:
        with self._cond:
            self._wanted.clear()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._wanted.clear()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._wanted and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                (item, width), _ = self._wanted.popitem(last=True)
            text = item.text
            lines = render_lines(self._console, thinking_renderable(text), width)
            self._done(item, width, text, Packed.pack(lines, width, self._styles))
