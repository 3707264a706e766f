"""Finds the markers the loop acts on in streamed text, holding back what could still become one.

Streamed text arrives in small pieces, so `Wai` may become `Wait` and a backtick may become a code
fence. `scan` says how much of the buffer is safe to emit now and which marker, if any, comes
first. Markers: an opened python fence, a closing fence, an end-of-thinking marker, a stop string,
and a conjunction word that starts a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["think", "code", "answer"]
MarkerKind = Literal["fence_open", "fence_close", "think_end", "stop", "conjunction"]

FENCE_OPENERS = ("```python\n", "```py\n", "```Python\n", "```python3\n")
FENCE_CLOSER = "\n```"


def fence_language(opener: str) -> str:
    """The language an opening fence names (```` ```py\n ```` is python)."""
    name = opener.strip("`\n").lower()
    return "python" if name in ("py", "python3") else name


_SENTENCE_END = set("\n.!?\"'*(")


@dataclass(frozen=True)
class Marker:
    kind: MarkerKind
    start: int
    end: int
    text: str


class Scanner:
    def __init__(self, think_end: tuple[str, ...], stop: tuple[str, ...], conjunctions: tuple[str, ...]) -> None:
        self.think_end = tuple(t for t in think_end if t)
        self.stop = tuple(s for s in stop if s)
        self.conjunctions = tuple(c for c in conjunctions if c)

    def _literals(self, mode: Mode, conjunctions: bool) -> list[tuple[MarkerKind, str]]:
        if mode == "code":
            return [("fence_close", FENCE_CLOSER), *(("stop", s) for s in self.stop)]
        out: list[tuple[MarkerKind, str]] = [("stop", s) for s in self.stop]
        if mode == "think":
            out += [("fence_open", f) for f in FENCE_OPENERS]
            out += [("think_end", t) for t in self.think_end]
            if conjunctions:
                out += [("conjunction", c) for c in self.conjunctions]
        return out

    def scan(
        self, buf: str, mode: Mode, prev: str, conjunctions: bool, at_code_start: bool = False
    ) -> tuple[int, Marker | None]:
        """Return (safe, marker): `buf[:safe]` holds no marker and can be emitted; `marker` starts at `safe`.

        `prev` is the text emitted just before `buf` (a short tail is enough: conjunctions must
        start a sentence);
        `at_code_start` says that `buf` begins right after an opened fence (a closing fence may
        then come without a newline before it).
        """
        literals = self._literals(mode, conjunctions)
        best: Marker | None = None
        hold = len(buf)
        for kind, lit in literals:
            pos = buf.find(lit)
            while pos >= 0:
                if kind == "conjunction":
                    before = (prev + buf[:pos]).rstrip(" \t")[-1:]
                    after_i = pos + len(lit)
                    if before and before not in _SENTENCE_END:
                        pos = buf.find(lit, pos + 1)
                        continue
                    if after_i >= len(buf):
                        hold = min(hold, pos)  # need one more character to know it is a word
                        break
                    if buf[after_i].isalnum():
                        pos = buf.find(lit, pos + 1)
                        continue
                if best is None or pos < best.start:
                    best = Marker(kind, pos, pos + len(lit), lit)
                break
            hold = min(hold, _partial_suffix_start(buf, lit))
        if mode == "code" and at_code_start:
            if buf.startswith("```"):
                best = Marker("fence_close", 0, 3, "```")
            elif "```".startswith(buf):
                hold = 0
        if best is not None and best.start <= hold:
            return best.start, best
        return hold, None


def _partial_suffix_start(buf: str, lit: str) -> int:
    """Start of the longest suffix of `buf` that is a proper prefix of `lit` (len(buf) if none)."""
    for k in range(min(len(lit) - 1, len(buf)), 0, -1):
        if buf.endswith(lit[:k]):
            return len(buf) - k
    return len(buf)
