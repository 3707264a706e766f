"""Lines of the screen are freed by reference counting: no strip keeps itself alive (strips.py)."""

from __future__ import annotations

import gc

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from start_tui.tui.strips import untangle


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
