"""Full-parameter SFT with transformers' Trainer on pre-tokenized `input_ids` + `labels`.

Run in-process (`train_sft`) or by a launcher in every rank (`python -m training.sft --job JOB.json`):
torchrun, the deepspeed launcher or accelerate start it on many GPUs and nodes, and the DeepSpeed
ZeRO-3 JSON shipped next to this file shards parameters, gradients and optimizer state.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import json
import math
import os
import shutil
import sys
import threading
import time
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

from start_tui.errors import StartTuiError
from training.config import SFTConfig
from training.dataset import Collator, load_tokenized, token_count
from training.export import TOKENIZER_SIDECAR

HERE = Path(__file__).resolve().parent
DEEPSPEED_CONFIGS = {"zero3": HERE / "ds_zero3.json", "zero3-offload": HERE / "ds_zero3_offload.json"}


def deepspeed_config(name: str) -> str | None:
    if name in ("", "none"):
        return None
    path = DEEPSPEED_CONFIGS.get(name) or Path(name)
    if not path.is_file():
        raise StartTuiError(f"The DeepSpeed config {name!r} is neither zero3, zero3-offload, none nor a JSON file.")
    return str(path)


def _zero_stage(ds_config: str | None) -> int:
    if ds_config is None:
        return 0
    try:
        return int(json.loads(Path(ds_config).read_text()).get("zero_optimization", {}).get("stage", 0))
    except (OSError, ValueError, AttributeError):
        return 0


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def last_checkpoint(output_dir: Path) -> str | None:
    """The checkpoint to resume from: the highest step among transformers' `checkpoint-<step>` folders
    that were written to the end. transformers' own `get_last_checkpoint` takes the highest folder
    whatever it holds, and a kill during a save leaves one without its trainer state, which the resume
    then fails on; here the one before it is taken."""
    points = [
        p
        for p in (output_dir.glob("checkpoint-*") if output_dir.is_dir() else [])
        if p.name.removeprefix("checkpoint-").isdigit() and (p / "trainer_state.json").is_file()
    ]
    return str(max(points, key=lambda p: int(p.name.removeprefix("checkpoint-")))) if points else None


def labelled_logits_trainer(loss_chunk: int = 0, fused: bool = False) -> type[Any]:
    """transformers' Trainer, computing the LM head only where a token carries a label.

    SFT on reasoning traces puts no loss on the prompt and the interpreter outputs, and the vocabulary
    projection of a small model is most of its compute (Gemma 3 270M: 640 x 262,144 per token). The
    model gets the positions whose next token has a label as a boolean `logits_to_keep` mask and the
    matching `shift_labels`, so the loss is the one the full logits give (same token normalization),
    for a fraction of the work and memory. Models whose forward takes no `logits_to_keep` get the
    usual full-logits loss.

    `loss_chunk` > 0: the LM head and the loss go `loss_chunk` labelled tokens at a time, each chunk
    recomputed in the backward pass (activation checkpointing), so the [tokens x vocabulary] logits of
    a 32k-token trace never exist whole; the loss and its gradients are the full loss's. `fused`: Liger's
    fused linear cross-entropy computes the loss (it never makes the logits either), untouched here.
    """
    import inspect

    import torch
    from transformers import Trainer

    class LabelledLogitsTrainer(Trainer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            model: Any = self.model
            inner = model.get_base_model() if hasattr(model, "get_base_model") else model  # peft
            forward = getattr(inner, "forward", None)  # a peft model passes the keyword on to it
            self.slices_logits = (
                not fused and forward is not None and "logits_to_keep" in inspect.signature(forward).parameters
            )
            self.loss_chunk = loss_chunk
            self.softcap: float | None = None
            if loss_chunk:
                config = inner.config
                scales = (getattr(config, "logit_scale", None), getattr(config, "logits_scaling", None))
                if any(scale not in (None, 1.0) for scale in scales):
                    raise StartTuiError(
                        f"loss_chunk does not know how {config.model_type} scales its logits; set loss_chunk = 0."
                    )
                if not self.slices_logits:
                    raise StartTuiError(
                        f"loss_chunk needs a model whose forward takes logits_to_keep; {config.model_type}'s does not."
                    )
                self.softcap = getattr(config, "final_logit_softcapping", None)
                self.head = inner.get_output_embeddings()

        extra_logs: dict[str, Any]

        def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
            """The Trainer's log, with what a callback measured at this step (engine_eval's figures)."""
            extra, self.extra_logs = getattr(self, "extra_logs", {}), {}
            super().log({**logs, **extra}, start_time)

        def compute_loss(
            self,
            model: Any,
            inputs: dict[str, Any],
            return_outputs: bool = False,
            num_items_in_batch: Any = None,
        ) -> Any:
            labels = inputs.get("labels")
            # evaluation asks for the outputs too, but only its loss is kept (prediction_loss_only)
            only_loss = not return_outputs or self.args.prediction_loss_only
            parallel = getattr(self.accelerator, "parallelism_config", None)
            sharded = parallel is not None and getattr(
                parallel, "sp_enabled", False
            )  # the sequence is split: its own loss
            if labels is not None and only_loss and self.slices_logits and not sharded:
                shifted = torch.nn.functional.pad(labels, (0, 1), value=-100)[:, 1:]
                keep = shifted != -100
                if self.loss_chunk:  # also with no label here: the ranks must call the head alike (below)
                    kept = {**inputs, "logits_to_keep": keep}
                    return self._chunked_loss(model, kept, shifted[keep], return_outputs, num_items_in_batch)
                if bool(keep.any()):
                    inputs = {**inputs, "logits_to_keep": keep, "shift_labels": shifted[keep]}
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)

        def _chunked_loss(
            self, model: Any, inputs: dict[str, Any], targets: Any, return_outputs: bool, num_items_in_batch: Any
        ) -> Any:
            """The model runs as usual (through its DDP or DeepSpeed wrapper) up to the LM head, which
            is handed no tokens: its input, the labelled hidden states, goes through the head here.

            Every rank calls the head the same number of times, forward and in the recomputation, padding
            with empty chunks up to the most any rank needs: under ZeRO-3 each call gathers the head's
            weights from all ranks, and a rank with fewer labelled tokens would otherwise leave the
            others waiting.
            """
            from torch.utils.checkpoint import checkpoint

            captured: list[Any] = []
            head, softcap, chunk = self.head, self.softcap, self.loss_chunk
            chunks = -(-targets.numel() // chunk)
            if torch.distributed.is_available() and torch.distributed.is_initialized():
                most = torch.tensor([chunks], device=targets.device)
                torch.distributed.all_reduce(most, op=torch.distributed.ReduceOp.MAX)
                chunks = int(most.item())

            def take(module: Any, args: tuple[Any, ...]) -> Any:
                if captured:  # the chunks below call the head themselves
                    return None
                captured.append(args[0])
                return (args[0][..., :0, :], *args[1:])

            def chunk_loss(hidden: Any, target: Any) -> Any:
                logits = head(hidden).float()  # as transformers' causal-LM loss: in float32
                if softcap is not None:
                    logits = torch.tanh(logits / softcap) * softcap
                return torch.nn.functional.cross_entropy(logits, target, ignore_index=-100, reduction="sum")

            def loss_func(outputs: Any, labels: Any, num_items_in_batch: Any = None) -> Any:
                hidden = captured[0].reshape(-1, captured[0].shape[-1])
                total = hidden.new_zeros((), dtype=torch.float32)
                for k in range(chunks):  # past the labelled tokens, the chunks are empty
                    part = slice(k * chunk, (k + 1) * chunk)
                    total = total + checkpoint(chunk_loss, hidden[part], targets[part], use_reentrant=False)
                count = num_items_in_batch if num_items_in_batch is not None else max(1, targets.numel())
                return total / count

            hook = head.register_forward_pre_hook(take)
            saved, self.compute_loss_func = self.compute_loss_func, loss_func
            try:  # the Trainer's own scaling (gradient accumulation, tokens across devices) applies as usual
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            finally:
                self.compute_loss_func = saved
                hook.remove()

    return LabelledLogitsTrainer


class Stopped(StartTuiError):
    """The run was stopped by a signal after saving a checkpoint (exit status 143, as for SIGTERM)."""


def stop_on_signal_callback() -> Any:
    """A Trainer callback that, on SIGTERM (a preempted or cancelled job), saves a checkpoint and stops.

    The flag is agreed on by every rank at each step end (a max all-reduce), so all ranks save the
    same step together, as ZeRO-3's sharded save needs; the run resumes from that checkpoint.
    """
    import signal

    import torch
    from transformers import TrainerCallback

    class StopOnSignal(TrainerCallback):
        def __init__(self) -> None:
            self.received = False
            signal.signal(signal.SIGTERM, self._note)

        def _note(self, signum: int, frame: Any) -> None:
            self.received = True

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            stop = self.received
            if torch.distributed.is_available() and torch.distributed.is_initialized():
                flag = torch.tensor([int(stop)], device=args.device)
                torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
                stop = bool(flag.item())
            if stop:
                self.received = True
                control.should_save = True
                control.should_training_stop = True
            return control

    return StopOnSignal()


def engine_eval_callback(cfg: SFTConfig, tokenizer: Any, engine: Any, model_path: Path, scratch: Path) -> Any:
    """A Trainer callback that has the project's own engine solve `cfg.engine_eval`'s first problems with the
    model being trained (greedy, no hints, its sandbox running the code) every eval_steps and at the
    end, and logs pass@1 and tool use: what the run is for, seen while it runs, not only its loss.

    Rank 0 solves while the other ranks wait at a barrier. `engine`: the recipe's engine options.
    With `engine_eval_backend = "llama"` the model is saved under `scratch` at that step, exported to
    GGUF and run by llama.cpp (the tokenizer of `model_path`, the base, goes with it); the folder is
    removed afterwards.
    """
    from dataclasses import replace

    from transformers import TrainerCallback

    from start_tui.backends.hf import TransformersBackend
    from start_tui.backends.learned import in_job, job_of
    from start_tui.batch import solve_many
    from start_tui.eval.runner import grade, kind_of
    from start_tui.options import check_options, make_reasoner, open_sandbox
    from start_tui.sandbox import Sandbox
    from training.stages import load_source

    problems = [p for source in cfg.engine_eval for p in load_source(source)][: cfg.engine_eval_limit]
    if not problems:
        raise StartTuiError(f"engine_eval in [sft] names no problems ({', '.join(cfg.engine_eval)}).")
    opts = replace(
        engine, backend="hf", hints_enabled=False, temperature=0.0, max_tokens=cfg.engine_eval_max_tokens, samples=1
    )
    # the profile and prompt the stage's traces were made under, from its job: the model is prompted as it is
    # taught, as a folder or GGUF of it would be once trained
    learned = in_job(scratch)
    library = check_options(opts)

    class EngineEval(TrainerCallback):
        def __init__(self) -> None:
            self.results: list[dict[str, Any]] = []
            self.trainer: Any = None
            self.stop: Any = None  # the SIGTERM callback

        def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> Any:
            steps = cfg.eval_steps
            every = max(1, math.ceil(state.max_steps * steps) if steps < 1 else int(steps))
            if state.global_step % every and state.global_step != state.max_steps:
                return control
            if self.stop is not None and self.stop.received:  # preempted: the grace period is for the checkpoint
                return control
            control.should_log = True  # on every rank: the log step gathers figures from all of them
            if state.is_world_process_zero:
                try:
                    record = self.solve(model, state.global_step)
                except Exception as exc:  # a failed evaluation is reported; the training goes on
                    record = {"step": state.global_step, "error": f"{type(exc).__name__}: {exc}"}
                    self.results.append(record)
                    why = f"start-tui: engine_eval at step {state.global_step} failed ({record['error']})"
                    print(why, file=sys.stderr)
                if self.trainer is not None:  # goes out with this step's log line (the trainer's `log`)
                    figures = {f"engine_{k}": v for k, v in record.items() if k not in ("step", "error")}
                    self.trainer.extra_logs.update(figures)
            import torch

            if torch.distributed.is_available() and torch.distributed.is_initialized():
                torch.distributed.barrier()
            return control

        def solve(self, model: Any, step: int) -> dict[str, Any]:
            t0 = time.monotonic()
            was_training = model.training
            model.eval()
            try:
                on_llama = cfg.engine_eval_backend == "llama"
                outcomes = self.on_llama(model, step) if on_llama else self.in_place(model, step)
            finally:
                model.train(was_training)
            right = tools = 0
            with Sandbox() as grader:
                for o in outcomes:
                    right += grade(kind_of(o.problem.benchmark), o.problem, o.trace, grader)[1]
                    tools += o.trace is not None and any(span.kind == "output" for span in o.trace.spans)
            record = {
                "step": step,
                "pass_at_1": round(right / len(outcomes), 4),
                "tool_use": round(tools / len(outcomes), 4),
                "problems": len(outcomes),
                "backend": cfg.engine_eval_backend,
                "seconds": round(time.monotonic() - t0, 2),
            }
            self.results.append(record)
            return record

        def in_place(self, model: Any, step: int) -> list[Any]:
            backend = TransformersBackend.from_model(model, tokenizer, f"step {step}", learned=learned)

            def build(o: Any) -> Any:
                sandbox = open_sandbox(o)
                return make_reasoner(o, backend, sandbox, library), sandbox

            return solve_many(problems, opts, build=build)

        def on_llama(self, model: Any, step: int) -> list[Any]:
            from training.stages import _on_llama

            folder = scratch / f"engine-eval-{step}"
            shutil.rmtree(folder, ignore_errors=True)
            try:
                saved = folder / "model"
                model.save_pretrained(saved)  # a peft model saves its adapter, which names its base
                tokenizer.save_pretrained(saved)
                if (model_path / TOKENIZER_SIDECAR).is_file():
                    shutil.copy(model_path / TOKENIZER_SIDECAR, saved / TOKENIZER_SIDECAR)
                job = job_of(scratch)
                if job is not None:  # the export carries the profile and prompt it records into the GGUF
                    shutil.copy(job, folder / "job.json")
                gguf, adapter = _on_llama(saved, folder)
                on_gguf = replace(opts, backend="llama", model=str(gguf), adapter=str(adapter) if adapter else None)
                return solve_many(problems, on_gguf)
            finally:
                shutil.rmtree(folder, ignore_errors=True)

    return EngineEval()


def memory_kernels(cfg: SFTConfig, use_cpu: bool) -> bool:
    """Whether Liger's kernels are used; asking for them where they cannot run is one sentence."""
    import importlib.util

    if not cfg.liger:
        return False
    if use_cpu:
        raise StartTuiError("liger = true needs a CUDA GPU (Liger's kernels are Triton); set liger = false on the CPU.")
    if importlib.util.find_spec("liger_kernel") is None:
        raise StartTuiError("liger = true needs the liger-kernel package: pip install liger-kernel.")
    return True


