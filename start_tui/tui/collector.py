"""The cyclic garbage collector waits while the app answers the reader.

A full collection of a long session's heap took 35-75 ms here, most of it what streaming Markdown left;
with the live segment's garbage cut down (`segments.py`, `strips.py`), a median of 28 ms and at most 53 ms
over one 8k+32k+128k run of `bench/tui_stream.py`. Python starts one whenever enough
objects were allocated, which is often in the middle of drawing the answer to a key or a jump: the
reader then waits that much longer for it. Held, the collector runs right after the answer is on
screen, or after `LIMIT_S` at the latest; a collector the program turned off stays off.
"""

from __future__ import annotations

import gc
import itertools
import time

from textual.message_pump import MessagePump

LIMIT_S = 0.5
"""The longest the collector waits, however many holds overlap (a key held down, a jump after a key)."""


class CollectorHold:
    """Holds on the collector, each released by its own token; it runs again when none is left."""

    def __init__(self, owner: MessagePump) -> None:
        self._owner = owner
        self._tokens: set[int] = set()
        self._counter = itertools.count(1)
        self._since: float | None = None
        """When the collector was turned off (None: it is not held)."""

    @property
    def holding(self) -> bool:
        return self._since is not None

    def hold(self) -> int | None:
        """Keep the collector off until `release(token)`, or `LIMIT_S` after the first hold."""
        now = time.monotonic()
        if self._since is None:
            if not gc.isenabled():
                return None
            gc.disable()
            self._since = now
            self._owner.set_timer(LIMIT_S, lambda: self._expire(now))
        elif now - self._since >= LIMIT_S:  # held for long enough: it runs now
            self._end()
            return None
        token = next(self._counter)
        self._tokens.add(token)
        return token

    def release(self, token: int | None) -> None:
        if token is not None and token in self._tokens:
            self._tokens.discard(token)
            if not self._tokens:
                self._end()

    def release_after_refresh(self, token: int | None) -> None:
        """Let go of `token` once the next frame is drawn."""
        if token is not None:
            self._owner.call_after_refresh(self.release, token)

    def release_all(self) -> None:
        self._end()

    def _expire(self, since: float) -> None:
        if self._since == since:  # the hold this timer was set for, not a later one
            self._end()

    def _end(self) -> None:
        if self._since is not None:
            self._since = None
            self._tokens.clear()
            gc.enable()
