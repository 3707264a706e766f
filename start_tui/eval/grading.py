"""Grading: math answers with HF math-verify (gold first), GPQA by the choice letter, code on sample tests.

`is_equivalent(pred, gold)` is the public entry point for math. Answers are wrapped in `\\boxed{}`
before parsing, so math-verify reads a bare LaTeX answer (`\\frac{14}{3}`) the way it reads a boxed
one in a solution. math-verify bounds its own time with SIGALRM, which only works in the main
thread; elsewhere (evaluation workers) its timeouts are off.
"""

from __future__ import annotations

import logging
import re
import threading

from start_tui.engine.answer import last_boxed

logging.getLogger("math_verify").setLevel(logging.ERROR)  # its "timeout disabled" notice, from worker threads

_LETTER = re.compile(r"\(?\b([A-D])\b\)?")


def _timeout(seconds: int) -> int | None:
    return seconds if threading.current_thread() is threading.main_thread() else None


def _parse(answer: str) -> list:
    from math_verify import parse

    text = answer.strip()
    if not text:
        return []
    boxed = text if "\\boxed" in text else f"\\boxed{{{text}}}"
    return list(parse(boxed, parsing_timeout=_timeout(5)))


def is_equivalent(pred: str, gold: str) -> bool:
    """Whether a predicted math answer equals the gold one (math-verify, gold first)."""
    from math_verify import verify

    if pred is None or not str(pred).strip():
        return False
    gold_parsed, pred_parsed = _parse(gold), _parse(pred)
    if not gold_parsed or not pred_parsed:
        return pred.strip() == gold.strip()  # neither parses as math (a name, a word): compare the text
    return bool(verify(gold_parsed, pred_parsed, timeout_seconds=_timeout(5)))


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
