"""Decoding K sequences together behind K `Backend` lanes: the scheduler shared by the local backends.

A `BatchedDecoder` gives `k` lanes. A lane is a `Backend` for one sequence: the engine drives it
exactly as it drives a single backend (`stream(text)` continues a text, the caller closes the
stream at a marker and comes back with an insertion), so each sample keeps its own text, sampler,
position and insertions. One scheduler thread owns the model state; every step it

- reconciles the lanes that asked for a new text (`_reconcile`: keep what the sequence holds up
  to the common prefix, drop the rest, or take a longer prefix from another sequence);
- puts the new tokens of every streaming lane into one batch (an insertion's tokens, or the token
  sampled last step) and decodes it (`_decode`: one model call, logits at each lane's last token);
- samples one token per lane and hands it to that lane's stream.

A lane whose stream is closed (the engine runs its code block, or inserts a hint) leaves the batch
until it streams again, so one sample's sandbox call never stalls the others. Before a step the
scheduler waits a moment (at most `catch_up_s`) for the lanes to take the tokens already handed
out, so that a stream closed at a marker costs no extra decode; a lane whose reader falls behind
(a paused sample in the app) stops being decoded after `lookahead` unread tokens.
`stats.tokens_evaluated` of a lane counts the tokens really decoded for its sequence.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from start_tui.backends.base import BackendError, BackendStats, SamplingParams

_END_EOS, _END_LENGTH, _END_CONTEXT = -1, -2, -3
_ENDS = {_END_EOS: "eos", _END_LENGTH: "length", _END_CONTEXT: "context"}


class Sampler:
    """Top-k, then top-p on the untempered distribution, then temperature (llama.cpp's order), seeded.

    The top-k candidates are found without sorting the vocabulary: the maxima of blocks of `block`
    logits are taken in one pass, and the k-th largest of them is a threshold that every one of the
    top k logits reaches (k different blocks hold a logit at least that large), so only the few
    logits above it are sorted. A step over a 262k-entry vocabulary then costs one pass, not a sort.
    """

    block = 1024

    def __init__(self, params: SamplingParams) -> None:
        self.params = params
        self.rng = np.random.default_rng(params.seed)
        self.recent: deque[int] = deque(maxlen=64)

    def __call__(self, logits: np.ndarray) -> int:
        p = self.params
        if p.repeat_penalty != 1.0 and self.recent:
            logits = logits.copy()
            ids = np.fromiter(set(self.recent), dtype=np.int64)
            vals = logits[ids]
            logits[ids] = np.where(vals > 0, vals / p.repeat_penalty, vals * p.repeat_penalty)
        tok = int(np.argmax(logits)) if p.temperature <= 0 else self._draw(logits)
        self.recent.append(tok)
        return tok

    def _draw(self, logits: np.ndarray) -> int:
        p = self.params
        k = p.top_k if 0 < p.top_k < logits.size else logits.size
        ids = self._candidates(logits, k)
        vals = logits[ids].astype(np.float64)
        order = np.argsort(-vals, kind="stable")[:k]  # ties: the lower token id first, as a full sort gives
        ids, vals = ids[order], vals[order]
        if p.top_p < 1.0:
            probs = np.exp(vals - vals[0])
            probs /= probs.sum()
            keep = int(np.searchsorted(np.cumsum(probs), p.top_p) + 1)
            ids, vals = ids[:keep], vals[:keep]
        weights = np.exp((vals - vals[0]) / p.temperature)
        weights /= weights.sum()
        return int(ids[self.rng.choice(ids.size, p=weights)])

    def _candidates(self, logits: np.ndarray, k: int) -> np.ndarray:
        """Token ids, ascending, that include every logit at least as large as the k-th largest."""
        block = self.block
        nb = logits.size // block
        if k >= logits.size:
            return np.arange(logits.size)
        if nb < k:  # a small vocabulary: a partition of it
            return np.flatnonzero(logits >= np.partition(logits, -k)[-k])
        peaks = logits[: nb * block].reshape(nb, block).max(axis=1)
        if logits.size > nb * block:
            peaks = np.append(peaks, logits[nb * block :].max())
        return np.flatnonzero(logits >= np.partition(peaks, -k)[-k])


@dataclass
class SeqState:
    """The scheduler's side of one sequence (guarded by the decoder's condition)."""

    seq: int
    kv: list[int] = field(default_factory=list)
    """The tokens the model state holds for this sequence, at positions 0..len-1."""
    request: list[int] | None = None
    """A new text asked for (its tokens), not yet reconciled with `kv`."""
    todo: list[int] = field(default_factory=list)
    """Tokens to decode next for this sequence."""
    active: bool = False
    """Being decoded: its stream is open and has budget left."""
    epoch: int = 0
    """Bumped when a stream opens or closes; a step's sample for an older epoch is dropped."""
    queue: deque[int] = field(default_factory=deque)
    """Sampled tokens (or an end code) its stream has not taken yet."""
    sampler: Sampler | None = None
    budget: int = 0
    end_code: int = _END_LENGTH
    error: str | None = None
    prefill_logits: tuple[int, np.ndarray] | None = None
    """The logits after this sequence's last multi-token decode, and the length they belong to."""
    reader: threading.Condition | None = None
    """Wakes this sequence's reader (shares the decoder's lock): a token for one lane wakes one thread."""
    idle: bool = False
    """Its reader waits for a token: it has done its work on the last one."""


