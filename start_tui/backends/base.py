"""The `Backend` protocol: continue generation from a text, streaming text deltas, reusing what it holds."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from start_tui.errors import StartTuiError


class BackendError(StartTuiError):
    """The model failed mid-run (a server went away, a request was refused): the run ends, its trace is kept."""


@dataclass
class SamplingParams:
    """Sampling settings for one continuation."""

    max_tokens: int = 4096
    """Most tokens to generate in this continuation."""
    temperature: float = 0.0
    """0 means greedy decoding."""
    top_p: float = 0.95
    top_k: int = 40
    repeat_penalty: float = 1.0
    seed: int = 0


@dataclass
class BackendStats:
    """Token counters; the figure of merit is `tokens_evaluated` over the tokens of the final trace."""

    tokens_evaluated: int = 0
    """Tokens run through the model: prompt, inserted text and fed-back generated tokens."""
    tokens_generated: int = 0
    """Tokens sampled."""
    decode_seconds: float = 0.0
    """Wall time spent inside generation (prefill of new tokens included)."""


@runtime_checkable
class Backend(Protocol):
    """A model that continues a text.

    `stream(text, params)` yields text deltas that continue `text`. The caller may stop iterating
    (close the generator) at any moment; the next call usually passes the old text plus some
    inserted text, and a backend must then process only the new tokens (llama.cpp reuses its KV
    cache on the common prefix; a served backend resends the text and relies on the server's
    prefix cache). Stop strings are the engine's business: it closes the stream when it sees one.
    """

    name: str
    stats: BackendStats
    last_finish_reason: str
    """Why the last stream ended: `eos` (the model's end token), `length` (the call's max_tokens),
    `context` (the context window is full), `stopped` (the caller closed it), or a server's own word."""

    def metadata(self) -> Mapping[str, str]:
        """Model metadata (GGUF keys such as `general.architecture`, `tokenizer.chat_template`)."""
        ...

    def stream(self, text: str, params: SamplingParams) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...

    def close(self) -> None: ...
