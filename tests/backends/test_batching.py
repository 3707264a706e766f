"""The batched decoder's scheduling and sampling, on a counting model (no weights): fast and exact."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from start_tui.backends import BackendError, SamplingParams
from start_tui.backends.batching import BatchedDecoder, Lane, Sampler, SeqState, Work, common_prefix

VOCAB = 50
EOS = VOCAB - 1


class Counting(BatchedDecoder):
    """Each sequence's next token is its last token + 1 (token 1 is the letter 'b', and so on); EOS ends it."""

    label = "counting"

    def __init__(self, k: int, n_ctx: int = 64, fail_at: int | None = None, **kw: float) -> None:
        super().__init__(k, n_ctx, **kw)  # type: ignore[arg-type]
        self.decoded: list[list[tuple[int, list[int]]]] = []
        self.fail_at = fail_at
        self._start([self._lane(i) for i in range(k)])

    def _lane(self, seq: int) -> Lane:
        return Lane(
            self,
            seq,
            name="counting",
            metadata=lambda: {},
            count_tokens=lambda text: len(text),
            encode=lambda text: [ord(c) - ord("a") for c in text],
            detokenizer=lambda tokens: lambda tok: chr(ord("a") + tok),
        )

    def is_eog(self, token: int) -> bool:
        return token == EOS

    def _reconcile(self, pending: list[SeqState]) -> None:
        for s in pending:
            assert s.request is not None
            keep = min(common_prefix(s.kv, s.request), len(s.request) - 1)
            s.kv, s.todo, s.request = s.request[:keep], s.request[keep:], None

    def _decode(self, work: Work) -> list[np.ndarray]:
        if self.fail_at is not None and self.steps >= self.fail_at:
            raise RuntimeError("the device went away")
        self.decoded.append([(state.seq, list(chunk)) for state, _, chunk, _ in work])
        time.sleep(0.002)
        out = []
        for _, _, chunk, sample in work:
            if sample:
                logits = np.zeros(VOCAB, dtype=np.float32)
                logits[min(chunk[-1] + 1, EOS)] = 10.0
                out.append(logits)
        return out


GREEDY = SamplingParams(max_tokens=8, temperature=0.0)


def drain(lane: Lane, text: str, params: SamplingParams = GREEDY) -> str:
    return "".join(lane.stream(text, params))


def drain_together(d: Counting, texts: list[str], stagger_s: float = 0.0) -> dict[int, str]:
    """Each lane i streams texts[i] from a thread of its own, the threads started `stagger_s` apart."""
    outs: dict[int, str] = {}
    threads = [
        threading.Thread(target=lambda i=i, t=t: outs.__setitem__(i, drain(d.lanes[i], t))) for i, t in enumerate(texts)
    ]
    for t in threads:
        t.start()
        time.sleep(stagger_s)
    for t in threads:
        t.join()
    return outs


def test_each_lane_continues_its_own_text_and_counts_what_it_decoded():
    with Counting(3) as d:
        outs = drain_together(d, ["a", "cd", "k"])
        assert outs == {0: "bcdefghi", 1: "efghijkl", 2: "lmnopqrs"}
        assert [lane.last_finish_reason for lane in d.lanes] == ["length"] * 3
        decoded = [sum(len(c) for seq, c in step if seq == i) for step in d.decoded for i in range(3)]
        assert sum(decoded) == sum(lane.stats.tokens_evaluated for lane in d.lanes)
        # one token fed back per step after the prompt: 8 generated, the last one never decoded
        assert [lane.stats.tokens_evaluated for lane in d.lanes] == [1 + 7, 2 + 7, 1 + 7]
        assert max(len(step) for step in d.decoded) == 3  # they ran in the same steps


def test_a_continuation_decodes_only_the_insertion():
    with Counting(1) as d:
        lane = d.lanes[0]
        first = drain(lane, "a")
        before = lane.stats.tokens_evaluated
        assert drain(lane, "a" + first + "xy", SamplingParams(max_tokens=2)) == "z" + chr(ord("a") + min(26, EOS))
        assert lane.stats.tokens_evaluated - before == 1 + 2 + 1  # the last generated token, 'x', 'y', then 'z'


