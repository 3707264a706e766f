"""Lines of the screen are freed by reference counting (no strip keeps itself alive), and a strip makes a
cache only when a method uses it (strips.py)."""

from __future__ import annotations

import gc

from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import Monochrome
from textual.strip import Strip

from start_tui.tui.strips import CACHES, SLOTS, untangle


def holds_itself(obj: object, depth: int = 4) -> bool:
    """Whether `obj` is reachable from itself within `depth` references (a cycle only a collection frees)."""
    seen, frontier = {id(obj)}, gc.get_referents(obj)
    for _ in range(depth):
        if any(o is obj for o in frontier):
            return True
        frontier = [r for o in frontier if id(o) not in seen and not seen.add(id(o)) for r in gc.get_referents(o)]
    return False


def test_a_strip_divided_and_cropped_over_its_whole_length_dies_with_its_last_reference():
    untangle()
    strip = Strip([Segment("thinking ", Style(bold=True)), Segment("aloud")])
    n = strip.cell_length
    assert strip.divide([n]) == [strip] and strip.divide([n, n + 5]) == [strip]
    assert strip.crop_extend(0, n, None) is strip
    # the other cuts and crops are Textual's own, cached as before
    assert [s.text for s in strip.divide([4, n])] == ["thin", "king aloud"]
    assert strip.divide([4, n]) is strip.divide([4, n])
    assert strip.crop_extend(2, n + 3, None).text == "inking aloud   "
    assert strip.crop_extend(0, n + 3, None).text == "thinking aloud   "
    assert not holds_itself(strip)  # Textual's held itself in its divide and crop_extend caches


def caches_of(strip: Strip) -> dict[str, object]:
    return {slot: getattr(strip, slot) for slot, _ in CACHES.values()}


def test_a_strips_caches_are_made_by_the_first_call_that_uses_them_and_keep_what_textuals_kept():
    untangle()
    strip = Strip([Segment("thinking ", Style(bold=True)), Segment("aloud", Style(color="red"))])
    assert set(Strip.__slots__) == SLOTS  # the Textual the project pins: its caches are made lazily
    assert all(cache is None for cache in caches_of(strip).values())  # Textual made seven FIFOCaches here
    cropped = strip.crop(2, 7)
    assert cropped.text == "inkin" and strip.crop(2, 7) is cropped  # made by crop, then kept
    assert [slot for slot, cache in caches_of(strip).items() if cache is not None] == ["_crop_cache"]
    assert strip.apply_style(Style(italic=True)) is strip.apply_style(Style(italic=True))
    assert strip.adjust_cell_length(20).cell_length == 20
    assert strip.adjust_cell_length(20) is strip.adjust_cell_length(20)
    assert strip.apply_offsets(1, 2) is strip.apply_offsets(1, 2)
    assert [s.text for s in strip.divide([4, 14])] == ["thin", "king aloud"]
    assert strip.crop_extend(2, 17, None).text == "inking aloud   "
    gray = Monochrome()
    assert strip.apply_filter(gray, Color(0, 0, 0)) is strip.apply_filter(gray, Color(0, 0, 0))
    sizes = {slot: cache._maxsize for slot, cache in caches_of(strip).items() if cache is not None}  # type: ignore[attr-defined]
    assert sizes == dict(CACHES.values())  # each made once, at the size Textual gives it
    assert not holds_itself(strip)
