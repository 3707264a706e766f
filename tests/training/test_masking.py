"""Labels are -100 exactly on the prompt, the interpreter outputs and (by the switch) a hint's sentence, token by
token; the code fence a hint opens, and the code it pre-writes, are always learned. Checked on the tiny test
tokenizer and on the real ones of the embedded models (Gemma 3, which starts a text with BOS, and Qwen2.5,
which does not)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from start_tui.engine.events import Span
from start_tui.engine.hints import split_at_fence
from start_tui.engine.trace import Trace
from training.dataset import IGNORE, adds_bos, encode_trace, encode_with_offsets

pytest.importorskip("transformers")


def two_executions() -> Trace:
    spans = [
        Span("prompt", "Problem: What is the sum of the squares of the integers from 1 to 50?\nSolution:"),
        Span("model", " Let me compute the sum of the squares."),
        Span("hint", "\nWait, I should check this with Python.\n```python\n"),
        Span("code", "print(sum(i * i for i in range(1, 51)))\n"),
        Span("model", "```"),
        Span("output", "\n```output\n42925\n```\n"),
        Span("model", "Alternatively, the formula n(n+1)(2n+1)/6 gives the same answer.\n```python\n"),
        Span("code", "print(50 * 51 * 101 // 6)\n"),
        Span("model", "```"),
        Span("output", "\n```output\n42925\n```\n"),
        Span("model", "Final answer: 42925"),
    ]
    return Trace(id="t", problem="sum of squares", spans=spans, meta={})


def with_a_template() -> Trace:
    """`two_executions`, then a hint that pre-writes the start of the code it opens."""
    trace = two_executions()
    trace.spans[-1:-1] = [
        Span("hint", "\nWait, let me verify the formula with sympy.\n```python\nimport sympy\nn = sympy.Symbol('n')\n"),
        Span("code", "print(sympy.summation(n**2, (n, 1, 50)))\n"),
        Span("model", "```"),
        Span("output", "\n```output\n42925\n```\n"),
    ]
    return trace


def check_labels(tok: Any, mask_hints: bool) -> None:
    trace = with_a_template()
    ids, labels, offsets = encode_with_offsets(trace, tok, mask_hints=mask_hints)
    assert encode_trace(trace, tok, mask_hints=mask_hints) == {"input_ids": ids, "labels": labels}
    starts_with_bos = adds_bos(tok)  # as the tokenizer, and llama.cpp, start a text at inference
    assert (ids[0] == tok.bos_token_id) is starts_with_bos
    if starts_with_bos:
        assert labels[0] == IGNORE and offsets[0] == (0, 0)
    assert ids[-1] == tok.eos_token_id and labels[-1] == tok.eos_token_id  # the model learns to stop
    kind_at = []
    for span, (start, end) in zip(trace.spans, trace.offsets(), strict=True):
        if span.kind == "hint":  # its sentence, then the fence it opens and any code it pre-writes
            fence = len(split_at_fence(span.text)[0])  # the opener takes the newline before its backticks
            kind_at += ["hint"] * fence + ["hint fence"] * (end - start - fence)
        else:
            kind_at += [span.kind] * (end - start)
    masked = {"prompt", "output"} | ({"hint"} if mask_hints else set())
    inner = slice(1 if starts_with_bos else 0, -1)
    seen = set()
    for token, label, (start, end) in zip(ids[inner], labels[inner], offsets[inner], strict=True):
        kinds = set(kind_at[start:end])
        seen |= kinds
        if "hint fence" in kinds:  # learned, also in a token that starts in the sentence (Qwen's '.\n')
            assert label == token, (kinds, trace.text[start:end])
        elif kind_at[start] in masked:
            assert label == IGNORE, (kind_at[start], trace.text[start:end])
        else:
            assert label == token, (kind_at[start], trace.text[start:end])
    assert seen == {"prompt", "model", "hint", "hint fence", "code", "output"}
    learned = tok.decode([t for t, lab in zip(ids[inner], labels[inner], strict=True) if lab != IGNORE])
    assert "42925\n```" not in learned  # no interpreter output is ever learned
    assert ("Wait, I should check" in learned) is (not mask_hints)
    assert "```python\nprint(sum(i * i" in learned  # the fence the hint opened, then the model's code
    assert "```python\nimport sympy\nn = sympy.Symbol('n')\nprint(sympy.summation" in learned  # a hint's template
    assert "print(50 * 51 * 101 // 6)" in learned


@pytest.mark.parametrize("mask_hints", [True, False])
def test_labels_are_masked_exactly_on_outputs_prompt_and_hints(tiny_dir: Path, mask_hints: bool):
    from transformers import AutoTokenizer

    check_labels(AutoTokenizer.from_pretrained(tiny_dir), mask_hints)


@pytest.mark.model  # reads the tokenizers out of the embedded GGUFs
@pytest.mark.parametrize("model", ["gemma3-270m", "qwen2.5-coder-1.5b"])
def test_on_the_embedded_models_tokenizers_a_hints_fence_is_learned_and_tool_output_never(model: str):
    from training.convert import base_tokenizer

    tok = base_tokenizer(model)  # what a recipe's `base_model = "<name>"` trains with
    assert adds_bos(tok) is (model == "gemma3-270m")  # Qwen's GGUF says add_bos false
    for mask_hints in (True, False):
        check_labels(tok, mask_hints)
