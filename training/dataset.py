"""Traces into token ids and labels: the model's own text is learned; the prompt and interpreter
output carry no loss; a hint's sentence carries loss or not (`mask_hints`), and the code fence a hint
opens, with any code it pre-writes, always does: the trained model must open its tool calls itself.

The trace's typed character spans are mapped to tokens with the fast tokenizer's offset mapping:
a token is labelled when its first character lies in a learned span, so a token is never half
learned, except that a token reaching into a hint's fence is learned wherever it starts (a
tokenizer may merge the sentence's last newline with the fence). The end-of-sequence token is
appended and learned (the model learns to stop).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from start_tui.backends.hf import adds_bos
from start_tui.engine import Trace
from start_tui.engine.hints import split_at_fence
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

    The sequence starts as the tokenizer starts a text at inference: with exactly one BOS where it
    adds one (Gemma, Llama; a rendered chat prompt that already begins with it gets no second), with
    none where it adds none (Qwen, whose GGUF says add_bos false). It ends with one learned EOS.
    """
    ids, labels, _ = encode_with_offsets(trace, tokenizer, mask_hints, mask_prompt)
    return {"input_ids": ids, "labels": labels}


def encode_with_offsets(
    trace: Trace, tokenizer: Any, mask_hints: bool = True, mask_prompt: bool = True
) -> tuple[list[int], list[int], list[tuple[int, int]]]:
    """`encode_trace`'s ids and labels, and the characters of the trace each id stands for ((0, 0) for a
    BOS or EOS added around the text)."""
    text = trace.text
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids: list[int] = list(enc["input_ids"])
    offsets: list[tuple[int, int]] = [(int(o[0]), int(o[1])) for o in enc["offset_mapping"]]
    learned = [False] * (len(text) + 1)
    opened = [False] * (len(text) + 1)  # a hint's fence and the code it pre-writes
    masked = masked_kinds(mask_hints, mask_prompt)
    for span, (start, end) in zip(trace.spans, trace.offsets(), strict=True):
        if span.kind not in masked:
            for i in range(start, end):
                learned[i] = True
        if span.kind == "hint":
            sentence, code = split_at_fence(span.text)
            if code is not None:
                for i in range(start + len(sentence), end):
                    learned[i] = opened[i] = True
    labels = [
        tok if end > start and (learned[start] or any(opened[start:end])) else IGNORE
        for tok, (start, end) in zip(ids, offsets, strict=True)
    ]
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    if ids and bos is not None and ids[0] == bos:  # the rendered prompt's own
        labels[0] = IGNORE
    elif adds_bos(tokenizer):
        ids, labels, offsets = [bos, *ids], [IGNORE, *labels], [(0, 0), *offsets]
    if eos is not None:
        if ids and ids[-1] == eos:
            labels[-1] = eos
        else:
            ids, labels, offsets = [*ids, eos], [*labels, eos], [*offsets, (0, 0)]
    return ids, labels, offsets


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
    """(line number, trace) for each `{"trace": ...}` line, read a line at a time; a malformed line is
    one clear error."""
    p = Path(path)
    try:
        f = p.open(encoding="utf-8")
    except FileNotFoundError:
        raise StartTuiError(f"The dataset {str(p)!r} does not exist.") from None
    except OSError as exc:
        raise StartTuiError(f"The dataset {str(p)!r} cannot be read ({exc}).") from None
    with f:
        number = 0
        try:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                    yield number, Trace.from_json(obj["trace"])
                except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                    why = exc.msg if isinstance(exc, json.JSONDecodeError) else f"{type(exc).__name__}: {exc}"
                    raise StartTuiError(f"{p}:{number} is not a trace record ({why}).") from None
        except UnicodeDecodeError as exc:
            raise StartTuiError(f"{p}:{number + 1} is not UTF-8 text ({exc.reason}).") from None


