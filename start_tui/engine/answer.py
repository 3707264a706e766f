"""Final answers: extraction (the last `\\boxed{...}`, braces balanced, else a profile's answer line) and
mathematical equivalence.

`is_equivalent(pred, gold)` compares math answers with HF math-verify, gold first. Answers are wrapped in
`\\boxed{}` before parsing, so math-verify reads a bare LaTeX answer (`\\frac{14}{3}`) the way it reads a
boxed one in a solution. math-verify bounds its own time with SIGALRM, which only works in the main
thread; elsewhere (evaluation workers, the app's runs) its timeouts are off.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence

logging.getLogger("math_verify").setLevel(logging.ERROR)  # its "timeout disabled" notice, from worker threads

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
