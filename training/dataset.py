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
    trace: Trace, tokenizer: Any, mask_hints: bool = True, mask_prompt: bool = True
) -> dict[str, list[int]]:
    """`input_ids` and `labels` for one trace (labels are -100 on masked spans).

    The sequence starts with exactly one BOS (a rendered chat prompt that already begins with it
    gets no second one, as at inference) and ends with one learned EOS.
    """
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
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    if bos is not None:
        if ids and ids[0] == bos:
            labels[0] = IGNORE
        else:
            ids, labels = [bos, *ids], [IGNORE, *labels]
    if eos is not None:
        if ids and ids[-1] == eos:
            labels[-1] = eos
        else:
            ids, labels = [*ids, eos], [*labels, eos]
    return {"input_ids": ids, "labels": labels}


OVERLENGTH = ("drop", "truncate", "error")
"""What happens to an example longer than `max_length`: left out (the default), cut (keeping its
start and ending with a learned EOS, when the cut falls in the model's own text: a cut inside the
prompt, a hint or an interpreter output would teach stopping there, so that example is left out),
or the run refused."""


def fit_length(
    row: dict[str, list[int]], max_length: int | None, policy: str, eos: int | None
) -> dict[str, list[int]] | None:
    """The example within `max_length` tokens under the over-length `policy` (None: dropped)."""
    if max_length is None or len(row["input_ids"]) <= max_length:
        return row
    if policy == "drop":
        return None
    if policy == "truncate":
        ids, labels = row["input_ids"][:max_length], row["labels"][:max_length]
        if labels[-1] == IGNORE:  # the cut is not in learned text
            return None
        if eos is not None:
            ids, labels = [*ids[:-1], eos], [*labels[:-1], eos]
        return {"input_ids": ids, "labels": labels}
    raise ValueError(f"overlength is one of {', '.join(OVERLENGTH)}, not {policy!r}")


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
    """Concatenate examples into sequences of at most max_length tokens (greedy, in order).

    Each example keeps its own positions (`position_ids` restart at 0), from which transformers
    builds a block-diagonal causal mask (and flash-attention its varlen boundaries), so an example
    attends only to itself and its logits are the ones it has alone. The first token of each
    example carries no label: the token before it belongs to another example.
    """
    out: list[dict[str, list[int]]] = []
    cur: dict[str, list[int]] = {"input_ids": [], "labels": [], "position_ids": []}
    for row in rows:
        if cur["input_ids"] and len(cur["input_ids"]) + len(row["input_ids"]) > max_length:
            out.append(cur)
            cur = {"input_ids": [], "labels": [], "position_ids": []}
        cur["input_ids"] += row["input_ids"]
        cur["labels"] += [IGNORE, *row["labels"][1:]]
        cur["position_ids"] += list(range(len(row["input_ids"])))
    if cur["input_ids"]:
        out.append(cur)
    return out


class Collator:
    """A micro-batch as tensors: `input_ids` padded on the right, `labels` with -100.

    Unpacked rows get an `attention_mask`. Packed rows get their `position_ids` and no mask, so that
    transformers derives each example's block from the positions; a row's padding continues as a
    block of its own, which carries no label.
    """

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, features: list[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        width = max(len(f["input_ids"]) for f in features)
        packed = "position_ids" in features[0]
        extra = "position_ids" if packed else "attention_mask"
        batch: dict[str, list[list[int]]] = {"input_ids": [], "labels": [], extra: []}
        for f in features:
            n, pad = len(f["input_ids"]), width - len(f["input_ids"])
            batch["input_ids"].append([*f["input_ids"], *[self.pad_id] * pad])
            batch["labels"].append([*f["labels"], *[IGNORE] * pad])
            if packed:
                batch["position_ids"].append([*f["position_ids"], *range(pad)])
            else:
                batch["attention_mask"].append([1] * n + [0] * pad)
        return {k: torch.tensor(v, dtype=torch.long) for k, v in batch.items()}


def _percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0


def write_tokenized(
    traces_path: str | Path,
    out_path: str | Path,
    tokenizer: Any,
    mask_hints: bool = True,
    max_length: int | None = None,
    packing: bool = False,
    overlength: str = "drop",
) -> dict[str, Any]:
    """Tokenize a trace file into a JSONL of `input_ids`/`labels` rows (loadable with datasets' json).

    Returns the figures for the stage's manifest: examples kept, the over-length ones and what was
    done with them, traces with nothing to learn, and token lengths (p50, p95, max) before fitting.
    """
    if overlength not in OVERLENGTH:
        raise StartTuiError(f"overlength is one of {', '.join(OVERLENGTH)}, not {overlength!r}.")
    rows: list[dict[str, list[int]]] = []
    lengths: list[int] = []
    over = empty = dropped = 0
    for number, trace in read_trace_records(traces_path):
        row = encode_trace(trace, tokenizer, mask_hints)
        lengths.append(len(row["input_ids"]))
        if max_length is not None and len(row["input_ids"]) > max_length:
            over += 1
            if overlength == "error":
                raise StartTuiError(
                    f"{traces_path}:{number} is {len(row['input_ids'])} tokens, over max_length {max_length}; "
                    "raise max_length, or set overlength to drop or truncate in [sft]."
                )
        fitted = fit_length(row, max_length, overlength, tokenizer.eos_token_id)
        if fitted is None:
            dropped += 1
            continue
        if not any(label != IGNORE for label in fitted["labels"]):
            empty += 1
            continue
        rows.append(fitted)
    examples = len(rows)
    if packing and max_length:
        rows = pack(rows, max_length)
    with Path(out_path).open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    return {
        "examples": examples,
        "sequences": len(rows),
        "overlength": over,
        "overlength_policy": overlength,
        "dropped_overlength": dropped,
        "truncated": over - dropped,
        "nothing_to_learn": empty,
        "max_length": max_length,
        "tokens_p50": _percentile(lengths, 0.5),
        "tokens_p95": _percentile(lengths, 0.95),
        "tokens_max": max(lengths, default=0),
    }