def learned_prompt(path: str | Path) -> dict[str, str]:
    """The profile every trace of a trace set was generated under, and its prompt template (the prompt
    span with the problem put back as `{problem}`) when that profile prompts with one: what a model
    fine-tuned on the set learned to answer. Empty when the traces disagree (nothing to say for all)."""
    from start_tui.backends.learned import PROFILE_KEY, PROMPT_KEY
    from start_tui.engine import get_profile

    profiles: set[str] = set()
    templates: set[str] = set()
    for _, trace in read_trace_records(path):
        profiles.add(str(trace.meta.get("profile") or ""))
        prompt = "".join(s.text for s in trace.spans if s.kind == "prompt")
        problem = trace.problem.strip()
        templates.add(prompt.replace(problem, "{problem}") if problem and prompt.count(problem) == 1 else "")
        if len(profiles) > 1:
            return {}
    [profile] = profiles or {""}
    try:
        prompted = bool(get_profile(profile).few_shot)
    except StartTuiError:  # a profile this version does not know
        return {}
    learned = {PROFILE_KEY: profile}
    if prompted and len(templates) == 1 and (template := next(iter(templates))):
        learned[PROMPT_KEY] = template
    return learned


def pack(rows: Iterable[dict[str, list[int]]], max_length: int) -> Iterator[dict[str, list[int]]]:
    """Concatenate examples into sequences of at most max_length tokens (greedy, in order), as they come.

    Each example keeps its own positions (`position_ids` restart at 0), from which transformers
    builds a block-diagonal causal mask (and flash-attention its varlen boundaries), so an example
    attends only to itself and its logits are the ones it has alone. The first token of each
    example carries no label: the token before it belongs to another example.
    """
    cur: dict[str, list[int]] = {"input_ids": [], "labels": [], "position_ids": []}
    for row in rows:
        if cur["input_ids"] and len(cur["input_ids"]) + len(row["input_ids"]) > max_length:
            yield cur
            cur = {"input_ids": [], "labels": [], "position_ids": []}
        cur["input_ids"] += row["input_ids"]
        cur["labels"] += [IGNORE, *row["labels"][1:]]
        cur["position_ids"] += list(range(len(row["input_ids"])))
    if cur["input_ids"]:
        yield cur


