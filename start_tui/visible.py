"""Text that a model or its code wrote, made safe to show on a terminal.

A terminal acts on the control characters it is sent: ESC sequences move the cursor, clear the
screen, rename the window, write the clipboard (OSC 52), or rewrite lines already shown to fake
output; neither Rich nor Textual removes them from the text they draw. Model text and what the
sandboxed code printed are shown through `visible`, which replaces every control character but tab
and newline with a printable stand-in, one character for one (so offsets into a trace still hold on
what is shown): the Unicode control pictures for C0 (ESC shows as ␛) and DEL, U+FFFD for C1 and for
the invisible format characters (bidirectional controls, zero-width characters).
Traces keep the text as it was; only what is shown changes.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TypeVar

# Invisible format characters: bidirectional overrides, embeddings, isolates and marks (they reorder
# what a terminal draws, so a line can read differently from what it holds), and zero-width ones
# (they hide inside names and numbers)
_INVISIBLE = (0x061C, 0x180E, *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x206A), 0xFEFF)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + "".join(map(chr, _INVISIBLE)) + "]")
_PICTURES = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)}
_PICTURES[0x7F] = 0x2421
_PICTURES.update({c: 0xFFFD for c in (*range(0x80, 0xA0), *_INVISIBLE)})

E = TypeVar("E")


def visible(text: str) -> str:
    """`text` with its control characters (but tab and newline) shown as printable stand-ins."""
    return text.translate(_PICTURES) if _CONTROL.search(text) else text


def visible_event(event: E) -> E:
    """An engine event with its text fields made visible (the same event when none needs it)."""
    names = _FIELDS.get(type(event))
    if names is None:
        if not dataclasses.is_dataclass(event) or isinstance(event, type):
            return event
        names = _FIELDS[type(event)] = tuple(f.name for f in dataclasses.fields(event) if f.init)
    changes = {
        name: visible(value)
        for name in names
        if isinstance(value := getattr(event, name), str) and _CONTROL.search(value)
    }
    return dataclasses.replace(event, **changes) if changes else event  # type: ignore[type-var]


_FIELDS: dict[type, tuple[str, ...]] = {}