def parallelism_config(cfg: SFTConfig, world: int, use_cpu: bool) -> Any:
    """accelerate's ParallelismConfig for sequence parallelism (DeepSpeed Ulysses), or None for sequence_parallel 1.

    Each sequence is split among `sequence_parallel` ranks and attention is computed with an all-to-all
    over heads, so a 32k-token trace costs each GPU a share of its activations.
    """
    if cfg.sequence_parallel == 1:
        return None
    sp = cfg.sequence_parallel
    if use_cpu:
        raise StartTuiError(
            f"sequence_parallel = {sp} runs on CUDA GPUs only (DeepSpeed Ulysses); set it to 1 on the CPU."
        )
    if cfg.deepspeed in ("", "none"):
        raise StartTuiError(f'sequence_parallel = {sp} runs through DeepSpeed; set deepspeed = "zero3" in [sft].')
    if world % sp:
        raise StartTuiError(f"sequence_parallel = {sp} must divide the world size ({world} ranks).")
    attention = cfg.attn_implementation if cfg.attn_implementation != "auto" else "sdpa"
    if attention not in ("sdpa", "flash_attention_2", "flash_attention_3"):
        raise StartTuiError(
            f"sequence_parallel needs attn_implementation sdpa or flash_attention_2 (or _3), not {attention}."
        )
    try:
        from accelerate import ParallelismConfig
        from accelerate.utils import DeepSpeedSequenceParallelConfig
    except ImportError:
        raise StartTuiError("sequence_parallel needs accelerate 1.12 or newer (its ParallelismConfig).") from None
    handler = DeepSpeedSequenceParallelConfig(sp_seq_length_is_variable=True, sp_attn_implementation=attention)
    return ParallelismConfig(sp_size=sp, sp_backend="deepspeed", sp_handler=handler)


