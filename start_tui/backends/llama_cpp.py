"""The llama.cpp backend (llama-cpp-python): local GGUF models, with KV-cache reuse across insertions.

The backend keeps the token list of the text it last produced, with each token's bytes. When the
engine comes back with that text plus an insertion (or minus some held-back characters), only the
bytes past the longest common prefix are tokenized, and llama.cpp, which compares the new token
list with its context, evaluates only those. `stats.tokens_evaluated` counts every token that
`Llama.eval` really processed.
"""

from __future__ import annotations

import codecs
import ctypes
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from start_tui.backends.base import BackendStats, SamplingParams
from start_tui.backends.compute import compute
from start_tui.backends.cpu_build import check_cpu_build
from start_tui.backends.embedded import SHIPPED_ADAPTER, SHIPPED_PROFILE, embedded_label, embedded_note
from start_tui.backends.gguf import check_adapter, read_gguf
from start_tui.backends.learned import PROFILE_KEY, PROMPT_KEY, in_gguf
from start_tui.backends.tokens import HeldTokens
from start_tui.errors import StartTuiError

if TYPE_CHECKING:
    from start_tui.backends.llama_batch import LlamaBatch

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


class PrefillStopped(Exception):
    """The run asked to stop, pause or take a hint while a long text was being read."""


class LlamaCppBackend:
    """A GGUF model run by llama.cpp on this machine."""

    def __init__(
        self,
        model_path: str | Path,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        seed: int = 0,
        adapter: str | Path | None = None,
        flash_attn: bool = False,
    ) -> None:
        """`flash_attn` is faster at long contexts (its kernel skips masked cells), but a prefix decoded in
        one call and continued token by token then rounds differently from a full evaluation, and so do
        the samples of a batch. Off, a reused context holds exactly what a fresh one given the same calls
        holds; on some hosts ggml's CPU kernels still round a call of a few tokens differently from a call
        of many (an AVX2 host here: next-token logits up to 0.96 apart), so a greedy run can part from a
        full evaluation at a near tie."""
        info = read_gguf(model_path)
        adapter_info = check_adapter(info, adapter) if adapter else None
        self.n_threads = n_threads or max(1, min(os.cpu_count() or 1, 8))
        check_cpu_build()
        _silence_llama_logs()
        from llama_cpp import Llama

        try:
            self.llm = Llama(
                model_path=str(info.path),
                n_ctx=n_ctx,
                n_threads=self.n_threads,
                n_gpu_layers=n_gpu_layers,
                seed=seed,
                verbose=False,
                lora_path=str(adapter_info.path) if adapter_info else None,
                flash_attn=flash_attn,
            )
        except (ValueError, RuntimeError) as exc:
            raise StartTuiError(f"llama.cpp could not load {str(info.path)!r} ({exc}).") from None
        self.path = info.path
        self.adapter = adapter_info.path if adapter_info else None
        self.shipped_adapter = self.adapter is not None and self.adapter.resolve() == SHIPPED_ADAPTER
        # llama.cpp may pad the context (320 -> 512) while llama-cpp-python's token buffer keeps the size asked for
        self.n_ctx = min(n_ctx, self.llm.n_ctx())
        self.stats = BackendStats()
        self.last_finish_reason = ""
        import llama_cpp

        vocab = self.llm._model.vocab
        meta = dict(self.llm.metadata)
        # llama.cpp puts BOS before the text itself where the model wants one: a template that writes
        # {{ bos_token }} too would give two (Llama 3, the R1 distills)
        adds_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab))
        meta["start_tui.bos_token"] = "" if adds_bos else self.piece(self.llm.token_bos()).decode(errors="replace")
        meta["start_tui.eos_token"] = self.piece(self.llm.token_eos()).decode(errors="replace")
        self._metadata = meta
        self.name = meta.get("general.name") or self.path.stem
        meta.update(in_gguf(info))  # whole, where llama.cpp's metadata may cut a long prompt
        if self.adapter:
            meta["start_tui.adapter"] = str(self.adapter)
            self.name += f" + {self.adapter.stem}"
            if self.shipped_adapter:  # prompted as it was trained, however it was named
                meta[PROFILE_KEY] = SHIPPED_PROFILE
            elif adapter_info is not None and (learned := in_gguf(adapter_info)):
                meta.pop(PROMPT_KEY, None)  # the base model's prompt is not the one the adapter learned
                meta.update(learned)
        self._eval = self.llm.eval
        self.llm.eval = self._counting_eval  # type: ignore[method-assign]  # generate() calls self.eval
        self._is_eog = lambda tok: bool(llama_cpp.llama_vocab_is_eog(vocab, tok))
        self.bos = self.llm.token_bos()
        self._held = HeldTokens(self.tokenize, self.piece, self.bos)
        self.interrupt: threading.Event | None = None
        """Set by the run that streams (its steering event): reading a long text stops when it is set."""
        self.prefill: tuple[int, int] | None = None
        """While a text longer than one batch is read: (tokens read, tokens to read)."""

    def metadata(self) -> Mapping[str, str]:
        return self._metadata

    def describe_embedded(self, name: str) -> None:
        """Name this backend as the embedded model `name`, with a note (`start_tui.note`) that the app's header
        and `solve`'s say: which model and adapter, and what --model takes instead."""
        self.name = embedded_label(name, self.adapter, self.shipped_adapter)
        self._metadata["start_tui.note"] = embedded_note(name, self.shipped_adapter)

    def _counting_eval(self, tokens: Sequence[int]) -> None:
        """Evaluate `tokens` in llama.cpp's own batches (the same calls its `eval` makes), saying how far
        a long read has come (`prefill`) and stopping between batches when `interrupt` is set."""
        step = max(1, self.llm.n_batch)
        total = len(tokens)
        try:
            for i in range(0, total, step):
                if self.interrupt is not None and self.interrupt.is_set():
                    raise PrefillStopped
                if total > step:
                    self.prefill = (i, total)
                chunk = tokens[i : i + step]
                self.stats.tokens_evaluated += len(chunk)
                compute.call(self._eval, chunk)  # on the process's one compute thread (see `compute`)
        finally:
            self.prefill = None

    def piece(self, token: int) -> bytes:
        return bytes(self.llm.detokenize([token], special=True))

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode(), add_bos=True, special=True))

    def tokenize(self, data: bytes, add_bos: bool) -> list[int]:
        return list(self.llm.tokenize(data, add_bos=add_bos, special=True))

    def is_eog(self, token: int) -> bool:
        return self._is_eog(token)

    def batch(self, k: int) -> LlamaBatch:
        """`k` lanes decoded together on this model (a second context; the weights are shared)."""
        from start_tui.backends.llama_batch import LlamaBatch

        return LlamaBatch(self, k)

    def stream(self, text: str, params: SamplingParams) -> Iterator[str]:
        tokens = self._held.sync(text)
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
                try:
                    tok = next(gen)
                except PrefillStopped:
                    self.last_finish_reason = "interrupted"
                    return
                self.stats.decode_seconds += time.perf_counter() - t0
                if self._is_eog(tok):
                    self.last_finish_reason = "eos"
                    return
                generated.append(tok)
                self.stats.tokens_generated += 1
                delta = decoder.decode(self.piece(tok))
                if delta:
                    yield delta
                if len(generated) >= budget:
                    self.last_finish_reason = "length" if budget == params.max_tokens else "context"
                    return
        finally:
            gen.close()
            self._held.append(generated)

    def close(self) -> None:
        self.llm.close()
