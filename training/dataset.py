"""Traces into token ids and labels: the model's own text is learned; prompt, interpreter output
(and hints, by the paper's default) carry no loss.

The trace's typed character spans are mapped to tokens with the fast tokenizer's offset mapping:
a token is labelled when its first character lies in a learned span, so a token is never half
learned. The end-of-sequence token is appended and learned (the model learns to stop).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from start_tui.engine import Trace
from start_tui.errors import StartTuiError

IGNORE = -100


def masked_kinds(mask_hints: bool = True, mask_prompt: bool = True) -> set[str]:
    kinds = {"output"}
    if mask_hints:
        kinds.add("hint")
    if mask_prompt:
        kinds.add("prompt")
    return kinds


def encode_trace(
    trace: Trace, tokenizer: Any, mask_hints: bool = True, max_length: int | None = None, mask_prompt: bool = True
) -> dict[str, list[int]]:
    """`input_ids` and `labels` for one trace (labels are -100 on masked spans)."""
    text = trace.text
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids: list[int] = list(enc["input_ids"])
    offsets: list[tuple[int, int]] = [tuple(o) for o in enc["offset_mapping"]]
    learned = [False] * (len(text) + 1)
    masked = masked_kinds(mask_hints, mask_prompt)
    for span, (start, end) in zip(trace.spans, trace.offsets(), strict=True):
        if span.kind not in masked:
            for i in range(start, end):
                learned[i] = True
    labels = [tok if end > start and learned[start] else IGNORE for tok, (start, end) in zip(ids, offsets, strict=True)]
    if tokenizer.bos_token_id is not None:
        ids, labels = [tokenizer.bos_token_id, *ids], [IGNORE, *labels]
    if tokenizer.eos_token_id is not None:
        ids, labels = [*ids, tokenizer.eos_token_id], [*labels, tokenizer.eos_token_id]
    if max_length is not None and len(ids) > max_length:
        ids, labels = ids[:max_length], labels[:max_length]
    return {"input_ids": ids, "labels": labels}


def read_trace_records(path: str | Path) -> Iterator[tuple[int, Trace]]:
    """(line number, trace) for each `{"trace": ...}` line; a malformed line is one clear error."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise StartTuiError(f"The dataset {str(p)!r} does not exist.") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            yield number, Trace.from_json(obj["trace"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            why = exc.msg if isinstance(exc, json.JSONDecodeError) else f"{type(exc).__name__}: {exc}"
            raise StartTuiError(f"{p}:{number} is not a trace record ({why}).") from None


def pack(rows: list[dict[str, list[int]]], max_length: int) -> list[dict[str, list[int]]]:
    """Concatenate examples into sequences of at most max_length tokens (greedy, in order)."""
    out: list[dict[str, list[int]]] = []
    cur: dict[str, list[int]] = {"input_ids": [], "labels": []}
    for row in rows:
        if cur["input_ids"] and len(cur["input_ids"]) + len(row["input_ids"]) > max_length:
            out.append(cur)
            cur = {"input_ids": [], "labels": []}
        cur["input_ids"] += row["input_ids"]
        cur["labels"] += row["labels"]
    if cur["input_ids"]:
        out.append(cur)
    return out


def write_tokenized(
    traces_path: str | Path,
    out_path: str | Path,
    tokenizer: Any,
    mask_hints: bool = True,
    max_length: int | None = None,
    packing: bool = False,
) -> int:
    """Tokenize a trace file into a JSONL of `input_ids`/`labels` rows (loadable with datasets' json)."""
    rows = [encode_trace(t, tokenizer, mask_hints, max_length) for _, t in read_trace_records(traces_path)]
    rows = [r for r in rows if any(label != IGNORE for label in r["labels"])]
    if packing and max_length:
        rows = pack(rows, max_length)
    with Path(out_path).open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    return len(rows)
