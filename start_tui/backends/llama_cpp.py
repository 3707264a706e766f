"""The llama.cpp backend (llama-cpp-python): local GGUF models, with KV-cache reuse across insertions.

The backend keeps the token list of the text it last produced, with each token's bytes. When the
engine comes back with that text plus an insertion (or minus some held-back characters), only the
bytes past the longest common prefix are tokenized, and llama.cpp, which compares the new token
list with its context, evaluates only those. `stats.tokens_evaluated` counts every token that
`Llama.eval` really processed.
"""

from __future__ import annotations

import bisect
import codecs
import ctypes
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from start_tui.backends.base import BackendStats, SamplingParams
from start_tui.backends.gguf import read_gguf
from start_tui.errors import StartTuiError

_silenced = False


def _silence_llama_logs() -> None:
    """llama.cpp writes to stderr from C, which would draw over a TUI; route its log to nowhere."""
    global _silenced
    if _silenced:
        return
    import llama_cpp

    @llama_cpp.llama_log_callback
    def _quiet(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        return None

    llama_cpp.llama_log_set(_quiet, ctypes.c_void_p(0))
    _silence_llama_logs.callback = _quiet  # type: ignore[attr-defined]  # keep it alive
    _silenced = True


class LlamaCppBackend:
    """A GGUF model run by llama.cpp on this machine."""

    def __init__(
        self,
        model_path: str | Path,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        seed: int = 0,
    ) -> None:
        info = read_gguf(model_path)
        _silence_llama_logs()
        from llama_cpp import Llama

        try:
            self.llm = Llama(
                model_path=str(info.path),
                n_ctx=n_ctx,
                n_threads=n_threads or max(1, min(os.cpu_count() or 1, 8)),
                n_gpu_layers=n_gpu_layers,
                seed=seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise StartTuiError(f"llama.cpp could not load {str(info.path)!r} ({exc}).") from None
        self.path = info.path
        self.n_ctx = self.llm.n_ctx()
        self.stats = BackendStats()
        self.last_finish_reason = ""
        meta = dict(self.llm.metadata)
        meta["start_tui.bos_token"] = self._piece(self.llm.token_bos()).decode(errors="replace")
        meta["start_tui.eos_token"] = self._piece(self.llm.token_eos()).decode(errors="replace")
        self._metadata = meta
        self.name = meta.get("general.name") or self.path.stem
        self._eval = self.llm.eval
        self.llm.eval = self._counting_eval  # type: ignore[method-assign]  # generate() calls self.eval
        import llama_cpp

        vocab = self.llm._model.vocab
        self._is_eog = lambda tok: bool(llama_cpp.llama_vocab_is_eog(vocab, tok))
        self._bos = self.llm.token_bos()
        self._tokens: list[int] = []
        self._ends: list[int] = []  # cumulative byte length of the text after each token
        self._bytes = b""

    def metadata(self) -> Mapping[str, str]:
        return self._metadata

    def _counting_eval(self, tokens: Sequence[int]) -> None:
        self.stats.tokens_evaluated += len(tokens)
        self._eval(tokens)

    def _piece(self, token: int) -> bytes:
        return bytes(self.llm.detokenize([token], special=True))

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode(), add_bos=True, special=True))

    def _append(self, tokens: list[int]) -> None:
        pos = self._ends[-1] if self._ends else 0
        pieces: list[bytes] = []
        for tok in tokens:
            piece = b"" if tok == self._bos and not self._tokens and not pieces else self._piece(tok)
            pieces.append(piece)
            pos += len(piece)
            self._ends.append(pos)
        self._tokens.extend(tokens)
        self._bytes += b"".join(pieces)

    def _sync(self, text: str) -> list[int]:
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
            self._tokens, self._ends, self._bytes = [], [], b""
            self._append(self.llm.tokenize(data, add_bos=True, special=True))
            return list(self._tokens)
        keep = self._ends[k - 1]
        del self._tokens[k:], self._ends[k:]
        self._bytes = self._bytes[:keep]
        suffix = data[keep:]
        if suffix:
            self._append(self.llm.tokenize(suffix, add_bos=False, special=True))
        return list(self._tokens)

    def stream(self, text: str, params: SamplingParams) -> Iterator[str]:
        tokens = self._sync(text)
        budget = min(params.max_tokens, self.n_ctx - len(tokens) - 1)
        if budget <= 0:
            self.last_finish_reason = "context"
            return
        self.llm.set_seed(params.seed)
        gen = self.llm.generate(
            tokens,
            top_k=params.top_k if params.temperature > 0 else 1,
            top_p=params.top_p,
            min_p=0.0,
            temp=params.temperature,
            repeat_penalty=params.repeat_penalty,
            reset=True,
        )
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        generated: list[int] = []
        self.last_finish_reason = "stopped"
        try:
            while True:
                t0 = time.perf_counter()
                tok = next(gen)
                self.stats.decode_seconds += time.perf_counter() - t0
                if self._is_eog(tok):
                    self.last_finish_reason = "eos"
                    return
                generated.append(tok)
                self.stats.tokens_generated += 1
                delta = decoder.decode(self._piece(tok))
                if delta:
                    yield delta
                if len(generated) >= budget:
                    self.last_finish_reason = "length" if budget == params.max_tokens else "context"
                    return
        finally:
            gen.close()
            self._append(generated)

    def close(self) -> None:
        self.llm.close()
