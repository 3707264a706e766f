"""Labels are -100 exactly on the prompt, the interpreter outputs and (by the switch) the hints, token by token."""

from __future__ import annotations

from pathlib import Path

import pytest

from start_tui.engine.events import Span
from start_tui.engine.trace import Trace
from training.dataset import IGNORE, encode_trace

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


@pytest.mark.parametrize("mask_hints", [True, False])
def test_labels_are_masked_exactly_on_outputs_prompt_and_hints(tiny_dir: Path, mask_hints: bool):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_dir)
    trace = two_executions()
    row = encode_trace(trace, tok, mask_hints=mask_hints)
    ids, labels = row["input_ids"], row["labels"]
    assert ids[0] == tok.bos_token_id and labels[0] == IGNORE
    assert ids[-1] == tok.eos_token_id and labels[-1] == tok.eos_token_id
    offsets = tok(trace.text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    assert len(offsets) == len(ids) - 2
    kind_at = []
    for span, (start, end) in zip(trace.spans, trace.offsets(), strict=True):
        kind_at += [span.kind] * (end - start)
    masked = {"prompt", "output"} | ({"hint"} if mask_hints else set())
    seen = set()
    for token, label, (start, _end) in zip(ids[1:-1], labels[1:-1], offsets, strict=True):
        kind = kind_at[start]
        seen.add(kind)
        if kind in masked:
            assert label == IGNORE, (kind, start)
        else:
            assert label == token, (kind, start)
    assert seen == {"prompt", "model", "hint", "code", "output"}
    # the decoded learned tokens are the model's text and code, and nothing of the outputs
    learned = tok.decode([t for t, lab in zip(ids[1:-1], labels[1:-1], strict=True) if lab != IGNORE])
    assert "42925\n```\n" not in learned.replace("Final answer: 42925", "")
    assert ("Wait, I should check" in learned) is (not mask_hints)
    assert "print(50 * 51 * 101 // 6)" in learned