class Collator:
    """A micro-batch as tensors: `input_ids` padded on the right, `labels` with -100.

    Unpacked rows get an `attention_mask`. Packed rows get their `position_ids` and no mask, so that
    transformers derives each example's block from the positions; a row's padding continues as a
    block of its own, which carries no label. `multiple` > 1 (sequence parallelism: each sequence is
    split among that many ranks) pads to a multiple of it and gives every row `position_ids`, which
    DeepSpeed Ulysses needs.
    """

    def __init__(self, pad_id: int, multiple: int = 1) -> None:
        self.pad_id = pad_id
        self.multiple = multiple

    def __call__(self, features: list[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        width = max(len(f["input_ids"]) for f in features)
        width = -(-width // self.multiple) * self.multiple
        packed = "position_ids" in features[0] or self.multiple > 1
        if packed and "position_ids" not in features[0]:
            features = [{**f, "position_ids": list(range(len(f["input_ids"])))} for f in features]
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


class _RowWriter:
    """Rows to a file as they come: an Arrow stream (`.arrow`, what datasets memory-maps) or JSONL."""

    BATCH = 512

    def __init__(self, path: Path, packed: bool) -> None:
        self.path, self.count = path, 0
        self.rows: list[dict[str, list[int]]] = []
        self.arrow = path.suffix == ".arrow"
        self.columns = ["input_ids", "labels", *(["position_ids"] if packed else [])]
        self.file: Any = None
        if self.arrow:
            import pyarrow as pa

            self.schema = pa.schema([(c, pa.list_(pa.int32())) for c in self.columns])
            self.file = pa.ipc.new_stream(str(path), self.schema)
        else:
            self.file = path.open("w", encoding="utf-8")

    def add(self, row: dict[str, list[int]]) -> None:
        self.count += 1
        if not self.arrow:
            self.file.write(json.dumps(row) + "\n")
            return
        self.rows.append(row)
        if len(self.rows) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self.rows:
            columns = [pa.array([r[c] for r in self.rows], type=pa.list_(pa.int32())) for c in self.columns]
            self.file.write_batch(pa.record_batch(columns, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        if self.arrow:
            self._flush()
        self.file.close()


def write_tokenized(
    traces_path: str | Path,
    out_path: str | Path,
    tokenizer: Any,
    mask_hints: bool = True,
    max_length: int | None = None,
    packing: bool = False,
    overlength: str = "drop",
) -> dict[str, Any]:
    """Tokenize a trace file into rows of `input_ids`/`labels` (`position_ids` when packed): an Arrow
    stream for a `.arrow` path (datasets memory-maps it: no rank copies it), else JSONL.

    One trace at a time is read, tokenized, packed and written, so memory stays flat however long the
    file is (only the token lengths are kept, for the percentiles). Returns the figures for the
    stage's manifest: examples kept, the over-length ones and what was done with them, traces with
    nothing to learn, and token lengths (p50, p95, max) before fitting.
    """
    if overlength not in OVERLENGTH:
        raise StartTuiError(f"overlength is one of {', '.join(OVERLENGTH)}, not {overlength!r}.")
    lengths: list[int] = []
    counts = {"over": 0, "empty": 0, "dropped": 0, "examples": 0}

    def examples() -> Iterator[dict[str, list[int]]]:
        for number, trace in read_trace_records(traces_path):
            row = encode_trace(trace, tokenizer, mask_hints)
            lengths.append(len(row["input_ids"]))
            if max_length is not None and len(row["input_ids"]) > max_length:
                counts["over"] += 1
                if overlength == "error":
                    raise StartTuiError(
                        f"{traces_path}:{number} is {len(row['input_ids'])} tokens, over max_length {max_length}; "
                        "raise max_length, or set overlength to drop or truncate in [sft]."
                    )
            fitted = fit_length(row, max_length, overlength, tokenizer.eos_token_id)
            if fitted is None:
                counts["dropped"] += 1
                continue
            if not any(label != IGNORE for label in fitted["labels"]):
                counts["empty"] += 1
                continue
            counts["examples"] += 1
            yield fitted

    packed = bool(packing and max_length)
    out = Path(out_path)
    writer = _RowWriter(out, packed)
    try:
        for row in pack(examples(), max_length) if packed and max_length else examples():
            writer.add(row)
    except BaseException:
        writer.close()
        out.unlink(missing_ok=True)  # no half-written data set that a later run could take as whole
        raise
    writer.close()
    return {
        "examples": counts["examples"],
        "sequences": writer.count,
        "overlength": counts["over"],
        "overlength_policy": overlength,
        "dropped_overlength": counts["dropped"],
        "truncated": counts["over"] - counts["dropped"],
        "nothing_to_learn": counts["empty"],
        "max_length": max_length,
        "tokens_p50": _percentile(lengths, 0.5),
        "tokens_p95": _percentile(lengths, 0.95),
        "tokens_max": max(lengths, default=0),
    }


def load_tokenized(path: str | Path) -> Any:
    """The tokenized rows as a datasets Dataset: an Arrow file memory-mapped (every rank shares the
    page cache), a JSONL file read through datasets' json loader."""
    from datasets import Dataset, load_dataset

    p = Path(path)
    if p.suffix == ".arrow":
        return Dataset.from_file(str(p))
    return load_dataset("json", data_files=str(p), split="train")


def token_count(data: Any) -> int:
    """Tokens in a Dataset's `input_ids` (its selected rows: a split keeps an index over the whole table),
    counted by Arrow without making Python lists."""
    import pyarrow.compute as pc

    lengths = pc.list_value_length(data.data.column("input_ids"))
    if data._indices is not None:
        lengths = pc.take(lengths, data._indices.column(0))
    return int(pc.sum(lengths).as_py() or 0)
