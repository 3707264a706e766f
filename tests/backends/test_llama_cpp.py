"""The llama.cpp backend on the embedded model: prefix reuse is counted and does not change the output."""

import ctypes
from collections.abc import Sequence
from itertools import islice
from pathlib import Path

import numpy as np

from start_tui.backends import SamplingParams
from start_tui.backends.llama_cpp import LlamaCppBackend

PROMPT = "Problem: What is 12 times 13?\nSolution:"
GREEDY = SamplingParams(max_tokens=24, temperature=0.0)


def take(backend: LlamaCppBackend, text: str, n: int) -> str:
    return "".join(islice(backend.stream(text, GREEDY), n))


def next_logits(backend: LlamaCppBackend) -> np.ndarray:
    """The context's logits for the token after the last one it evaluated."""
    import llama_cpp

    last = llama_cpp.llama_get_logits_ith(backend.llm._ctx.ctx, -1)
    return np.ctypeslib.as_array(
        ctypes.cast(last, ctypes.POINTER(ctypes.c_float)), shape=(backend.llm.n_vocab(),)
    ).copy()


def test_continuing_after_an_insertion_evaluates_only_the_new_tokens(fresh_backend: LlamaCppBackend):
    b = fresh_backend
    first = take(b, PROMPT, 12)
    prompt_tokens = b.count_tokens(PROMPT)
    evaluated = b.stats.tokens_evaluated
    assert evaluated <= prompt_tokens + 12
    inserted = " Wait, let me check with Python."
    new_tokens = len(b.llm.tokenize(inserted.encode(), add_bos=False))
    before = b.stats.tokens_evaluated
    take(b, PROMPT + first + inserted, 8)
    # the held generated token that was never fed back, plus the inserted text, plus fed-back output
    assert b.stats.tokens_evaluated - before <= new_tokens + 1 + 8


def test_reused_context_holds_what_a_fresh_context_given_the_same_calls_holds(fresh_backend: LlamaCppBackend):
    """After an insertion the backend evaluates only the new tokens, on the context it kept. That context
    holds the text's own tokens, in order, at their positions: the calls it made, done again on an
    emptied context, give the very same next-token logits.

    The reference is the same calls, not one call of the whole text: ggml's CPU kernels round a call of a
    few tokens differently from a call of many on some hosts (measured on an AVX2 host: the same 50
    tokens one at a time, or in calls of 2 or 4, give next-token logits up to 0.96 apart from one call of
    them all; calls of 8 or more, identical), and a greedy continuation can then flip at a near tie
    whether or not anything was reused. Where one call gives what the calls gave, the continuations
    must agree too."""
    b = fresh_backend
    calls: list[list[int]] = []
    counting = b.llm.eval

    def recording(tokens: Sequence[int]) -> None:
        calls.append(list(tokens))
        counting(tokens)

    b.llm.eval = recording  # type: ignore[method-assign]  # generate() calls self.eval
    first = take(b, PROMPT, 10)
    text = PROMPT + first + " Wait, maybe using Python here is a good idea.\n```python\n"
    whole = b.tokenize(text.encode(), add_bos=True)
    before, made = b.stats.tokens_evaluated, len(calls)
    token = take(b, text, 1)  # the first token after `text` is drawn, not fed back: the context ends at `text`
    reused = next_logits(b)
    assert len(calls) > made and b.stats.tokens_evaluated - before < len(whole) - 10  # only the new part
    assert [tok for call in calls for tok in call] == whole  # the text's tokens, in order, nothing else
    b.llm.reset()
    for call in calls:
        counting(call)
    assert np.array_equal(next_logits(b), reused)
    assert b.piece(int(np.argmax(reused))).decode(errors="replace") == token
    b.llm.reset()
    counting(whole)
    if np.array_equal(next_logits(b), reused):  # this host's kernels round one call as they round several
        b.llm.reset()
        assert take(b, PROMPT, 10) == first
        continued = take(b, text, 20)
        b.llm.reset()  # forget the KV cache; the same token list is evaluated from scratch
        assert take(b, text, 20) == continued


def test_dropping_held_back_text_reuses_the_common_prefix(fresh_backend: LlamaCppBackend):
    """The engine may keep less than was streamed (a held-back `Wait`); the backend backs off to it."""
    b = fresh_backend
    got = take(b, PROMPT, 16)
    kept = got[: len(got) // 2]
    before = b.stats.tokens_evaluated
    take(b, PROMPT + kept + "\nLet me", 4)
    assert b.stats.tokens_evaluated - before <= len(b.llm.tokenize(b"\nLet me", add_bos=False)) + 4 + 2


def test_metadata_and_name(backend: LlamaCppBackend):
    meta = backend.metadata()
    # Gemma's vocabulary adds <bos> itself, so a template's {{ bos_token }} must render empty
    assert meta["general.architecture"] == "gemma3" and meta["start_tui.bos_token"] == ""
    assert backend.name == "Gemma 3 270m"


def test_flash_attention_is_a_switch_that_reaches_both_contexts(model_path: Path):
    import llama_cpp

    from start_tui.options import EngineOptions, open_model

    b = open_model(EngineOptions(model=str(model_path), n_ctx=512, flash_attn=True))
    assert isinstance(b, LlamaCppBackend)
    try:
        assert b.llm.context_params.flash_attn_type == llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED
        assert take(b, PROMPT, 6)
        with b.batch(2) as lanes:  # the batched context takes the single context's settings
            assert lanes.context_params.flash_attn_type == llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED
            assert take(lanes.lanes[1], PROMPT, 6)  # type: ignore[arg-type]
    finally:
        b.close()
    plain = LlamaCppBackend(model_path, n_ctx=512)
    assert plain.llm.context_params.flash_attn_type == llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
    plain.close()


def test_a_long_read_says_how_far_it_came_and_stops_between_batches(model_path: Path):
    """A run steered while its text is read (Esc on a long prompt) is answered at the next batch, and
    the tokens read stay in the context: reading on gives what one uninterrupted read gives."""
    import threading
    import time

    long = "Numbers to consider: " + ", ".join(str(i * 7919 % 10007) for i in range(330)) + ".\nThe largest is"
    backend = LlamaCppBackend(model_path, n_ctx=4096)
    try:
        total = backend.count_tokens(long)
        assert total > 3 * backend.llm.n_batch
        backend.interrupt = threading.Event()
        seen: list[tuple[int, int]] = []

        def steer() -> None:  # Esc once the second batch is being read
            deadline = time.monotonic() + 60
            while (not seen or seen[-1][0] == 0) and time.monotonic() < deadline:
                if (p := backend.prefill) is not None:
                    seen.append(p)
                time.sleep(0.001)
            backend.interrupt.set()  # type: ignore[union-attr]

        watcher = threading.Thread(target=steer)
        watcher.start()
        out = "".join(backend.stream(long, GREEDY))
        watcher.join()
        assert out == "" and backend.last_finish_reason == "interrupted" and backend.prefill is None
        assert seen[-1][1] == total and 0 < backend.stats.tokens_evaluated < total
        read = backend.stats.tokens_evaluated
        backend.interrupt.clear()
        resumed = "".join(backend.stream(long, GREEDY))
        assert backend.stats.tokens_evaluated - read < total - read + GREEDY.max_tokens  # only the rest
    finally:
        backend.close()
    fresh = LlamaCppBackend(model_path, n_ctx=4096)
    try:
        assert resumed == "".join(fresh.stream(long, GREEDY))
    finally:
        fresh.close()