Work = list[tuple[SeqState, int, list[int], bool]]
"""One step: (sequence, its epoch, the tokens to decode, whether to sample after them)."""
Op = tuple[str, Any] | tuple[str, int, int, int]
"""A recorded piece of model work (see `StepProfile.ops`)."""


@dataclass
class StepProfile:
    """Where a decoder's time went (what `bench/parallel.py` reports next to its wall time)."""

    calls: int = 0
    model_seconds: float = 0.0
    sampling_seconds: float = 0.0
    sampled_rows: int = 0
    inserted_tokens: int = 0
    """Tokens decoded beyond one per row of a call: prompts and insertions."""
    ops: list[Op] | None = None
    """With a list here, the model work in order, for a replay of the same work alone (`bench/parallel.py`):
    `("decode", ((seq, start, n, sample), ...))` per call, `("copy", source, seq, keep)` per prefix copied."""

    def add(self, work: Work, *, model: float, sampling: float) -> None:
        self.calls += 1
        self.model_seconds += model
        self.sampling_seconds += sampling
        self.sampled_rows += sum(1 for *_, sample in work if sample)
        self.inserted_tokens += sum(len(chunk) - 1 for _, _, chunk, _ in work)
        if self.ops is not None:
            self.ops.append(("decode", tuple((s.seq, len(s.kv), len(chunk), sample) for s, _, chunk, sample in work)))

    def copied(self, source: int, seq: int, keep: int) -> None:
        if self.ops is not None:
            self.ops.append(("copy", source, seq, keep))


