"""Textual's strips without a reference to themselves, so that reference counting frees them.

A `Strip` (one line of a widget) caches what it derives from itself, and two of its caches can hold the
strip itself: `divide` at its own length returns `[self]`, and `crop_extend` over its whole length
returns `self`, and both results are cached. The compositor divides the lines of every frame that way,
so nearly every line drawn became a reference cycle (the strip and its seven caches) that only a full
garbage collection frees. Streaming a long trace, those lines were most of what each full collection
freed, and a full collection that lands during a key's answer is what the reader waits for.
`untangle` makes the two methods return the same values without caching the strip itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.style import Style
from textual.strip import Strip

_divide = Strip.divide
_crop_extend = Strip.crop_extend


def _divide_untangled(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    cuts = list(cuts)
    length = self.cell_length
    if [cut for cut in cuts if cut <= length] == [length]:
        return [self]  # what Textual returns (and kept in the strip's own cache)
    return _divide(self, cuts)


def _crop_extend_untangled(self: Strip, start: int, end: int, style: Style | None) -> Strip:
    if start == 0 and end == self.cell_length:
        return self  # extend_cell_length(end) and crop(0, end) both give the strip itself
    return _crop_extend(self, start, end, style)


def untangle() -> None:
    """Patch `Strip.divide` and `Strip.crop_extend` (idempotent)."""
    Strip.divide = _divide_untangled  # type: ignore[method-assign]
    Strip.crop_extend = _crop_extend_untangled  # type: ignore[method-assign]
