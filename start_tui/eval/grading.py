"""Grading: GPQA by the choice letter; math answers by `engine.answer.is_equivalent` (HF math-verify, gold
first), which the engine's vote uses too."""

from __future__ import annotations

import re

from start_tui.engine.answer import last_boxed

_LETTER = re.compile(r"\(?\b([A-D])\b\)?")


def choice_letter(answer: str | None) -> str | None:
    """The choice letter (A-D) in a GPQA answer: `C`, `(C)`, `\\boxed{C}`, `C) 4.2 eV`, `The answer is C`."""
    if not answer:
        return None
    text = last_boxed(answer) or answer
    text = text.strip().strip("$").replace("\\text{", "").replace("}", "").strip()
    if len(text) == 1 and text.upper() in "ABCD":
        return text.upper()
    found = _LETTER.findall(text)
    return found[-1] if found else None


def grade_choice(pred: str | None, gold: str) -> bool:
    return choice_letter(pred) == gold.strip().upper()
