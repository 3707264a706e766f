"""Textual's strips, lighter for the garbage collector: no strip holds itself, and its caches are made
when first used.

A `Strip` (one line of a widget) caches what it derives from itself, and two of its caches can hold the
strip itself: `divide` at its own length returns `[self]`, and `crop_extend` over its whole length
returns `self`, and both results are cached. The compositor divides the lines of every frame that way,
so nearly every line drawn became a reference cycle (the strip and its seven caches) that only a full
garbage collection frees. Streaming a long trace, those lines were most of what each full collection
freed, and a full collection that lands during a key's answer is what the reader waits for.
`untangle` makes the two methods return the same values without caching the strip itself.

Textual also makes all seven caches (seven objects the collector tracks) with every strip, and a frame
makes hundreds of strips. Over a 32k-token pass of `bench/tui_stream.py`, 41,440 strips were made (290,080
caches) and the methods that use a cache were called 40,298 times in all: six caches in seven at least were
never used, and they were more than half of what started the collector. `untangle` makes a strip's caches
lazily: each by the first call of the method that uses it, the same cache at the same size, so every
method returns what it returned before. Three such passes each way, counted through `gc.callbacks` (as the
bench's `full gc` and `gc ms` columns count them): 493-555 young collections and 3-4 full ones instead of
1,194-1,238 and 9-10, and 244-261 ms in the collector instead of 369-502 ms.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rich.style import Style
from textual.cache import FIFOCache
from textual.strip import Strip

CACHES = {
    "divide": ("_divide_cache", 4),
    "crop": ("_crop_cache", 16),
    "apply_style": ("_style_cache", 16),
    "apply_filter": ("_filter_cache", 4),
    "adjust_cell_length": ("_line_length_cache", 4),
    "crop_extend": ("_crop_extend_cache", 4),
    "apply_offsets": ("_offsets_cache", 4),
}
"""Each method of Textual 8.2's `Strip` that uses a cache: the cache's slot and its size (as `Strip.__init__`
makes it)."""

SLOTS = {"_segments", "_cell_length", "_render_cache", "_link_ids", "_cell_count"} | {s for s, _ in CACHES.values()}
"""Every slot of Textual 8.2's `Strip`: with any other set, `untangle` leaves its `__init__` as it is."""

_originals = {name: getattr(Strip, name) for name in CACHES}


def _init_lazy(self: Strip, segments: Iterable[Any], cell_length: int | None = None) -> None:
    """`Strip.__init__` of Textual 8.2.8, with the caches left to their first use."""
    self._segments = list(segments)
    self._cell_length = cell_length
    self._divide_cache = self._crop_cache = self._style_cache = self._filter_cache = None  # type: ignore[assignment]
    self._line_length_cache = self._crop_extend_cache = self._offsets_cache = None  # type: ignore[assignment]
    self._render_cache = None
    self._link_ids = None
    self._cell_count = None


def _lazy(method: Callable[..., Any], slot: str, size: int) -> Callable[..., Any]:
    @functools.wraps(method)
    def with_cache(self: Strip, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, slot) is None:
            setattr(self, slot, FIFOCache(size))
        return method(self, *args, **kwargs)

    return with_cache


_with_cache = {name: _lazy(method, *CACHES[name]) for name, method in _originals.items()}


def _divide_untangled(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    cuts = list(cuts)
    length = self.cell_length
    if [cut for cut in cuts if cut <= length] == [length]:
        return [self]  # what Textual returns (and kept in the strip's own cache)
    return _with_cache["divide"](self, cuts)


def _crop_extend_untangled(self: Strip, start: int, end: int, style: Style | None) -> Strip:
    if start == 0 and end == self.cell_length:
        return self  # extend_cell_length(end) and crop(0, end) both give the strip itself
    return _with_cache["crop_extend"](self, start, end, style)


def untangle() -> None:
    """Patch `Strip.divide` and `Strip.crop_extend`, and make a strip's caches at their first use (idempotent).

    The caches stay as Textual makes them if its `Strip` has other slots than those of 8.2 (`SLOTS`).
    """
    if set(Strip.__slots__) == SLOTS:
        Strip.__init__ = _init_lazy  # type: ignore[method-assign]
        for name, method in _with_cache.items():
            setattr(Strip, name, method)
    Strip.divide = _divide_untangled  # type: ignore[method-assign]
    Strip.crop_extend = _crop_extend_untangled  # type: ignore[method-assign]
