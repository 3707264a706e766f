"""llama.cpp lanes on the embedded model: K sequences in one context decode what one sequence alone decodes."""

from __future__ import annotations

import threading
from pathlib import Path

from start_tui.backends import SamplingParams
from start_tui.backends.batching import StepProfile
from start_tui.backends.llama_cpp import LlamaCppBackend

PROMPT = "Problem: What is 12 times 13?\nSolution:"
GREEDY = SamplingParams(max_tokens=24, temperature=0.0)


def together(lanes: list, texts: list[str], params: SamplingParams = GREEDY) -> list[str]:
    outs = [""] * len(texts)

    def go(i: int) -> None:
        outs[i] = "".join(lanes[i].stream(texts[i], params))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outs


def test_lanes_share_the_prompt_and_decode_what_one_sequence_alone_decodes(model_path: Path):
    single = LlamaCppBackend(model_path, n_ctx=1024)
    try:
        alone = "".join(single.stream(PROMPT, GREEDY))
        prompt_tokens = single.count_tokens(PROMPT)
        with single.batch(3) as batch:
            batch.gather(3)  # the three start together however the threads are scheduled
            batch.lookahead = GREEDY.max_tokens  # and a slow reader does not drop out of a step
            outs = together(batch.lanes, [PROMPT] * 3)
            assert outs == [alone] * 3
            evaluated = [lane.stats.tokens_evaluated for lane in batch.lanes]
            # the prompt is decoded once; the other sequences copy its cache and sample from its logits
            fed_back = GREEDY.max_tokens - 1  # every generated token but the last goes through the model
            assert sorted(evaluated) == [fed_back, fed_back, prompt_tokens + fed_back]
            assert batch.steps <= GREEDY.max_tokens + 2  # one decode call per step for all three
            # one sequence gets an insertion, another goes on where it stopped: each as it would alone
            inserted = PROMPT + alone + "\nWait, let me check: 12 * 13 ="
            want = "".join(single.stream(inserted, SamplingParams(max_tokens=8)))
            before = batch.lanes[0].stats.tokens_evaluated
            got = together(batch.lanes[:1], [inserted], SamplingParams(max_tokens=8))
            assert got == [want]
            added = single.count_tokens(inserted) - single.count_tokens(PROMPT + alone)
            assert batch.lanes[0].stats.tokens_evaluated - before <= added + 2 + 8
            assert "".join(batch.lanes[1].stream(PROMPT + alone, SamplingParams(max_tokens=4))).strip()
    finally:
        single.close()