class BatchedDecoder:
    """K lanes over one model; subclasses hold the model state and implement `_reconcile` and `_decode`."""

    label = "batched"
    separate_prefill = False
    """Decode insertions in calls of their own (see `_compose`)."""
    keep_prefill_logits = False
    """Keep the logits of each insertion, for a sequence that takes the same text by copy."""

    def __init__(
        self, k: int, n_ctx: int, *, n_batch: int = 512, lookahead: int = 4, catch_up_s: float = 0.005
    ) -> None:
        if k < 1:
            raise ValueError("a batch needs at least one sequence")
        self.k = k
        self.n_ctx = n_ctx
        """Tokens per sequence."""
        self.n_batch = n_batch
        self.lookahead = lookahead
        self.catch_up_s = catch_up_s
        self._cond = threading.Condition()
        """The scheduler waits on it; each lane's reader waits on a condition of its own on the same lock."""
        self._seqs = [SeqState(seq=i, reader=threading.Condition(self._cond._lock)) for i in range(k)]  # type: ignore[attr-defined]
        self.lanes: list[Lane] = []
        self.steps = 0
        """Model calls made."""
        self.profile = StepProfile()
        self._closed = False
        self._prefilled = False
        self._failed: str | None = None
        self._thread: threading.Thread | None = None
        self._gather: tuple[int, float] | None = None

    def _start(self, lanes: list[Lane]) -> None:
        self.lanes = lanes
        self._thread = threading.Thread(target=self._run, name=f"{self.label}-batch", daemon=True)
        self._thread.start()

    # -- to implement ---------------------------------------------------------------------------
    def _reconcile(self, pending: list[SeqState]) -> None:
        """Set `kv` and `todo` of each sequence in `pending` from its `request` (and clear it); a
        sequence may keep its request to be reconciled at a later step."""
        raise NotImplementedError

    def _decode(self, work: Work) -> list[np.ndarray]:
        """Decode the step; the logits (float32, one row per work item that samples, in order)."""
        raise NotImplementedError

    def _free(self) -> None:
        """Release the model state (called once, after the scheduler stopped)."""

    def is_eog(self, token: int) -> bool:
        raise NotImplementedError

    # -- the lanes' side ------------------------------------------------------------------------
    def open_stream(self, seq: int, tokens: list[int], params: SamplingParams, budget: int) -> int:
        with self._cond:
            if self._failed is not None:
                raise BackendError(self._failed)
            if self._closed:
                raise BackendError("The batch of sequences is closed.")
            state = self._seqs[seq]
            state.epoch += 1
            state.request, state.todo = tokens, []
            state.queue.clear()
            if state.sampler is None or replace(state.sampler.params, max_tokens=0) != replace(params, max_tokens=0):
                state.sampler = Sampler(params)  # the same settings keep their generator across continuations
            state.budget, state.error, state.active = budget, None, True
            state.end_code = _END_LENGTH if budget == params.max_tokens else _END_CONTEXT
            self._cond.notify_all()
            return state.epoch

    def gather(self, streams: int, timeout: float = 10.0) -> None:
        """Take no step until `streams` streams are open (or `timeout` seconds have passed): samples
        started together from threads then share their first step, whichever thread starts last."""
        with self._cond:
            self._gather = (streams, time.monotonic() + timeout)
            self._cond.notify_all()

    def _gathering(self) -> float:
        """Seconds to wait for the streams `gather` asked for (0: none)."""
        if self._gather is None:
            return 0.0
        streams, deadline = self._gather
        left = deadline - time.monotonic()
        if left <= 0 or sum(s.active for s in self._seqs) >= streams:
            self._gather = None
            return 0.0
        return left

    def take(self, seq: int, epoch: int) -> int:
        """The next token of the stream `epoch` of `seq` (negative: the stream's end code)."""
        with self._cond:
            state = self._seqs[seq]
            assert state.reader is not None
            if not state.queue:
                state.idle = True
                self._cond.notify()  # the scheduler may be waiting for readers to catch up
                while not state.queue and state.error is None and state.epoch == epoch and not self._closed:
                    state.reader.wait()
                state.idle = False
            if state.error is not None:
                raise BackendError(state.error)
            if self._closed or state.epoch != epoch:
                raise BackendError("The batch of sequences was closed during generation.")
            tok = state.queue.popleft()
            if tok >= 0:  # counted as read: tokens decoded ahead and dropped at a stream's close never were
                self.lanes[seq].stats.tokens_generated += 1
            return tok

    def close_stream(self, seq: int) -> None:
        with self._cond:
            state = self._seqs[seq]
            state.epoch += 1
            state.active = False
            state.queue.clear()
            self._cond.notify_all()

    # -- the scheduler --------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                work = self._next_work()
                if work is None:
                    return
                self._step(work)
        except BaseException as exc:  # any failure ends every stream with one sentence
            with self._cond:
                self._failed = f"The {self.label} batch decoder failed ({exc})."
                for state in self._seqs:
                    state.error = self._failed
                self._wake_readers()

    def _ready(self, state: SeqState) -> bool:
        return state.active and len(state.queue) < self.lookahead and (state.request is not None or bool(state.todo))

    def _next_work(self) -> Work | None:
        with self._cond:
            while True:
                while not self._closed and not any(self._ready(s) for s in self._seqs):
                    self._cond.wait()
                if self._closed:
                    return None
                wait = self._gathering()
                if wait:
                    self._cond.wait(wait)
                    continue
                # let readers take what they were handed and act on it: a stream closed at a marker then
                # costs no decode, and the model's threads are not preempted by the readers' Python
                deadline = time.monotonic() + self.catch_up_s
                while any(s.active and (s.queue or not s.idle) for s in self._seqs):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                pending = [s for s in self._seqs if s.request is not None and s.active]
                if pending:
                    self._reconcile(pending)
                work = self._compose()
                if work:
                    return work
                self._cond.wait(0.01)  # every asking lane waits for a prefix another one decodes

    def _compose(self) -> Work:
        """The next step. With `separate_prefill`, a sequence's insertion (several tokens) is decoded in
        a call of its own, taking turns with the calls that decode one token for every other sequence:
        each row then goes through the same kernels as when its sequence runs alone, so a greedy
        sample decodes exactly what it decodes alone."""
        ready = [s for s in self._seqs if self._ready(s) and s.request is None]
        if self.separate_prefill:
            prefill = [s for s in ready if len(s.todo) > 1]
            single = [s for s in ready if len(s.todo) == 1]
            if prefill and (not single or not self._prefilled):
                state = prefill[0]
                chunk = state.todo[: self.n_batch]
                self._prefilled = True
                return [(state, state.epoch, chunk, len(chunk) == len(state.todo))]
            self._prefilled = False
            ready = single
        work: Work = []
        room = self.n_batch
        for state in ready:
            if room <= 0:
                break
            chunk = state.todo[:room]
            room -= len(chunk)
            work.append((state, state.epoch, chunk, len(chunk) == len(state.todo)))
        return work

    def _step(self, work: Work) -> None:
        t0 = time.perf_counter()
        rows = self._decode(work)
        t1 = time.perf_counter()
        samples: list[tuple[SeqState, int, int]] = []
        outputs = [(state, epoch, len(chunk)) for state, epoch, chunk, sample in work if sample]
        for (state, epoch, n), logits in zip(outputs, rows, strict=True):
            assert state.sampler is not None
            if n > 1 and self.keep_prefill_logits:  # another sequence asking for this text reuses them
                state.prefill_logits = (len(state.kv) + n, logits.copy())
            samples.append((state, epoch, state.sampler(logits)))
        t2 = time.perf_counter()
        seconds = t2 - t0
        self.steps += 1
        self.profile.add(work, model=t1 - t0, sampling=t2 - t1)
        with self._cond:
            for state, _, chunk, _ in work:
                state.kv.extend(chunk)
                del state.todo[: len(chunk)]
                stats = self.lanes[state.seq].stats
                stats.tokens_evaluated += len(chunk)
                stats.decode_seconds += seconds
            for state, epoch, tok in samples:
                self._deliver(state, epoch, tok)

    def _deliver(self, state: SeqState, epoch: int, tok: int) -> None:
        """Hand a sampled token to the stream (called with the condition held)."""
        if state.epoch != epoch or not state.active:
            return  # the stream closed meanwhile: the sample is dropped
        assert state.reader is not None
        state.reader.notify()
        if self.is_eog(tok):
            state.queue.append(_END_EOS)
            state.active = False
            return
        state.queue.append(tok)
        state.budget -= 1
        if state.budget <= 0:
            state.queue.append(state.end_code)
            state.active = False
        else:
            state.todo = [tok]

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
            self._wake_readers()
        if self._thread is not None:
            self._thread.join()
        self._free()

    def _wake_readers(self) -> None:
        for state in self._seqs:
            assert state.reader is not None
            state.reader.notify_all()

    def __enter__(self) -> BatchedDecoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


