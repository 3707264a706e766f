"""The llama.cpp backend on the embedded model: prefix reuse is counted and does not change the output."""

from itertools import islice
from pathlib import Path

from start_tui.backends import SamplingParams
from start_tui.backends.llama_cpp import LlamaCppBackend

PROMPT = "Problem: What is 12 times 13?\nSolution:"
GREEDY = SamplingParams(max_tokens=24, temperature=0.0)


def take(backend: LlamaCppBackend, text: str, n: int) -> str:
    return "".join(islice(backend.stream(text, GREEDY), n))


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


def test_reused_context_gives_the_same_greedy_continuation_as_a_full_evaluation(fresh_backend: LlamaCppBackend):
    b = fresh_backend
    first = take(b, PROMPT, 10)
    text = PROMPT + first + " Wait, maybe using Python here is a good idea.\n```python\n"
    reused = take(b, text, 20)
    b.llm.reset()  # forget the KV cache; the same token list is evaluated from scratch
    before = b.stats.tokens_evaluated
    full = take(b, text, 20)
    assert b.stats.tokens_evaluated - before >= b.count_tokens(text) - 1
    assert reused == full


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
    assert meta["general.architecture"] == "gemma3" and meta["start_tui.bos_token"] == "<bos>"
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