def test_sampled_lanes_differ_by_seed_while_a_greedy_one_stays_exact(model_path: Path):
    """Sampling draws from each lane's own seeded generator; a greedy lane in the same steps is unaffected.
    (A sampled lane is reproducible only up to the batch it shares: other rows change the arithmetic
    of a step by a rounding error, as in any batched engine.)"""
    single = LlamaCppBackend(model_path, n_ctx=512)
    try:
        alone = "".join(single.stream(PROMPT, SamplingParams(max_tokens=16)))
        params = [SamplingParams(max_tokens=16, temperature=1.0, seed=s) for s in (1, 2)]
        params.append(SamplingParams(max_tokens=16))
        with single.batch(3) as batch:
            outs = [""] * 3

            def go(i: int) -> None:
                outs[i] = "".join(batch.lanes[i].stream(PROMPT, params[i]))

            threads = [threading.Thread(target=go, args=(i,)) for i in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert outs[0] != outs[1] and outs[2] == alone
    finally:
        single.close()


def test_from_four_sequences_one_unified_cache_takes_every_step_in_one_call(model_path: Path):
    """From 4 lanes the cache is unified: the prompt is held once, an insertion rides in the same call as
    the other lanes' tokens, and a lane that copies another's prefix and cuts it back leaves the other
    intact. Rows from 4 up go through ggml's gemm kernels, which round differently from a run alone
    (and which rows share a call depends on the readers' timing), so texts are compared with the single
    sequence only where each step decodes one row."""
    single = LlamaCppBackend(model_path, n_ctx=1024)
    short = SamplingParams(max_tokens=8, temperature=0.0)
    try:
        alone = "".join(single.stream(PROMPT, short))
        prompt_tokens = single.count_tokens(PROMPT)
        with single.batch(5) as batch:
            assert batch.unified and not batch.separate_prefill
            assert all(together(batch.lanes, [PROMPT] * 5, short))
            fed_back = short.max_tokens - 1
            evaluated = sorted(lane.stats.tokens_evaluated for lane in batch.lanes)
            # the prompt is decoded once; a lane that copies it decodes at most its last token again
            # (when its request comes after the source has moved on: the readers' timing decides)
            assert evaluated[-1] == prompt_tokens + fed_back and evaluated[-2] <= fed_back + 1
            # lane 0 gets an insertion while the others go on: one call per step for all five
            text = PROMPT + alone
            inserted = text + "\nWait, let me check: 12 * 13 ="
            added = single.count_tokens(inserted) - single.count_tokens(text)
            steps, before = batch.steps, batch.lanes[0].stats.tokens_evaluated
            # the five start in one step however the threads are scheduled, and a slow reader does not
            # drop out of a step (a lane that copies a prefix the insertion decodes waits one step)
            batch.gather(5)
            batch.lookahead = short.max_tokens
            assert all(together(batch.lanes, [inserted] + [text] * 4, short))
            assert batch.steps - steps <= short.max_tokens + 1
            assert batch.lanes[0].stats.tokens_evaluated - before <= added + short.max_tokens + 1
        # one row a step, called in the order the single sequence was: the copy and the cut back are
        # exact (lane 2 takes lane 0's text, lane 0 goes on from its own cells)
        fresh = LlamaCppBackend(model_path, n_ctx=1024)
        try:
            want = ["".join(fresh.stream(t, short)) for t in (PROMPT, inserted)]
            want.append("".join(fresh.stream(inserted + want[1], short)))
        finally:
            fresh.close()
        with single.batch(4) as batch:
            lanes = batch.lanes
            got = ["".join(lanes[0].stream(PROMPT, short)), "".join(lanes[0].stream(inserted, short))]
            assert got == want[:2]
            before = lanes[2].stats.tokens_evaluated
            assert "".join(lanes[2].stream(inserted, short)) == want[1]
            assert lanes[2].stats.tokens_evaluated - before <= short.max_tokens  # a copy, not the prompt again
            assert "".join(lanes[0].stream(inserted + want[1], short)) == want[2]
    finally:
        single.close()


def test_the_recorded_model_work_accounts_for_every_cell_of_every_sequence(model_path: Path):
    """`StepProfile(ops=[])` records each model call and each prefix copy (what bench/parallel.py replays
    to price the batched path against the same work done bare): read in order, every call continues a
    sequence where its cells end (nothing missing before it), and the tokens recorded per sequence are
    the tokens the lane counts as evaluated."""
    single = LlamaCppBackend(model_path, n_ctx=1024)
    short = SamplingParams(max_tokens=8, temperature=0.0)
    try:
        with single.batch(3) as batch:
            batch.profile = StepProfile(ops=[])
            first = together(batch.lanes, [PROMPT] * 3, short)  # the prompt is decoded once and copied
            text = PROMPT + first[0]
            # an insertion, a continuation, and a lane cut back to the prompt
            together(batch.lanes, [text + "\nWait, let me check: 12 * 13 =", PROMPT + first[1], PROMPT], short)
            ops = batch.profile.ops
            assert ops is not None and any(op[0] == "copy" for op in ops)
            length, decoded = [0] * 3, [0] * 3
            for op in ops:
                if op[0] == "copy":
                    _, source, seq, keep = op
                    assert keep <= length[source]
                    length[seq] = keep
                    continue
                for seq, start, n, _ in op[1]:
                    assert start <= length[seq]
                    length[seq], decoded[seq] = start + n, decoded[seq] + n
            assert decoded == [lane.stats.tokens_evaluated for lane in batch.lanes]
    finally:
        single.close()
