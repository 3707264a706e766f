"""What long chains of thought need in memory: a chunked loss equal to the full one, activation
checkpointing really on by default, Liger and sequence parallelism configured or refused in one sentence."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from start_tui.errors import StartTuiError
from tests.training.conftest import free_port, run_ranks
from tests.training.test_sft import TINY
from training.config import SFTConfig

pytest.importorskip("transformers")


def batch_of(model_dir: Path, tokenized_file: Path, n: int = 3) -> dict[str, Any]:
    from transformers import AutoTokenizer, DataCollatorForSeq2Seq

    from training.dataset import load_tokenized

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    rows = load_tokenized(tokenized_file).select(range(n))
    return dict(DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100, padding=True)(list(rows)))


@pytest.mark.parametrize("arch", ["llama", "gemma3"])
def test_the_chunked_loss_and_its_gradients_equal_the_full_loss(
    arch: str, tiny_dir: Path, tokenized: Path, tmp_path: Path
):
    import torch
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

    from tests.tiny_lm import build_tiny_lm
    from training.sft import labelled_logits_trainer

    model_dir = tiny_dir if arch == "llama" else build_tiny_lm(tmp_path / "gemma3", arch="gemma3")
    batch = batch_of(model_dir, tokenized)
    labelled = int((batch["labels"][:, 1:] != -100).sum())
    args = TrainingArguments(output_dir=str(tmp_path / "out"), use_cpu=True, report_to=[], remove_unused_columns=False)
    chunk = 7
    assert labelled > 3 * chunk  # several chunks, the last one partial
    results = {}
    for name, cls in (("full", Trainer), ("chunked", labelled_logits_trainer(loss_chunk=chunk))):
        for count in (torch.tensor(labelled), None):  # gradient accumulation's token count, or a plain mean
            torch.manual_seed(0)
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
            if arch == "gemma3":
                model.config.final_logit_softcapping = 3.0  # small enough that the cap changes the logits
            rows_seen: list[int] = []

            def seen(module: Any, args: Any, out: Any, rows_seen: list[int] = rows_seen) -> None:
                rows_seen.append(out.reshape(-1, out.shape[-1]).shape[0])

            model.get_output_embeddings().register_forward_hook(seen)
            trainer = cls(model=model, args=args)
            loss = trainer.compute_loss(model, dict(batch), num_items_in_batch=count)
            loss.backward()
            grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
            results[(name, count is None)] = (loss.item(), grads, max(rows_seen))
    for plain in (False, True):
        full, full_grads, full_rows = results[("full", plain)]
        kept, kept_grads, kept_rows = results[("chunked", plain)]
        assert kept == pytest.approx(full, rel=1e-5)
        assert kept_grads.keys() == full_grads.keys()
        for name, grad in full_grads.items():
            assert torch.allclose(kept_grads[name], grad, atol=1e-6, rtol=1e-4), name
        assert full_rows == batch["input_ids"].numel() and kept_rows <= chunk  # never more than a chunk of logits


def test_an_sft_run_with_a_chunked_loss_trains(tiny_dir: Path, tokenized: Path, tmp_path: Path):
    from training.sft import train_sft

    figures = train_sft(replace(TINY, loss_chunk=16, max_steps=6), tiny_dir, tokenized, tmp_path / "sft", cpu=True)
    losses = figures["losses"]
    assert figures["loss_chunk"] == 16 and len(losses) == 6 and losses[-1] < losses[0]


@pytest.mark.parametrize("default", [True, False])
def test_activation_checkpointing_recomputes_the_layers_by_default(
    default: bool, tiny_dir: Path, tokenized: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import training.sft as sft

    assert SFTConfig().gradient_checkpointing is True  # the recipe default
    calls: list[int] = []
    load = sft.load_for_training

    def counting(*args: Any, **kwargs: Any) -> Any:
        model = load(*args, **kwargs)
        # inside the layer (transformers checkpoints a layer's forward, so the layer's own hooks run once), and
        # as it starts (torch's recomputation stops as soon as it has what the backward pass needs)
        model.model.layers[0].self_attn.register_forward_pre_hook(lambda *a: calls.append(1))
        return model

    monkeypatch.setattr(sft, "load_for_training", counting)
    cfg = replace(TINY, gradient_checkpointing=SFTConfig().gradient_checkpointing if default else False)
    figures = sft.train_sft(replace(cfg, max_steps=2, global_batch=1), tiny_dir, tokenized, tmp_path / "gc", cpu=True)
    assert figures["activation_checkpointing"] is default
    assert len(calls) == (4 if default else 2)  # each layer runs again in the backward pass when checkpointed


def test_liger_on_the_cpu_is_one_sentence(tiny_dir: Path, tokenized: Path, tmp_path: Path):
    from training.sft import train_sft

    with pytest.raises(StartTuiError, match=r"^liger = true needs a CUDA GPU .*set liger = false on the CPU\.$"):
        train_sft(replace(TINY, liger=True), tiny_dir, tokenized, tmp_path / "liger", cpu=True)
    assert not (tmp_path / "liger").exists() or not any((tmp_path / "liger").iterdir())


def test_sequence_parallelism_is_configured_for_deepspeed_ulysses_or_refused():
    from training.sft import parallelism_config

    sp = replace(SFTConfig(), sequence_parallel=4, deepspeed="zero3", attn_implementation="flash_attention_2")
    config = parallelism_config(sp, world=16, use_cpu=False)  # the GPU path's configuration
    assert (config.sp_size, config.sp_backend, config.sp_enabled) == (4, "deepspeed", True)
    assert config.sp_handler.sp_attn_implementation == "flash_attention_2"
    assert config.sp_handler.sp_seq_length_is_variable is True
    assert parallelism_config(SFTConfig(), world=16, use_cpu=False) is None  # 1: off
    refusals = [
        (dict(world=16, use_cpu=True), "runs on CUDA GPUs only"),
        (dict(world=6, use_cpu=False), "must divide the world size"),
    ]
    for kwargs, message in refusals:
        with pytest.raises(StartTuiError, match=message):
            parallelism_config(sp, **kwargs)
    with pytest.raises(StartTuiError, match="runs through DeepSpeed"):
        parallelism_config(replace(sp, deepspeed="none"), world=16, use_cpu=False)
    with pytest.raises(StartTuiError, match="not eager"):
        parallelism_config(replace(sp, attn_implementation="eager"), world=16, use_cpu=False)


def test_memory_settings_that_cannot_go_together_are_refused_at_load(tmp_path: Path):
    from training.config import load_recipe

    recipe = tmp_path / "r.toml"
    recipe.write_text("[sft]\nloss_chunk = 4096\nliger = true\n")
    with pytest.raises(StartTuiError, match="sets both loss_chunk and liger"):
        load_recipe(recipe)
    recipe.write_text("[sft]\nsequence_parallel = 0\n")
    with pytest.raises(StartTuiError, match="sequence_parallel >= 1"):
        load_recipe(recipe)


def test_a_chunked_loss_under_zero3_at_world_size_two_does_not_leave_a_rank_waiting(
    tiny_dir: Path, tokenized: Path, tmp_path: Path
):
    """The ranks' batches have different labelled tokens, so different chunk counts: without agreeing on
    one, ZeRO-3's gathers of the head's weights would not pair up and the run would hang."""
    import json

    from training.config import LaunchConfig
    from training.launch import launch_command, launch_env, write_job

    pytest.importorskip("deepspeed")
    cfg = replace(TINY, deepspeed="zero3", max_steps=3, save_steps=100, global_batch=2, loss_chunk=8)
    out = tmp_path / "zero3-chunked"
    job = write_job(cfg, tiny_dir, tokenized, out, cpu=True)
    cmd = launch_command(LaunchConfig("torchrun", nproc_per_node=2, master_port=free_port(), cpu=True), cfg, job)
    run_ranks(cmd, launch_env(cpu=True, ranks_per_node=2))
    figures = json.loads((out / "sft_figures.json").read_text())
    assert figures["world_size"] == 2 and figures["loss_chunk"] == 8 and figures["steps"] == 3
    assert all(loss == loss for loss in figures["losses"])  # finite


def test_sequence_parallel_rows_carry_positions_and_pad_to_the_group():
    from training.dataset import IGNORE, Collator

    rows = [
        {"input_ids": [5, 6, 7], "labels": [5, 6, 7]},
        {"input_ids": [8, 9, 10, 11, 12], "labels": [IGNORE, 9, 10, 11, 12]},
    ]
    batch = Collator(pad_id=0, multiple=4)(rows)
    assert batch["input_ids"].shape == (2, 8) and "attention_mask" not in batch
    assert batch["position_ids"].tolist() == [[0, 1, 2, 0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 0, 1, 2]]
    assert batch["labels"][0, 3:].tolist() == [IGNORE] * 5


def test_the_token_count_follows_a_split(tokenized: Path):
    from training.dataset import load_tokenized, token_count

    data = load_tokenized(tokenized)
    parts = data.train_test_split(test_size=0.25, seed=0)
    whole = sum(len(ids) for ids in data["input_ids"])
    train = sum(len(ids) for ids in parts["train"]["input_ids"])
    assert token_count(data) == whole and token_count(parts["train"]) == train < whole
