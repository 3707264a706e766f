"""The CUDA paths of `start-tui train` and of the transformers backend, run for real on one GPU.

CI has no GPU, so these paths are tested there only up to the point where they would need one (the
refusals, the launch lines, the same code on the CPU). This script runs them on a CUDA machine, each case
in its own process (as a user's run starts), and checks what it can of each result:

- sft-full: full-parameter SFT of a tiny Llama in bf16: the loss falls, the saved weights moved.
- sft-lora: a LoRA adapter: saved alone, lora_B trained away from zero.
- sft-qlora: LoRA over 4-bit NF4 weights (bitsandbytes), activation checkpointing on: the base's linear
  layers are 4-bit while it trains, the adapter loads over a 4-bit base again and gives finite logits.
- sft-liger: Liger's fused kernels (Triton): the loss falls.
- sft-zero3: the DeepSpeed launcher, ZeRO-3 on one GPU: the gathered model reloads and moved.
- sft-zero3-lora: torchrun, ZeRO-3 with an adapter: the adapter is saved whole.
- lanes: the transformers backend on the GPU: K sequences decoded together in one padded forward give
  what one sequence alone gives (greedy; a Llama and a Gemma 3 with sliding-window layers).
- shape-270m: a model of the embedded model's shape (Gemma 3 270M: 18 layers, 640 wide, a 262k
  vocabulary; random weights, as no hub is reached), packed 2,048-token rows: training tokens/s per GPU
  and peak memory, full-parameter (activation checkpointing on and off) and LoRA.

Each case prints its figures, or the one sentence it failed with; the last line is one JSON object.
GPU_PATHS_ON_CPU=1 with --one CASE runs a case's own checks on a CPU (the script's test, not a result).

    python bench/gpu_paths.py [--cases sft-full,lanes,...] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CASES = ["sft-full", "sft-lora", "sft-qlora", "sft-liger", "sft-zero3", "sft-zero3-lora", "lanes", "shape-270m"]


def tiny_config() -> Any:
    from training.config import SFTConfig

    return SFTConfig(
        learning_rate=3e-3, epochs=1, global_batch=2, micro_batch=1, warmup_ratio=0.0, scheduler="constant",
        max_length=2048, gradient_checkpointing=False, deepspeed="none", save_steps=1000, max_steps=8,
    )  # fmt: skip


def traces(copies: int) -> list[Any]:
    from start_tui.engine import load_traces

    out = []
    for i in range(copies):
        [t] = load_traces(ROOT / "tests" / "data" / "sum-of-squares.jsonl")
        t.id = f"recorded-{i}"
        out.append(t)
    return out


def tokenize(model: Path, work: Path, copies: int, max_length: int, packing: bool) -> Path:
    from transformers import AutoTokenizer

    from start_tui.engine.trace import save_traces
    from training.dataset import write_tokenized

    save_traces(work / "traces.jsonl", traces(copies))
    out = work / "tokenized.arrow"
    tok = AutoTokenizer.from_pretrained(model)
    write_tokenized(work / "traces.jsonl", out, tok, max_length=max_length, packing=packing)
    return out


def tiny(work: Path, arch: str = "llama") -> tuple[Path, Path]:
    from tests.tiny_lm import build_tiny_lm

    model = build_tiny_lm(work / f"tiny-{arch}", arch=arch)
    return model, tokenize(model, work, copies=8, max_length=2048, packing=False)


def falls(figures: dict[str, Any]) -> None:
    losses = figures["losses"]
    assert figures["device"] == "cuda" or os.environ.get("GPU_PATHS_ON_CPU"), f"trained on {figures['device']}"
    assert len(losses) >= 4 and min(losses[-2:]) < losses[0], f"the loss did not fall: {losses}"


def moved(trained: Path, base: Path) -> bool:
    import torch
    from transformers import AutoModelForCausalLM

    a = AutoModelForCausalLM.from_pretrained(trained)
    b = AutoModelForCausalLM.from_pretrained(base)
    return any(not torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))


def reset_peak() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_gib() -> float | None:
    import torch

    return round(torch.cuda.max_memory_allocated() / 2**30, 3) if torch.cuda.is_available() else None


def brief(figures: dict[str, Any]) -> dict[str, Any]:
    keep = ("steps", "seconds", "bf16", "device", "deepspeed", "zero3_local_fraction", "liger", "world_size")
    out = {k: figures.get(k) for k in keep}
    out["loss_first_last"] = [round(figures["losses"][0], 3), round(figures["losses"][-1], 3)]
    out["tokens_per_s_per_device"] = figures.get("tokens_per_s_per_device")
    return out


def case_sft(name: str, work: Path) -> dict[str, Any]:
    import torch

    from training.sft import train_sft

    model, data = tiny(work)
    cfg = tiny_config()
    if name == "sft-lora":
        cfg = replace(cfg, adapter="lora", lora_rank=4, learning_rate=2e-2)
    elif name == "sft-qlora":
        cfg = replace(cfg, adapter="qlora", lora_rank=4, learning_rate=2e-2, gradient_checkpointing=True)
    elif name == "sft-liger":
        cfg = replace(cfg, liger=True)
    seen: dict[str, Any] = {}
    if name == "sft-qlora":  # what the Trainer trains: the base's linear layers must be 4-bit
        import transformers

        original = transformers.Trainer.__init__

        def spy(self: Any, *args: Any, **kwargs: Any) -> None:
            import bitsandbytes as bnb

            m = kwargs["model"]
            seen["linear4bit"] = sum(isinstance(x, bnb.nn.Linear4bit) for x in m.modules())
            seen["trainable"] = sum(p.numel() for p in m.parameters() if p.requires_grad)
            original(self, *args, **kwargs)

        transformers.Trainer.__init__ = spy  # type: ignore[method-assign]
    out = work / name
    reset_peak()
    figures = train_sft(cfg, model, data, out)
    falls(figures)
    result = brief(figures) | {"peak_gib": peak_gib()}
    if name in ("sft-full", "sft-liger"):
        assert figures["bf16"] or figures["device"] == "cpu", "bf16 was not used on a GPU that has it"
        assert moved(out, model), "the saved weights are the base's"
    else:
        from safetensors.torch import load_file

        saved = load_file(out / "adapter_model.safetensors")
        assert saved and all("lora_" in k for k in saved), "the adapter file holds more than the adapter"
        trained = [k for k, t in saved.items() if "lora_B" in k and torch.count_nonzero(t) > 0]
        assert trained, "every lora_B is still zero"
        result["adapter_tensors"] = len(saved)
    if name == "sft-qlora":
        assert seen.get("linear4bit", 0) > 0, "the base was not loaded in 4 bits"
        result |= seen
        from peft import PeftModel
        from transformers import AutoModelForCausalLM, BitsAndBytesConfig

        q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
        base = AutoModelForCausalLM.from_pretrained(
            model, quantization_config=q, dtype=torch.bfloat16, use_kernels=False
        )
        loaded = PeftModel.from_pretrained(base, out)
        ids = torch.tensor([[1, 5, 9, 13]], device="cuda")
        logits = loaded(input_ids=ids).logits
        assert torch.isfinite(logits).all(), "the 4-bit model with its adapter gives non-finite logits"
    return result


def case_zero3(name: str, work: Path) -> dict[str, Any]:
    from training.config import LaunchConfig
    from training.launch import launch_command, run_launch, write_job

    model, data = tiny(work)
    cfg = replace(tiny_config(), deepspeed="zero3")
    launcher = "deepspeed"
    if name == "sft-zero3-lora":
        cfg, launcher = replace(cfg, adapter="lora", lora_rank=4, learning_rate=2e-2), "torchrun"
    out = work / name
    job = write_job(cfg, model, data, out, cpu=False)
    cmd = launch_command(LaunchConfig(launcher=launcher, nproc_per_node=1, master_port=29611, cpu=False), cfg, job)
    run_launch(cmd, cpu=False)
    figures = json.loads((out / "sft_figures.json").read_text())
    falls(figures)
    assert str(figures["deepspeed"]).endswith("ds_zero3.json"), f"deepspeed config {figures['deepspeed']}"
    result = brief(figures)
    if name == "sft-zero3":
        assert figures["zero3_local_fraction"] == 1.0, "one rank must hold all of its shards"
        assert moved(out, model), "the gathered weights are the base's"
    else:
        import torch
        from safetensors.torch import load_file

        saved = load_file(out / "adapter_model.safetensors")
        assert saved and all(t.numel() > 0 for t in saved.values()), "an adapter tensor is an empty shard"
        assert any("lora_B" in k and torch.count_nonzero(t) > 0 for k, t in saved.items()), "lora_B untrained"
    return result


def case_lanes(work: Path) -> dict[str, Any]:
    import threading

    from start_tui.backends import SamplingParams
    from start_tui.backends.hf import TransformersBackend
    from tests.tiny_lm import build_tiny_lm

    greedy = SamplingParams(max_tokens=24, temperature=0.0)
    prompts = ["Let me compute the", "Wait, I should", "Final answer:", "Alternatively, the"] * 2
    result: dict[str, Any] = {}
    for arch in ("llama", "gemma3"):
        single = TransformersBackend(build_tiny_lm(work / f"lanes-{arch}", arch=arch), device="cuda")
        t0 = time.perf_counter()
        alone = ["".join(single.stream(p, greedy)) for p in prompts]
        t_alone = time.perf_counter() - t0
        outs = [""] * len(prompts)
        with single.batch(len(prompts)) as batch:

            def go(i: int, lanes: list[Any] = batch.lanes, outs: list[str] = outs) -> None:
                outs[i] = "".join(lanes[i].stream(prompts[i], greedy))

            t0 = time.perf_counter()
            threads = [threading.Thread(target=go, args=(i,)) for i in range(len(prompts))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            t_lanes = time.perf_counter() - t0
        differ = [i for i, (a, b) in enumerate(zip(alone, outs, strict=True)) if a != b]
        assert not differ, f"{arch}: lanes {differ} decode other text than one sequence alone"
        result[arch] = {"sequences": len(prompts), "alone_s": round(t_alone, 3), "lanes_s": round(t_lanes, 3)}
        single.close()
    return result


def shape_270m(work: Path) -> Path:
    """A folder holding a model of Gemma 3 270M's shape (random weights) and the tiny tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Gemma3TextConfig

    from tests.tiny_lm import build_tiny_lm

    tok_dir = build_tiny_lm(work / "tok")
    tok = AutoTokenizer.from_pretrained(tok_dir)
    kinds = ["sliding_attention"] * 5 + ["full_attention"]
    config = Gemma3TextConfig(
        vocab_size=262144, hidden_size=640, intermediate_size=2048, num_hidden_layers=18, num_attention_heads=4,
        num_key_value_heads=1, head_dim=256, query_pre_attn_scalar=256, sliding_window=512,
        layer_types=[kinds[i % 6] for i in range(18)], max_position_embeddings=32768,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
        tie_word_embeddings=True,
    )  # fmt: skip
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    folder = work / "shape-270m"
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def case_shape(work: Path) -> dict[str, Any]:
    from training.sft import train_sft

    model = shape_270m(work)
    data = tokenize(model, work, copies=400, max_length=2048, packing=True)
    base = replace(tiny_config(), learning_rate=1e-4, micro_batch=4, global_batch=8, max_steps=12)
    runs = {
        "full": base,
        "full-checkpointing": replace(base, gradient_checkpointing=True),
        "lora": replace(base, adapter="lora", learning_rate=2e-4),
    }
    result: dict[str, Any] = {"parameters_m": round(parameters(model) / 1e6, 1)}
    for label, cfg in runs.items():
        reset_peak()
        figures = train_sft(cfg, model, data, work / f"shape-{label}")
        falls(figures)
        result[label] = {
            "tokens_per_s": figures["tokens_per_s_per_device"],
            "seconds": figures["seconds"],
            "steps": figures["steps"],
            "bf16": figures["bf16"],
            "peak_gib": peak_gib(),
            "loss_first_last": [round(figures["losses"][0], 3), round(figures["losses"][-1], 3)],
        }
    return result


