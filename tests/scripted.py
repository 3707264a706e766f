"""A scripted model for fast tests of the engine and the app's session model: no weights, exact text."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from start_tui.backends import BackendStats, SamplingParams
from start_tui.engine.profiles import ModelProfile

PROFILE = ModelProfile(
    name="scripted",
    description="a scripted test model",
    think_end=("</think>",),
    stop=("<|end|>",),
    few_shot="Problem: {problem}\nThink step by step.\n",
)


class ScriptedBackend:
    """Answers each continuation with the next scripted text, in small chunks (so markers split)."""

    name = "scripted"

    def __init__(self, *replies: str, chunk: int = 3) -> None:
        self.replies = list(replies)
        self.chunk = chunk
        self.stats = BackendStats()
        self.last_finish_reason = ""
        self.seen: list[str] = []
        self.closed = False

    def metadata(self) -> Mapping[str, str]:
        return {"general.name": self.name}

    def stream(self, text: str, params: SamplingParams) -> Iterator[str]:
        self.seen.append(text)
        reply = self.replies.pop(0) if self.replies else ""
        self.last_finish_reason = "stopped"
        for i in range(0, len(reply), self.chunk):
            self.stats.tokens_generated += 1
            yield reply[i : i + self.chunk]
        self.last_finish_reason = "eos"

    def count_tokens(self, text: str) -> int:
        return len(text) // 3

    def batch(self, k: int) -> ScriptedLanes:
        return ScriptedLanes(self, k)

    def close(self) -> None:
        self.closed = True


class ScriptedLanes:
    """`k` scripted lanes, each answering with the replies of the backend they came from."""

    def __init__(self, backend: ScriptedBackend, k: int) -> None:
        self.lanes = [ScriptedBackend(*backend.replies, chunk=backend.chunk) for _ in range(k)]
        self.closed = False

    def close(self) -> None:
        self.closed = True
        for lane in self.lanes:
            lane.close()
