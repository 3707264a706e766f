"""Final-answer extraction: the last `\\boxed{...}` (braces balanced), else a profile's answer line."""

from __future__ import annotations

import re
from collections.abc import Sequence

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}` whose braces close, or None."""
    found = None
    for match in _BOXED.finditer(text):
        depth, i = 1, match.end()
        while i < len(text) and depth:
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
            i += 1
        if depth == 0:
            found = text[match.end() : i - 1].strip()
    return found


def extract_answer(text: str, prefixes: Sequence[str] = ("Final answer:", "The answer is")) -> str | None:
    """The answer a model gave in `text` (its own output, without the prompt)."""
    boxed = last_boxed(text)
    if boxed:
        return boxed
    best: tuple[int, str] | None = None
    for prefix in prefixes:
        pos = text.rfind(prefix)
        if pos < 0:
            continue
        line = text[pos + len(prefix) :].split("\n", 1)[0].strip().strip("*").strip()
        line = line.rstrip(".").strip().strip("$").strip()
        if line and (best is None or pos > best[0]):
            best = (pos, line)
    return best[1] if best else None