def parameters(folder: Path) -> int:
    """The parameter count of a saved model, from its tensors' shapes (nothing loaded)."""
    import math

    from safetensors import safe_open

    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        return sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())  # noqa: SIM118 - a safetensors handle


def run_case(name: str, work: Path) -> dict[str, Any]:
    if name.startswith("sft-zero3"):
        return case_zero3(name, work)
    if name.startswith("sft-"):
        return case_sft(name, work)
    if name == "lanes":
        return case_lanes(work)
    if name == "shape-270m":
        return case_shape(work)
    raise SystemExit(f"no case {name!r}; the cases are {', '.join(CASES)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--work", default=None, help="a folder for the models and runs (default: a temporary one)")
    parser.add_argument("--timeout", type=float, default=420, help="seconds per case")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # run one case in this process
    args = parser.parse_args()
    if args.one:
        work = Path(args.work)
        try:
            print(json.dumps({"ok": True, **run_case(args.one, work)}))
        except BaseException as exc:  # the parent reports it
            traceback.print_exc()
            print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
        return
    import torch

    if not torch.cuda.is_available():
        raise SystemExit("bench/gpu_paths.py needs a CUDA GPU; this machine has none.")
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.cases.split(","):
            work = Path(args.work or tmp) / name
            work.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            cmd = [sys.executable, __file__, "--one", name, "--work", str(work)]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=os.environ)
                last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
                failed = {"ok": False, "error": f"exit {proc.returncode}"}
                outcome = json.loads(last) if last.startswith("{") else failed
                if not outcome["ok"]:
                    sys.stderr.write(proc.stderr[-4000:])
            except subprocess.TimeoutExpired:
                outcome = {"ok": False, "error": f"no result in {args.timeout:.0f} s"}
            outcome["wall_s"] = round(time.perf_counter() - t0, 1)
            results[name] = outcome
            print(f"{name}: {json.dumps(outcome)}", flush=True)
    print(json.dumps({"device": torch.cuda.get_device_name(), "torch": torch.__version__, **results}))


if __name__ == "__main__":
    main()
