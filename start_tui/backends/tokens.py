"""The token list a llama.cpp sequence holds for a text, kept in step with the texts the engine passes.

The engine comes back with the text it was given plus an insertion (or minus some held-back
characters). `HeldTokens.sync(text)` keeps the held tokens up to the longest common prefix (never
cutting inside a UTF-8 character) and tokenizes only the bytes past it, so a backend decodes only
the new tokens.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable


class HeldTokens:
    """Tokens of the text a sequence holds, with the byte offset where each one ends."""

    def __init__(self, tokenize: Callable[[bytes, bool], list[int]], piece: Callable[[int], bytes], bos: int) -> None:
        self._tokenize = tokenize
        self._piece = piece
        self._bos = bos
        self.tokens: list[int] = []
        self._ends: list[int] = []  # cumulative byte length of the text after each token
        self._bytes = b""

    def append(self, tokens: list[int]) -> None:
        pos = self._ends[-1] if self._ends else 0
        pieces: list[bytes] = []
        for tok in tokens:
            piece = b"" if tok == self._bos and not self.tokens and not pieces else self._piece(tok)
            pieces.append(piece)
            pos += len(piece)
            self._ends.append(pos)
        self.tokens.extend(tokens)
        self._bytes += b"".join(pieces)

    def sync(self, text: str) -> list[int]:
        """Token list for `text` that shares the longest possible prefix with the tokens held."""
        data = text.encode()
        held = self._bytes
        if data.startswith(held):
            common = len(held)
        else:
            common = next(
                (i for i, (a, b) in enumerate(zip(data, held, strict=False)) if a != b), min(len(data), len(held))
            )
        k = bisect.bisect_right(self._ends, common)
        # never cut inside a UTF-8 character: back off to a token boundary on a character start
        while k > 0 and self._ends[k - 1] < len(data) and data[self._ends[k - 1]] & 0xC0 == 0x80:
            k -= 1
        if k == 0:
            self.tokens, self._ends, self._bytes = [], [], b""
            self.append(self._tokenize(data, True))
            return list(self.tokens)
        keep = self._ends[k - 1]
        del self.tokens[k:], self._ends[k:]
        self._bytes = self._bytes[:keep]
        suffix = data[keep:]
        if suffix:
            self.append(self._tokenize(suffix, False))
        return list(self.tokens)
