"""Packing keeps examples apart, over-long traces are handled by a stated policy, and there is one BOS."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from start_tui.engine.events import Span
from start_tui.engine.trace import Trace, save_traces
from start_tui.errors import StartTuiError
from tests.tiny_lm import build_tiny_lm
from tests.training.test_masking import two_executions
from tests.training.test_sft import TINY
from training.dataset import IGNORE, Collator, encode_trace, pack, write_tokenized
from training.sft import train_sft

pytest.importorskip("transformers")

ROOT = Path(__file__).resolve().parents[2]


def _traces(n: int) -> list[Trace]:
    """Traces of different lengths (the prompt grows with i)."""
    out = []
    for i in range(n):
        t = two_executions()
        t.id = f"t{i}"
        t.spans[0] = Span("prompt", "Let me compute the sum. " * (i + 1) + t.spans[0].text)
        out.append(t)
    return out


@pytest.mark.parametrize("arch", ["llama", "gemma3"])
def test_a_packed_example_has_the_logits_it_has_alone(tmp_path: Path, arch: str):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = build_tiny_lm(tmp_path / arch, arch=arch)
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    rows = [encode_trace(t, tok) for t in _traces(3)]
    [packed] = pack(rows, max_length=sum(len(r["input_ids"]) for r in rows))
    batch = Collator(tok.pad_token_id)([packed])
    assert "attention_mask" not in batch
    with torch.no_grad():
        # as in training: no cache (transformers looks for packed positions only without one)
        together = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False).logits[0]
        start = 0
        for row in rows:
            n = len(row["input_ids"])
            alone = model(input_ids=torch.tensor([row["input_ids"]])).logits[0]
            assert torch.allclose(together[start : start + n], alone, atol=1e-4), (arch, start)
            # its first token is not learned from the end of the example before it
            assert packed["labels"][start] == IGNORE and packed["position_ids"][start] == 0
            assert packed["labels"][start + 1 : start + n] == row["labels"][1:]
            start += n
    # and the trainer's loss on the packed row is the loss of the three examples in a padded batch
    from transformers import TrainingArguments

    from training.sft import labelled_logits_trainer

    args = TrainingArguments(output_dir=str(tmp_path / "t"), use_cpu=True, report_to=[], disable_tqdm=True)
    trainer = labelled_logits_trainer()(model=model, args=args)
    with torch.no_grad():
        packed_loss = trainer.compute_loss(model, batch)
        padded_loss = trainer.compute_loss(model, Collator(tok.pad_token_id)(rows))
    assert abs(float(packed_loss) - float(padded_loss)) < 1e-5


def test_packed_padding_is_a_block_of_its_own_and_carries_no_label():
    collate = Collator(pad_id=0)
    batch = collate([
        {"input_ids": [5, 6, 7, 8], "labels": [IGNORE, 6, 7, 8], "position_ids": [0, 1, 0, 1]},
        {"input_ids": [5, 6], "labels": [IGNORE, 6], "position_ids": [0, 1]},
    ])  # fmt: skip
    assert batch["position_ids"].tolist() == [[0, 1, 0, 1], [0, 1, 0, 1]]
    assert batch["labels"].tolist()[1] == [IGNORE, 6, IGNORE, IGNORE]
    plain = collate([{"input_ids": [5, 6, 7], "labels": [5, 6, 7]}, {"input_ids": [5], "labels": [5]}])
    assert plain["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]


def test_sft_trains_on_packed_sequences(tiny_dir: Path, tmp_path: Path):
    from transformers import AutoTokenizer

    save_traces(tmp_path / "traces.jsonl", _traces(6))
    data = tmp_path / "packed.arrow"
    figures = write_tokenized(
        tmp_path / "traces.jsonl", data, AutoTokenizer.from_pretrained(tiny_dir), max_length=400, packing=True
    )
    assert figures["examples"] == 6 and figures["sequences"] < 6
    cfg = replace(TINY, packing=True, max_steps=4, max_length=400)
    trained = train_sft(cfg, tiny_dir, data, tmp_path / "out", cpu=True)
    assert trained["steps"] == 4 and all(loss == loss for loss in trained["losses"])  # finite, no NaN


def test_over_long_traces_follow_the_policy_and_are_counted(tiny_dir: Path, tmp_path: Path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_dir)
    traces = _traces(8)
    save_traces(tmp_path / "traces.jsonl", traces)
    lengths = sorted(len(encode_trace(t, tok)["input_ids"]) for t in traces)
    limit = lengths[4]  # the three longest are over it
    out = tmp_path / "tok.jsonl"

    dropped = write_tokenized(tmp_path / "traces.jsonl", out, tok, max_length=limit)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert (dropped["examples"], dropped["overlength"], dropped["dropped_overlength"]) == (5, 3, 3)
    assert (dropped["tokens_max"], dropped["tokens_p50"]) == (lengths[-1], lengths[4])
    assert lengths[3] <= dropped["tokens_p50"] <= lengths[4] <= dropped["tokens_p95"] <= lengths[-1]
    for row in rows:  # every kept example ends with a learned EOS
        assert row["input_ids"][-1] == tok.eos_token_id == row["labels"][-1]

    cut = write_tokenized(tmp_path / "traces.jsonl", out, tok, max_length=limit, overlength="truncate")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    # a cut in the model's own text ends there with a learned EOS; a cut anywhere else leaves it out
    in_learned_text = sum(
        encode_trace(t, tok)["labels"][limit - 1] != IGNORE
        for t in traces
        if len(encode_trace(t, tok)["labels"]) > limit
    )
    assert 0 < in_learned_text <= 3
    assert (cut["examples"], cut["truncated"], cut["dropped_overlength"]) == (
        5 + in_learned_text,
        in_learned_text,
        3 - in_learned_text,
    )
    assert max(len(r["input_ids"]) for r in rows) == (limit if in_learned_text else lengths[4])
    assert all(r["input_ids"][-1] == tok.eos_token_id == r["labels"][-1] for r in rows)
    # a prompt longer than max_length is never cut into "prompt, then stop"
    long_prompt = two_executions()
    long_prompt.spans[0] = Span("prompt", "Let me compute the sum. " * 80)
    save_traces(tmp_path / "long.jsonl", [long_prompt])
    none = write_tokenized(tmp_path / "long.jsonl", out, tok, max_length=limit, overlength="truncate")
    assert (none["examples"], none["truncated"], none["dropped_overlength"]) == (0, 0, 1)

    with pytest.raises(StartTuiError, match=r"traces\.jsonl:6 is \d+ tokens, over max_length \d+; raise max_length"):
        write_tokenized(tmp_path / "traces.jsonl", out, tok, max_length=limit, overlength="error")
    assert not out.exists()  # no half-written data set is left to be taken for a whole one


STREAM_SCRIPT = """
import resource, sys
from pathlib import Path
from transformers import AutoTokenizer
from training.dataset import load_tokenized, token_count, write_tokenized
tok = AutoTokenizer.from_pretrained(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
figures = write_tokenized(sys.argv[2], sys.argv[3], tok, max_length=int(sys.argv[4]), packing=sys.argv[5] == "1")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
data = load_tokenized(sys.argv[3])
print(figures["examples"], len(data), token_count(data), (after - before) // 1024)
"""


@pytest.mark.parametrize("packing", [False, True])
def test_tokenizing_twenty_thousand_traces_streams_to_arrow_in_flat_memory(
    packing: bool, tiny_dir: Path, tmp_path: Path
):
    """Peak memory while tokenizing 20,000 traces is that of 2,000: nothing grows with the file."""
    import subprocess
    import sys

    one = json.dumps({"trace": _traces(1)[0].to_json()})
    grown = {}
    for n in (2_000, 20_000):
        src = tmp_path / f"traces-{n}.jsonl"
        src.write_text((one + "\n") * n, encoding="utf-8")
        out = tmp_path / f"tok-{n}.arrow"
        args = [str(tiny_dir), str(src), str(out), "2048", "1" if packing else "0"]
        proc = subprocess.run(
            [sys.executable, "-c", STREAM_SCRIPT, *args], capture_output=True, text=True, cwd=ROOT, timeout=900
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        examples, rows, tokens, grown[n] = map(int, proc.stdout.split())
        assert examples == n and (rows == n if not packing else rows < n) and tokens > 0
    assert src.stat().st_size > 20 * 2**20  # a file of tens of megabytes ...
    assert grown[20_000] - grown[2_000] < 24, grown  # ... costs no more memory than one ten times smaller (MB)


@pytest.mark.parametrize("adds", [True, False])
def test_exactly_one_bos_also_when_the_rendered_prompt_has_one(tiny_dir: Path, adds: bool):
    """A tokenizer that starts a text with BOS (Llama, Gemma) gets one, never two when a chat template
    wrote its own; one that adds none (Qwen) gets none but the template's."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    from training.dataset import adds_bos

    tiny = AutoTokenizer.from_pretrained(tiny_dir)  # adds none
    tok = tiny
    if adds:
        tok = PreTrainedTokenizerFast(
            tokenizer_object=tiny.backend_tokenizer, bos_token="<bos>", eos_token="<eos>", add_bos_token=True
        )
    assert adds_bos(tok) is adds
    plain = two_executions()
    rendered = two_executions()
    rendered.spans[0] = Span("prompt", tok.bos_token + rendered.spans[0].text)  # a chat template's own BOS
    for trace in (plain, rendered):
        row = encode_trace(trace, tok)
        bos = 1 if adds or trace is rendered else 0
        ids = row["input_ids"]
        assert ids.count(tok.bos_token_id) == bos and (ids[0] == tok.bos_token_id) == bool(bos)
        assert row["input_ids"].count(tok.eos_token_id) == 1
        if bos:
            assert row["labels"][0] == IGNORE
    assert (encode_trace(plain, tok)["input_ids"] == encode_trace(rendered, tok)["input_ids"]) is adds


def test_a_training_row_starts_as_the_hf_backend_starts_the_same_prompt(tiny_dir: Path):
    """RFT samples and eval run on the hf backend by default: its prompt ids must be the row's first ids."""
    from start_tui.backends.hf import TransformersBackend

    trace = two_executions()
    backend = TransformersBackend(tiny_dir, device="cpu")
    try:
        prompt = trace.spans[0].text
        ids = backend.tokenize(prompt)
        assert encode_trace(trace, backend.tokenizer)["input_ids"][: len(ids)] == ids
        assert backend.tokenize(backend.tokenizer.bos_token + prompt) == [backend.tokenizer.bos_token_id, *ids]
    finally:
        backend.close()