def test_tokens_decoded_ahead_and_dropped_at_a_streams_close_are_not_counted_as_generated():
    """A reader that stops at a marker (the end of a code fence) leaves tokens the scheduler already decoded
    for it: they are not text of the run and must not spend its token budget."""
    with Counting(1, lookahead=6) as d:
        lane = d.lanes[0]
        stream = lane.stream("a", SamplingParams(max_tokens=20, temperature=0.0))
        assert next(stream) == "b" and next(stream) == "c"
        deadline = time.monotonic() + 5
        while len(d._seqs[0].queue) < 3 and time.monotonic() < deadline:  # decoded ahead of the reader
            time.sleep(0.01)
        assert len(d._seqs[0].queue) >= 3
        stream.close()
        assert lane.stats.tokens_generated == 2


def test_a_lane_out_of_the_batch_does_not_stall_the_others():
    with Counting(2, n_ctx=400) as d:
        a, b = d.lanes
        progress: list[int] = []

        def other() -> None:
            for _ in b.stream("a", SamplingParams(max_tokens=40)):
                progress.append(1)

        first = a.stream("a", SamplingParams(max_tokens=40))
        next(first)
        t = threading.Thread(target=other)
        t.start()
        time.sleep(0.3)  # lane a holds its stream open and reads nothing (a paused sample)
        assert len(progress) >= 20 or not t.is_alive()
        first.close()  # lane a leaves for a "tool call"; b carries on
        t.join()
        assert len(progress) == 40
        assert all(len(step) == 1 for step in d.decoded[-10:])


def test_gathered_streams_share_their_first_step_however_late_a_thread_starts():
    with Counting(3, lookahead=GREEDY.max_tokens) as d:  # a slow reader does not drop out of a step
        d.gather(3)
        outs = drain_together(d, ["a", "cd", "k"], stagger_s=0.05)  # ten times the scheduler's catch-up wait
        assert outs == {0: "bcdefghi", 1: "efghijkl", 2: "lmnopqrs"}
        assert [seq for seq, _ in d.decoded[0]] == [0, 1, 2] and d.steps == GREEDY.max_tokens
        # a gather that is not met ends at its timeout
        d.gather(3, timeout=0.1)
        t0 = time.monotonic()
        assert drain(d.lanes[0], "a", SamplingParams(max_tokens=2, temperature=0.0)) == "bc"
        assert 0.1 <= time.monotonic() - t0 < 5


def test_eos_and_the_context_window_end_a_stream_with_their_reason():
    with Counting(2, n_ctx=10) as d:
        near = "".join(chr(ord("a") + t) for t in (45, 46, 47, 48))
        assert drain(d.lanes[0], near[0], SamplingParams(max_tokens=40)) == near[1:]
        assert d.lanes[0].last_finish_reason == "eos"
        assert drain(d.lanes[1], "a", SamplingParams(max_tokens=40)) == "bcdefghi"
        assert d.lanes[1].last_finish_reason == "context"


def test_a_failing_decode_ends_every_stream_with_one_sentence():
    with Counting(2, fail_at=3) as d:
        with pytest.raises(BackendError, match=r"The counting batch decoder failed \(the device went away\)\.") as e:
            drain(d.lanes[0], "a")
        assert "\n" not in str(e.value)
        with pytest.raises(BackendError):
            drain(d.lanes[1], "a")


def test_closing_the_decoder_ends_a_waiting_stream():
    d = Counting(1, fail_at=None)
    stream = d.lanes[0].stream("a", SamplingParams(max_tokens=10_000))
    next(stream)
    d.close()
    with pytest.raises(BackendError, match="closed"):
        for _ in stream:
            pass


# --- the sampler ----------------------------------------------------------------------------------