def load_for_training(cfg: SFTConfig, model_path: Path, *, use_cpu: bool, bf16: bool) -> Any:
    """The model to train: all of it (the paper's recipe), or a LoRA adapter over frozen (or 4-bit) weights."""
    import torch
    from transformers import AutoModelForCausalLM

    from start_tui.backends.hf import NO_HUB_KERNELS

    common: dict[str, Any] = (
        {} if cfg.attn_implementation == "auto" else {"attn_implementation": cfg.attn_implementation}
    )
    common |= NO_HUB_KERNELS  # Hub kernels would be fetched at the first step on a GPU
    if cfg.adapter == "none":
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32, **common)
        if cfg.gradient_checkpointing:
            model.config.use_cache = False
        return model
    try:
        from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    except ImportError:
        raise StartTuiError("adapter = 'lora' needs peft: pip install 'start-tui[train]'.") from None
    kwargs: dict[str, Any] = {"dtype": torch.float32, **common}
    if cfg.adapter == "qlora":
        if use_cpu:
            raise StartTuiError(
                "adapter = 'qlora' needs a CUDA GPU (4-bit weights through bitsandbytes); use 'lora' here."
            )
        if deepspeed_config(cfg.deepspeed) is not None and "zero3" in str(cfg.deepspeed):
            raise StartTuiError("adapter = 'qlora' does not shard 4-bit weights with ZeRO-3; set deepspeed = 'none'.")
        try:
            from transformers import BitsAndBytesConfig
        except ImportError:
            raise StartTuiError("adapter = 'qlora' needs bitsandbytes: pip install bitsandbytes.") from None
        compute = torch.bfloat16 if bf16 else torch.float16
        kwargs = {
            **common,
            "dtype": compute,
            "quantization_config": BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=compute,
                bnb_4bit_use_double_quant=True,
            ),
        }  # fmt: skip
    model = AutoModelForCausalLM.from_pretrained(model_path, **kwargs)
    if cfg.gradient_checkpointing:
        model.config.use_cache = False
    if cfg.adapter == "qlora":
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=cfg.gradient_checkpointing)
    elif cfg.gradient_checkpointing:
        model.enable_input_require_grads()  # frozen embeddings: checkpointed blocks still need a grad path
    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = sorted(set(cfg.lora_target_modules) - names)
    if missing:
        raise StartTuiError(f"lora_target_modules names layers this model does not have: {', '.join(missing)}.")
    lora = LoraConfig(
        r=cfg.lora_rank,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=list(cfg.lora_target_modules),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def train_sft(
    cfg: SFTConfig,
    model_dir: str | Path,
    tokenized: str | Path,
    output_dir: str | Path,
    cpu: bool = False,
    resume: bool = True,
    engine: Any = None,
) -> dict[str, Any]:
    """Train on tokenized rows (Arrow or JSONL); save the model and tokenizer in `output_dir`; return the figures.

    `engine`: the engine options `engine_eval` solves with (the recipe's [generate] table; default: a recipe's).
    """
    import datasets
    import torch
    import transformers
    from transformers import AutoTokenizer, TrainingArguments

    transformers.utils.logging.set_verbosity_warning()
    transformers.utils.logging.disable_progress_bar()  # the Trainer's own log lines say how it goes
    datasets.disable_progress_bars()
    out = Path(output_dir)
    model_path = Path(model_dir)
    if not (model_path / "config.json").is_file():
        raise StartTuiError(f"The base model {str(model_path)!r} is not a transformers folder (no config.json).")
    use_cpu = cpu or not torch.cuda.is_available()
    ds_config = deepspeed_config(cfg.deepspeed)
    if use_cpu and ds_config is not None:
        os.environ.setdefault("DS_ACCELERATOR", "cpu")
    world = world_size()
    fused = memory_kernels(cfg, use_cpu)
    parallel = parallelism_config(cfg, world, use_cpu)  # refuses a sequence_parallel that does not divide world
    per_step = cfg.micro_batch * world // cfg.sequence_parallel  # a sequence-parallel group shares its rows
    accumulation = max(1, math.ceil(cfg.global_batch / per_step))
    bf16 = cfg.bf16 and not use_cpu and torch.cuda.is_bf16_supported()
    if cfg.engine_eval and world > 1 and _zero_stage(ds_config) == 3:
        raise StartTuiError(
            "engine_eval runs the model on rank 0 alone, and ZeRO-3 shards it across ranks; score the saved "
            "checkpoints with start-tui eval --backend hf --model CHECKPOINT instead."
        )
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    data = load_tokenized(tokenized)
    if len(data) == 0:
        raise StartTuiError(f"The tokenized dataset {str(tokenized)!r} is empty; nothing to train on.")
    held: Any = None
    if cfg.eval_share > 0:
        if len(data) < 2:
            raise StartTuiError(f"eval_share needs at least two examples; {str(tokenized)!r} has {len(data)}.")
        parts = data.train_test_split(test_size=cfg.eval_share, seed=cfg.seed)
        data, held = parts["train"], parts["test"]
    args = TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=cfg.micro_batch,
        gradient_accumulation_steps=accumulation,
        learning_rate=cfg.learning_rate,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        lr_scheduler_type=cfg.scheduler,
        warmup_steps=cfg.warmup_ratio,  # a float in [0, 1) is a ratio of the total steps
        weight_decay=cfg.weight_decay,
        bf16=bf16,
        activation_checkpointing=cfg.gradient_checkpointing,
        deepspeed=ds_config,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit or None,
        eval_strategy="steps" if held is not None else "no",
        eval_steps=cfg.eval_steps if held is not None else None,
        per_device_eval_batch_size=cfg.micro_batch,
        prediction_loss_only=True,
        logging_steps=cfg.logging_steps,
        seed=cfg.seed,
        report_to=cfg.report_to or "none",
        use_cpu=use_cpu,
        ddp_backend="gloo" if use_cpu and world > 1 else None,
        remove_unused_columns=False,
        disable_tqdm=True,
        use_liger_kernel=fused,
        **({"parallelism_config": parallel} if parallel is not None else {}),
    )
    _ = args.device  # sets up torch.distributed (gloo on CPU) before ZeRO-3 partitions the weights at load
    if ds_config is not None and world > 1:
        import deepspeed

        deepspeed.init_distributed(dist_backend="gloo" if use_cpu else "nccl")  # ZeRO-3 reads its world size here
    model = load_for_training(cfg, model_path, use_cpu=use_cpu, bf16=bf16)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    collator = Collator(pad_id if pad_id is not None else 0, multiple=cfg.sequence_parallel)
    stop = stop_on_signal_callback()
    callbacks = [stop]
    solver = None
    if cfg.engine_eval:
        from start_tui.options import front_defaults

        solver = engine_eval_callback(cfg, tokenizer, engine or front_defaults("recipe"), model_path, out)
        callbacks.append(solver)
    trainer = labelled_logits_trainer(cfg.loss_chunk, fused=fused)(
        model=model, args=args, train_dataset=data, eval_dataset=held, data_collator=collator, callbacks=callbacks
    )
    if solver is not None:
        trainer.extra_logs = {}
        solver.trainer, solver.stop = trainer, stop
    checkpoint = last_checkpoint(out) if resume else None
    t0 = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=checkpoint)
    seconds = time.perf_counter() - t0
    if stop.received:
        step = trainer.state.global_step
        raise Stopped(
            f"SFT stopped on SIGTERM at step {step}; {out / f'checkpoint-{step}'} is saved, "
            "and the same command resumes from it."
        )
    trainer.save_model(str(out))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(out)
        if (model_path / TOKENIZER_SIDECAR).is_file():  # the base GGUF's tokenizer, for `start-tui train export`
            shutil.copy(model_path / TOKENIZER_SIDECAR, out / TOKENIZER_SIDECAR)
    tokens = token_count(data) * (trainer.state.epoch or 0)  # all ranks together
    start = int(checkpoint.rsplit("-", 1)[-1]) if checkpoint else 0
    losses = [float(h["loss"]) for h in trainer.state.log_history if "loss" in h and h.get("step", 0) > start]
    eval_losses = [
        float(h["eval_loss"]) for h in trainer.state.log_history if "eval_loss" in h and h.get("step", 0) > start
    ]
    trained: Any = trainer.model
    inner = trained.get_base_model() if hasattr(trained, "get_base_model") else trained
    checkpointing = getattr(inner, "is_activation_checkpointing", getattr(inner, "is_gradient_checkpointing", False))
    sharded: list[Any] = [p for p in trained.parameters() if hasattr(p, "ds_tensor")]
    local_fraction = (
        sum(p.ds_tensor.numel() for p in sharded) / max(1, sum(p.ds_numel for p in sharded)) if sharded else None
    )
    figures = {
        "steps": trainer.state.global_step,
        "resumed_from": checkpoint,
        "losses": losses,
        "eval_losses": eval_losses,
        "train_loss": result.training_loss,
        "seconds": round(seconds, 2),
        "world_size": world,
        "gradient_accumulation": accumulation,
        "deepspeed": ds_config,
        "zero3_local_fraction": round(local_fraction, 4) if local_fraction is not None else None,
        "device": "cpu" if use_cpu else "cuda",
        "bf16": bf16,
        "activation_checkpointing": bool(checkpointing),
        "loss_chunk": cfg.loss_chunk,
        "liger": fused,
        "sequence_parallel": cfg.sequence_parallel,
        "engine_eval": solver.results if solver is not None else [],
        "examples": len(data),
        "tokens_per_s_per_device": round(tokens / seconds / world, 1) if tokens and seconds else None,
        "config": asdict(cfg),
    }
    if trainer.is_world_process_zero():
        (out / "sft_figures.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return figures


def main() -> int:
    """One rank of a launched SFT run; returns its exit status (0, 1, or 143 when stopped by SIGTERM)."""
    parser = argparse.ArgumentParser(description="one rank of an SFT run (started by a launcher)")
    parser.add_argument("--job", required=True, help="a JSON file: {config, model_dir, tokenized, output_dir, cpu}")
    parser.add_argument("--local_rank", type=int, default=-1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    job = json.loads(Path(args.job).read_text(encoding="utf-8"))
    status, trained = 0, False
    try:
        cfg = SFTConfig(**job["config"])
        engine = None
        if cfg.engine_eval and job.get("stage"):
            from training.config import recipe_from_dict
            from training.stages import engine_options

            engine = engine_options(recipe_from_dict(job["stage"]["recipe"], "the job's recipe"))
        figures = train_sft(cfg, job["model_dir"], job["tokenized"], job["output_dir"], cpu=job["cpu"], engine=engine)
        trained = True
        if job.get("stage") and int(os.environ.get("RANK", "0")) == 0:
            from training.stages import finish_sft_stage

            finish_sft_stage(job["stage"], figures)
    except StartTuiError as exc:
        print(f"start-tui: {exc}", file=sys.stderr)
        status = 143 if isinstance(exc, Stopped) else 1
    except KeyboardInterrupt:
        traceback.print_exc()
        status = 130
    except SystemExit as exc:  # a library's sys.exit: its status, and its message if it gave one
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
        status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except Exception:
        traceback.print_exc()
        status = 1
    if trained:  # every rank past training: no rank ends while rank 0 still writes the stage's manifest
        status = agree_on_status(status)
    try:
        leave_process_group()
    except Exception as exc:
        print(f"start-tui: the process groups could not be destroyed ({type(exc).__name__}: {exc})", file=sys.stderr)
        status = status or 1
    return status


def agree_on_status(status: int) -> int:
    """The highest exit status of the run's ranks, which all call this once their training is over: when rank 0
    fails to write the stage's manifest every rank exits 1 at once, none waits on it (a bare barrier held the
    others for NCCL's whole timeout). A rank that has already left gives 1."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return status
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    highest = torch.tensor([status], dtype=torch.int64, device=device)
    try:
        dist.all_reduce(highest, op=dist.ReduceOp.MAX)
    except Exception as exc:  # a peer's process ended (Gloo: "Connection closed by peer")
        why = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        print(f"start-tui: another rank left the run before it ended ({why})", file=sys.stderr)
        return max(status, 1)
    if int(highest.item()) != status:
        print(f"start-tui: another rank ended with status {int(highest.item())}; its output says why", file=sys.stderr)
    return int(highest.item())


def leave_process_group() -> None:
    """Destroy the rank's process groups: on NCCL this aborts the communicators, which must happen before
    the interpreter ends. (On Gloo it does not stop the worker threads: DeepSpeed's groups and every ZeRO-3
    parameter still hold the groups; see `end_rank`.)"""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def end_rank(status: int) -> NoReturn:
    """End a rank's process with `status` as the interpreter would, less its teardown: the threads that are
    not daemons are waited for (a background save or upload; thread pools' idle workers are told to stop
    first), a wandb run is finished with the status, the atexit hooks run (logging's flush), Python's and C's
    output buffers are flushed, and the process exits. The teardown destroys Gloo's process groups while
    their worker and TCP-loop threads still run (DeepSpeed holds the groups past `destroy_process_group`),
    and the rank died of SIGABRT ("terminate called without an active exception") after a run that
    succeeded: seen in CI with two ranks on two hosts, rarely (none in 42 runs of that launch here, idle or
    loaded), so that a finished run, or a preempted one that should exit 143, failed at random."""
    try:
        shutdown = getattr(threading, "_shutdown", None)  # what the interpreter runs first
        if shutdown is not None:
            shutdown()
        else:
            for thread in threading.enumerate():
                if thread is not threading.current_thread() and not thread.daemon:
                    thread.join()
        finish_wandb(status)
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed or broken stream: nothing to flush into
                stream.flush()
        with contextlib.suppress(Exception):  # what C and C++ code printed (a pipe's stdio is fully buffered)
            ctypes.CDLL(None).fflush(None)
        os._exit(status)


def finish_wandb(status: int) -> None:
    """Finish the rank's wandb run with its exit status: wandb's own atexit hook reads the status from
    sys.exit and sys.excepthook, which a rank that ends through `end_rank` never calls, and would mark a
    failed or preempted run as finished (and drop its resume file)."""
    wandb = sys.modules.get("wandb")
    run = getattr(wandb, "run", None) if wandb is not None else None
    if run is None:
        return
    try:
        run.finish(exit_code=status)
    except Exception as exc:
        print(f"start-tui: the wandb run could not be finished ({type(exc).__name__}: {exc})", file=sys.stderr)


if __name__ == "__main__":
    end_rank(main())