class Lane:
    """One sequence of a `BatchedDecoder`, with the `Backend` interface; one run drives it at a time.

    `encode(text)` gives the token list of a text (sharing what it can with the last one), and
    `detokenizer(tokens)` a function that turns each next token into the text it adds.
    """

    def __init__(
        self,
        decoder: BatchedDecoder,
        seq: int,
        *,
        name: str,
        metadata: Callable[[], Mapping[str, str]],
        count_tokens: Callable[[str], int],
        encode: Callable[[str], list[int]],
        detokenizer: Callable[[list[int]], Callable[[int], str]],
        generated: Callable[[list[int]], None] = lambda tokens: None,
    ) -> None:
        self.decoder = decoder
        self.seq = seq
        self.name = name
        self.n_ctx = decoder.n_ctx
        self.stats = BackendStats()
        self.last_finish_reason = ""
        self._metadata = metadata
        self._count = count_tokens
        self._encode = encode
        self._detokenizer = detokenizer
        self._generated = generated

    def metadata(self) -> Mapping[str, str]:
        return self._metadata()

    def count_tokens(self, text: str) -> int:
        return self._count(text)

    def stream(self, text: str, params: SamplingParams) -> Iterator[str]:
        tokens = self._encode(text)
        budget = min(params.max_tokens, self.n_ctx - len(tokens) - 1)
        if budget <= 0:
            self.last_finish_reason = "context"
            return
        epoch = self.decoder.open_stream(self.seq, tokens, params, budget)
        text_of = self._detokenizer(tokens)
        generated: list[int] = []
        self.last_finish_reason = "stopped"
        try:
            while True:
                tok = self.decoder.take(self.seq, epoch)
                if tok < 0:
                    self.last_finish_reason = _ENDS[tok]
                    return
                generated.append(tok)
                delta = text_of(tok)
                if delta:
                    yield delta
        finally:
            self.decoder.close_stream(self.seq)
            self._generated(generated)

    def close(self) -> None:
        """A lane is closed with its decoder."""