def test_greedy_is_the_argmax_and_top_k_1_is_greedy_at_any_temperature():
    logits = np.random.default_rng(1).normal(size=1000).astype(np.float32)
    assert Sampler(SamplingParams(temperature=0.0))(logits) == int(np.argmax(logits))
    hot = Sampler(SamplingParams(temperature=5.0, top_k=1, seed=3))
    assert {hot(logits) for _ in range(20)} == {int(np.argmax(logits))}


def expected(logits: np.ndarray, p: SamplingParams) -> np.ndarray:
    """The distribution llama.cpp's chain gives: top-k, top-p on softmax(logits), temperature."""
    order = np.argsort(-logits, kind="stable")[: p.top_k]
    probs = np.exp(logits[order] - logits[order][0])
    probs /= probs.sum()
    keep = int(np.searchsorted(np.cumsum(probs), p.top_p) + 1)
    order = order[:keep]
    w = np.exp((logits[order] - logits[order][0]) / p.temperature)
    out = np.zeros_like(logits, dtype=np.float64)
    out[order] = w / w.sum()
    return out


@pytest.mark.parametrize("spread", [1.0, 40.0])  # logits near each other, and spread wider than the window
def test_sampling_draws_from_the_top_k_top_p_tempered_distribution(spread: float):
    rng = np.random.default_rng(7)
    logits = (rng.normal(size=5000) * spread).astype(np.float32)
    p = SamplingParams(temperature=0.7, top_p=0.9, top_k=12, seed=11)
    want = expected(logits, p)
    sampler = Sampler(p)
    draws = np.bincount([sampler(logits) for _ in range(20_000)], minlength=logits.size) / 20_000
    assert set(np.flatnonzero(draws)) <= set(np.flatnonzero(want))
    assert np.abs(draws - want).max() < 0.015


def draws_of_a_full_sort(logits: np.ndarray, p: SamplingParams, n: int) -> list[int]:
    """What the sampler must draw: the top k by a stable full sort, top-p, temperature, the same generator."""
    rng = np.random.default_rng(p.seed)
    order = np.argsort(-logits, kind="stable")[: p.top_k]
    vals = logits[order].astype(np.float64)
    probs = np.exp(vals - vals[0])
    probs /= probs.sum()
    keep = int(np.searchsorted(np.cumsum(probs), p.top_p) + 1)
    order, vals = order[:keep], vals[:keep]
    w = np.exp((vals - vals[0]) / p.temperature)
    w /= w.sum()
    return [int(order[rng.choice(order.size, p=w)]) for _ in range(n)]


@pytest.mark.parametrize("size", [262_144, 262_144 + 37, 20_000])
@pytest.mark.parametrize("spread", [0.5, 3.0, 40.0])
def test_sampling_a_large_vocabulary_draws_what_a_full_sort_gives(size: int, spread: float):
    rng = np.random.default_rng(size + int(spread))
    logits = (rng.normal(size=size) * spread).astype(np.float32)
    logits[-1] = logits.max() + 0.1  # the largest sits in the tail that is not a whole block
    logits[1000:1010] = logits[5]  # ties across the boundary of the top k
    for top_k in (1, 40, 300):
        p = SamplingParams(temperature=0.8, top_p=0.97, top_k=top_k, seed=size)
        sampler = Sampler(p)
        ids = sampler._candidates(logits, top_k)
        assert np.all(np.diff(ids) > 0)
        assert set(np.argsort(-logits, kind="stable")[:top_k]) <= set(ids)
        assert [sampler(logits) for _ in range(200)] == draws_of_a_full_sort(logits, p, 200)


def test_the_repeat_penalty_lowers_recent_tokens():
    logits = np.array([1.0, 2.0, 1.9], dtype=np.float32)
    s = Sampler(SamplingParams(temperature=0.0, repeat_penalty=1.5))
    assert s(logits) == 1
    assert s(logits) == 2  # token 1 was just used: 2.0 / 1.5 < 1.9
