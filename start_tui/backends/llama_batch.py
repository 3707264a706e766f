"""K sequences of one llama.cpp model decoded together: one context, one `llama_decode` per step.

`LlamaBatch(backend, k)` opens a second context on the backend's loaded model (the weights are
shared) with `n_seq_max = k` (a stream of KV cells per sequence up to 3, one unified cache from 4:
see `__init__`), and gives `k` lanes (see `batching`). A
prompt shared by the K samples is evaluated once: a sequence that asks for a text another one
holds (or is about to decode) takes that prefix with `llama_memory_seq_cp` instead of decoding it.
"""

from __future__ import annotations

import codecs
import ctypes
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from start_tui.backends.base import BackendError
from start_tui.backends.batching import BatchedDecoder, Lane, SeqState, Work, common_prefix
from start_tui.backends.compute import compute
from start_tui.backends.tokens import HeldTokens

if TYPE_CHECKING:
    from start_tui.backends.llama_cpp import LlamaCppBackend


class LlamaBatch(BatchedDecoder):
    """K lanes over one llama.cpp context; close it to free the context (the model stays loaded)."""

    label = "llama.cpp"
    separate_prefill = True
    keep_prefill_logits = True

    def __init__(self, backend: LlamaCppBackend, k: int, *, n_ctx: int | None = None, **kw: float) -> None:
        import llama_cpp

        super().__init__(k, n_ctx or backend.n_ctx, **kw)  # type: ignore[arg-type]
        self.backend = backend
        model = backend.llm._model.model
        params = llama_cpp.llama_context_default_params()
        for name, _ in params._fields_:  # the single context's settings (flash attention, cache types...):
            setattr(params, name, getattr(backend.llm.context_params, name))  # the same numbers come out
        params.n_ctx = self.n_ctx * k
        params.n_batch = params.n_ubatch = self.n_batch
        params.n_seq_max = k
        # Up to 3 rows a step, each row goes through the kernels a run alone uses (from 4, ggml's gemm
        # kernels round differently anyway). There a stream of cells per sequence keeps every sample
        # exactly what it decodes alone; but llama.cpp decodes the rows of one call in one pass only
        # when their streams are consecutive, and a sample out of the step (a tool call, an insertion,
        # its end) would split the call into several passes over the weights. From 4 sequences one
        # unified cache takes every step in one pass, insertions included, and holds a shared prompt once.
        self.unified = k >= 4
        self.separate_prefill = not self.unified
        params.kv_unified = self.unified
        params.n_threads = params.n_threads_batch = backend.n_threads
        params.no_perf = True
        self.context_params = params
        ctx = llama_cpp.llama_init_from_model(model, params)
        if not ctx:
            raise BackendError(f"llama.cpp could not open a context for {k} sequences of {self.n_ctx} tokens.")
        lora = getattr(backend.llm, "_lora_adapter", None)
        if lora is not None:  # the single context's adapter, on this context too
            adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(lora)
            scales = (ctypes.c_float * 1)(backend.llm.lora_scale)
            if llama_cpp.llama_set_adapters_lora(ctx, adapters, 1, scales):
                llama_cpp.llama_free(ctx)
                raise BackendError("llama.cpp could not put the LoRA adapter on the batched context.")
        self._llama = llama_cpp
        self._ctx = ctx
        self._mem = llama_cpp.llama_get_memory(ctx)
        self._n_vocab = llama_cpp.llama_vocab_n_tokens(backend.llm._model.vocab)
        self._n_swa = int(llama_cpp.llama_model_n_swa(model))
        self._batch = llama_cpp.llama_batch_init(self.n_batch, 0, 1)
        self._start([self._lane(i) for i in range(k)])

    def _lane(self, seq: int) -> Lane:
        b = self.backend
        held = HeldTokens(b.tokenize, b.piece, b.bos)

        def detokenizer(tokens: list[int]) -> Callable[[int], str]:
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            return lambda tok: decoder.decode(b.piece(tok))

        return Lane(
            self,
            seq,
            name=b.name,
            metadata=b.metadata,
            count_tokens=b.count_tokens,
            encode=held.sync,
            detokenizer=detokenizer,
            generated=held.append,
        )

    def is_eog(self, token: int) -> bool:
        return self.backend.is_eog(token)

    def _reconcile(self, pending: list[SeqState]) -> None:
        llama, mem = self._llama, self._mem
        for state in pending:
            target = state.request
            assert target is not None

            def has_logits(source: SeqState, n: int, target: list[int] = target) -> bool:
                saved = source.prefill_logits
                return saved is not None and saved[0] == n == len(target)

            own = common_prefix(state.kv, target)
            best, source = own, state
            for other in self._seqs:
                if other is state:
                    continue
                # a prefix another sequence is about to decode: wait a step and copy it then
                if other.request is None and other.active and other.todo and other.kv == target[: len(other.kv)]:
                    ahead = len(other.kv) + common_prefix(other.todo, target[len(other.kv) :])
                    if ahead > best:
                        best, source = ahead, other
                        continue
                n = common_prefix(other.kv, target)
                if not self._window_ok(other, n):
                    continue
                # on a tie between two sources, the one whose saved logits give the next token
                if n > best or (n == best and source is not state and has_logits(other, n) > has_logits(source, n)):
                    best, source = n, other
            if source is not state and len(source.kv) < best:
                continue  # deferred: the source has not decoded that prefix yet
            saved = source.prefill_logits if source is not state else None
            whole = saved is not None and saved[0] == len(target) == best and self._window_ok(source, best)
            keep = best if whole else min(best, len(target) - 1)  # else the last token is decoded for logits
            if source is not state and not self._window_ok(source, keep):
                source, keep, whole = state, min(own, len(target) - 1), False
            if source is state:
                if not self._window_ok(state, keep) or not llama.llama_memory_seq_rm(mem, state.seq, keep, -1):
                    keep = 0
                    llama.llama_memory_seq_rm(mem, state.seq, -1, -1)
            else:
                # each sequence has its own stream of cells: copy the source's, then cut it back to `keep`
                llama.llama_memory_seq_rm(mem, state.seq, -1, -1)
                llama.llama_memory_seq_cp(mem, source.seq, state.seq, -1, -1)
                llama.llama_memory_seq_rm(mem, state.seq, keep, -1)
                self.profile.copied(source.seq, state.seq, keep)
            state.kv = target[:keep]
            state.todo = target[keep:]
            state.request = None
            if whole and saved is not None and state.sampler is not None:
                # the source decoded exactly this text: its logits give this sequence's first token
                self._deliver(state, state.epoch, state.sampler(saved[1]))

    def _window_ok(self, state: SeqState, keep: int) -> bool:
        """Whether the sequence still holds what a continuation from position `keep` attends to
        (a sliding-window cache keeps only the last window)."""
        if keep == 0 or self._n_swa <= 0:
            return True
        pos_min = self._llama.llama_memory_seq_pos_min(self._mem, state.seq)
        return pos_min <= max(0, keep - self._n_swa)

    def _decode(self, work: Work) -> list[np.ndarray]:
        llama, batch = self._llama, self._batch
        n = 0
        rows: list[int] = []
        for state, _, chunk, sample in work:
            start = len(state.kv)
            for j, tok in enumerate(chunk):
                batch.token[n] = tok
                batch.pos[n] = start + j
                batch.n_seq_id[n] = 1
                batch.seq_id[n][0] = state.seq
                batch.logits[n] = 0
                n += 1
            if sample:
                batch.logits[n - 1] = 1
                rows.append(n - 1)
        batch.n_tokens = n
        rc = compute.call(llama.llama_decode, self._ctx, batch)  # see `compute`
        if rc != 0:
            raise RuntimeError("no room left in the KV cache" if rc == 1 else f"llama_decode returned {rc}")
        out = []
        for row in rows:
            ptr = ctypes.cast(llama.llama_get_logits_ith(self._ctx, row), ctypes.POINTER(ctypes.c_float))
            out.append(np.ctypeslib.as_array(ptr, shape=(self._n_vocab,)))
        return out

    def _free(self) -> None:
        self._llama.llama_batch_free(self._batch)
        self._llama.llama_free(self._ctx)
