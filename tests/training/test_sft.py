"""SFT for real on a tiny random model: the loss falls, a checkpoint resumes, ZeRO-3 shards at world size 2."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from start_tui.errors import StartTuiError
from start_tui.options import front_defaults
from tests.training.conftest import free_port, run_ranks
from training.config import LaunchConfig, SFTConfig
from training.launch import launch_command, launch_env, run_launch, write_job
from training.sft import train_sft

pytest.importorskip("transformers")
pytest.importorskip("datasets")

ROOT = Path(__file__).resolve().parents[2]


def taught(out: Path) -> Path:
    """The job a stage writes for an SFT run: the tiny random model is of no family, and is prompted as its
    traces were made (profile and few-shot prompt), in place and in the GGUF of a step alike."""
    from start_tui.backends.learned import PROFILE_KEY, PROMPT_KEY
    from tests.training.test_learned_under import TEMPLATE

    out.mkdir(parents=True, exist_ok=True)
    record = {"learned_under": {PROFILE_KEY: "gemma3-base", PROMPT_KEY: TEMPLATE}}
    (out / "job.json").write_text(json.dumps({"stage": record}), encoding="utf-8")
    return out


TINY = SFTConfig(
    learning_rate=3e-3,
    epochs=1,
    global_batch=2,
    micro_batch=1,
    warmup_ratio=0.0,
    scheduler="constant",
    max_length=2048,
    gradient_checkpointing=False,
    deepspeed="none",
    save_steps=4,
    max_steps=8,
)


def test_a_run_resumes_from_its_last_whole_checkpoint(tmp_path: Path):
    from training.sft import last_checkpoint

    assert last_checkpoint(tmp_path / "not-yet") is None
    for name, whole in [("checkpoint-2", True), ("checkpoint-9", True), ("checkpoint-10", False)]:
        (tmp_path / name).mkdir()
        if whole:
            (tmp_path / name / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoint-final").mkdir()  # not a step: ignored, not a crash
    (tmp_path / "checkpoint-final" / "trainer_state.json").write_text("{}")
    # step 10's save was cut by a kill (no trainer state): 9 is the last whole one, by number, not by name
    assert last_checkpoint(tmp_path) == str(tmp_path / "checkpoint-9")


def test_the_loss_falls_and_a_checkpoint_resumes(tiny_dir: Path, tokenized: Path, tmp_path: Path):
    out = tmp_path / "sft"
    first = train_sft(TINY, tiny_dir, tokenized, out, cpu=True)
    assert first["steps"] == 8 and first["gradient_accumulation"] == 2
    losses = first["losses"]
    assert len(losses) == 8 and sum(losses[-2:]) / 2 < 0.85 * sum(losses[:2]) / 2, losses
    assert (out / "checkpoint-8").is_dir() and (out / "config.json").is_file()

    shutil.rmtree(out / "checkpoint-8")  # resume from the step-4 checkpoint, to 10 steps
    again = train_sft(replace(TINY, max_steps=10), tiny_dir, tokenized, out, cpu=True)
    assert again["resumed_from"].endswith("checkpoint-4") and again["steps"] == 10
    assert len(again["losses"]) == 6  # steps 5..10 only

    from transformers import AutoModelForCausalLM

    AutoModelForCausalLM.from_pretrained(out)  # the saved model loads


LAUNCHERS = {
    "torchrun": ["-m", "torch.distributed.run", "--nproc_per_node"],
    "deepspeed": ["-m", "deepspeed.launcher.runner", "--master_port"],
    "accelerate": ["-m", "accelerate.commands.launch", "--num_processes"],
}


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_zero3_at_world_size_two_shards_and_the_gathered_model_reloads(
    launcher: str, tiny_dir: Path, tokenized: Path, tmp_path: Path
):
    import torch
    from transformers import AutoModelForCausalLM

    pytest.importorskip("deepspeed")
    cfg = replace(TINY, deepspeed="zero3", max_steps=3, save_steps=100, global_batch=2)
    out = tmp_path / "zero3"
    job = write_job(cfg, tiny_dir, tokenized, out, cpu=True)
    launch = LaunchConfig(launcher=launcher, nproc_per_node=2, master_port=free_port(), cpu=True)
    cmd = launch_command(launch, cfg, job)
    assert cmd[1:4] == LAUNCHERS[launcher]
    run_launch(cmd, cpu=True, ranks_per_node=2)
    figures = json.loads((out / "sft_figures.json").read_text())
    assert figures["world_size"] == 2 and figures["deepspeed"].endswith("ds_zero3.json")
    assert figures["steps"] == 3 and figures["gradient_accumulation"] == 1
    assert 0.4 <= figures["zero3_local_fraction"] <= 0.6  # each rank holds half of the parameters
    trained = AutoModelForCausalLM.from_pretrained(out)
    base = AutoModelForCausalLM.from_pretrained(tiny_dir)
    moved = [not torch.equal(a, b) for a, b in zip(trained.parameters(), base.parameters(), strict=True)]
    assert any(moved)  # the gathered weights are the trained ones, complete (same shapes loaded)


def test_a_lora_adapter_under_zero3_at_world_size_two_saves_whole(tiny_dir: Path, tokenized: Path, tmp_path: Path):
    pytest.importorskip("deepspeed")
    pytest.importorskip("peft")
    import torch
    from safetensors.torch import load_file

    cfg = replace(TINY, deepspeed="zero3", max_steps=3, save_steps=100, adapter="lora", lora_rank=4, learning_rate=2e-2)
    out = tmp_path / "zero3-lora"
    job = write_job(cfg, tiny_dir, tokenized, out, cpu=True)
    cmd = launch_command(
        LaunchConfig(launcher="torchrun", nproc_per_node=2, master_port=free_port(), cpu=True), cfg, job
    )
    run_launch(cmd, cpu=True, ranks_per_node=2)
    figures = json.loads((out / "sft_figures.json").read_text())
    assert figures["world_size"] == 2 and figures["steps"] == 3
    saved = load_file(out / "adapter_model.safetensors")
    assert saved and all("lora_" in name for name in saved)
    assert all(t.numel() > 0 for t in saved.values())  # gathered from the shards, not empty ZeRO-3 placeholders
    moved = [name for name, t in saved.items() if "lora_B" in name and torch.count_nonzero(t) > 0]
    assert moved  # lora_B starts at zero: a nonzero one was trained


def test_the_loss_on_labelled_logits_equals_the_full_loss(tiny_dir: Path, tokenized: Path, tmp_path: Path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from training.dataset import load_tokenized
    from training.sft import labelled_logits_trainer

    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    rows = load_tokenized(tokenized).select(range(2))
    batch = DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100, padding=True)(list(rows))
    labelled = int((batch["labels"][:, 1:] != -100).sum())
    assert 0 < labelled < batch["labels"][:, 1:].numel() // 2  # most positions carry no loss
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[], remove_unused_columns=False)
    figures = []
    for cls in (Trainer, labelled_logits_trainer()):
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_pretrained(tiny_dir, dtype=torch.float32)
        trainer = cls(model=model, args=args)
        loss = trainer.compute_loss(model, dict(batch), num_items_in_batch=torch.tensor(labelled))
        loss.backward()
        grad = model.get_input_embeddings().weight.grad.clone()
        figures.append((loss.item(), grad))
    (full, full_grad), (kept, kept_grad) = figures
    assert kept == pytest.approx(full, rel=1e-5)
    assert torch.allclose(kept_grad, full_grad, atol=1e-6, rtol=1e-4)


def test_a_lora_adapter_trains_alone_and_loads_over_its_base(tiny_dir: Path, tokenized: Path, tmp_path: Path):
    pytest.importorskip("peft")
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    out = tmp_path / "lora"
    lora = replace(TINY, adapter="lora", lora_rank=4, lora_alpha=8, lora_dropout=0.0, learning_rate=2e-2,
                   max_steps=24, save_steps=100, gradient_checkpointing=True)  # fmt: skip
    figures = train_sft(lora, tiny_dir, tokenized, out, cpu=True)
    losses = figures["losses"]
    # 4 steps make an epoch, so the first and the last four steps see the same rows: a frozen adapter keeps them equal
    assert sum(losses[-4:]) / 4 < sum(losses[:4]) / 4 - 0.15, losses
    saved = load_file(out / "adapter_model.safetensors")
    assert saved and all("lora_" in name for name in saved)  # the adapter only, not the base weights
    assert json.loads((out / "adapter_config.json").read_text())["r"] == 4
    assert not (out / "model.safetensors").exists()

    base = AutoModelForCausalLM.from_pretrained(tiny_dir)
    tuned = AutoModelForCausalLM.from_pretrained(out)  # transformers finds the base from the adapter's config
    ids = torch.tensor([[1, 5, 9, 13, 17]])
    with torch.no_grad():
        assert not torch.allclose(base(ids).logits, tuned(ids).logits)
    again = AutoModelForCausalLM.from_pretrained(tiny_dir)
    assert all(torch.equal(a, b) for a, b in zip(base.state_dict().values(), again.state_dict().values(), strict=True))


def test_adapter_settings_a_run_cannot_honour_are_one_sentence(tiny_dir: Path, tokenized: Path, tmp_path: Path):
    pytest.importorskip("peft")
    from start_tui.errors import StartTuiError

    with pytest.raises(StartTuiError, match="qlora' needs a CUDA GPU"):
        train_sft(replace(TINY, adapter="qlora"), tiny_dir, tokenized, tmp_path / "q", cpu=True)
    with pytest.raises(StartTuiError, match="does not have: wq"):
        train_sft(
            replace(TINY, adapter="lora", lora_target_modules=["wq"]), tiny_dir, tokenized, tmp_path / "w", cpu=True
        )


def test_a_run_logs_to_tensorboard_evaluates_a_held_out_share_and_keeps_the_last_checkpoints(
    tiny_dir: Path,
    tokenized: Path,
    tmp_path: Path,
):
    pytest.importorskip("tensorboard")
    cfg = replace(
        TINY, max_steps=6, save_steps=1 / 3, save_total_limit=2, eval_share=0.25, eval_steps=0.5,
        report_to=["tensorboard"], gradient_checkpointing=SFTConfig().gradient_checkpointing,
    )  # fmt: skip
    out = tmp_path / "run"
    figures = train_sft(cfg, tiny_dir, tokenized, out, cpu=True)
    assert figures["steps"] == 6 and figures["examples"] == 6  # 2 of the 8 examples held out
    assert figures["activation_checkpointing"]  # on by default, and really on in the trained model
    assert len(figures["eval_losses"]) == 2 and all(loss > 0 for loss in figures["eval_losses"])  # steps 3 and 6
    # a third of the run between checkpoints (2, 4, 6), the last two kept
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-4", "checkpoint-6"]
    events = list(out.glob("runs/**/events.out.tfevents.*"))
    assert events and any(e.stat().st_size > 0 for e in events)


def test_sigterm_saves_a_checkpoint_and_the_same_command_resumes_from_it(
    tiny_dir: Path,
    tokenized: Path,
    tmp_path: Path,
):
    cfg = replace(TINY, max_steps=400, save_steps=1000, learning_rate=1e-4)  # no checkpoint but the signal's
    out = tmp_path / "run"
    job = write_job(cfg, tiny_dir, tokenized, out, cpu=True)
    cmd = launch_command(LaunchConfig(cpu=True), cfg, job)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 240
        for line in proc.stdout:  # the Trainer prints each step's log line
            if "'loss'" in line or '"loss"' in line:
                break
            assert time.monotonic() < deadline, "no step was logged"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=240)
    finally:
        proc.kill()
    assert proc.returncode == 143, err[-2000:]
    [saved] = out.glob("checkpoint-*")
    step = int(saved.name.split("-")[1])
    assert 1 <= step < 400
    assert f"SFT stopped on SIGTERM at step {step}; {saved} is saved" in err
    assert not (out / "sft_figures.json").exists()  # not a finished run

    again = train_sft(replace(cfg, max_steps=step + 2), tiny_dir, tokenized, out, cpu=True)
    assert again["resumed_from"] == str(saved) and again["steps"] == step + 2
    assert json.loads((out / "sft_figures.json").read_text())["steps"] == step + 2


def test_the_engine_solves_held_out_problems_with_the_model_being_trained(
    tiny_dir: Path, tokenized: Path, tmp_path: Path
):
    smoke = ROOT / "training" / "recipes" / "smoke-problems.jsonl"
    cfg = replace(TINY, max_steps=4, eval_steps=0.5, engine_eval=[str(smoke)], engine_eval_limit=2,
                  engine_eval_max_tokens=8)  # fmt: skip
    figures = train_sft(cfg, tiny_dir, tokenized, taught(tmp_path / "sft"), cpu=True)
    runs = figures["engine_eval"]
    assert [r["step"] for r in runs] == [2, 4]  # every half of the run (eval_steps 0.5) and at the end
    for r in runs:
        assert r["problems"] == 2 and 0 <= r["pass_at_1"] <= 1 and 0 <= r["tool_use"] <= 1 and r["seconds"] > 0
    state = json.loads((tmp_path / "sft" / "checkpoint-4" / "trainer_state.json").read_text())
    logged = [h for h in state["log_history"] if "engine_pass_at_1" in h]
    assert [h["step"] for h in logged] == [2, 4]  # through the Trainer's log: tensorboard and the rest see it
    assert figures["steps"] == 4 and len(figures["losses"]) == 4  # training went on around it


@pytest.mark.parametrize("adapter", ["none", "lora"])
def test_engine_eval_on_llama_cpp_scores_the_gguf_of_the_step_as_the_app_runs_it(
    tiny_dir: Path, tokenized: Path, tmp_path: Path, adapter: str, monkeypatch: pytest.MonkeyPatch
):
    """engine_eval_backend = "llama": the model at the step is saved, exported (a LoRA as an adapter over
    its base's GGUF) and solved by llama.cpp; it writes what the final folder, exported by hand and run
    the same way, writes, and nothing of the export is left behind."""
    import start_tui.batch
    from start_tui.batch import solve_many
    from training.stages import _on_llama, load_source

    seen: list = []

    def recording(problems: list, opts: object, **kw: object) -> list:
        outcomes = solve_many(problems, opts, **kw)  # type: ignore[arg-type]
        seen.append((opts, [o.trace.text for o in outcomes if o.trace is not None]))
        return outcomes

    monkeypatch.setattr(start_tui.batch, "solve_many", recording)
    smoke = ROOT / "training" / "recipes" / "smoke-problems.jsonl"
    cfg = replace(TINY, max_steps=2, eval_steps=100, engine_eval=[str(smoke)], engine_eval_limit=3,
                  engine_eval_max_tokens=12, engine_eval_backend="llama", adapter=adapter)  # fmt: skip
    out = taught(tmp_path / "sft")
    [record] = train_sft(cfg, tiny_dir, tokenized, out, cpu=True)["engine_eval"]
    assert record["step"] == 2 and record["problems"] == 3 and record["backend"] == "llama"
    assert not list(out.glob("engine-eval-*"))
    [(opts, texts)] = seen
    assert opts.backend == "llama" and (opts.adapter is not None) == (adapter == "lora")  # type: ignore[attr-defined]
    gguf, adapter_gguf = _on_llama(out, tmp_path / "by-hand")
    by_hand = replace(
        front_defaults("recipe"),
        backend="llama",
        model=str(gguf),
        adapter=adapter_gguf and str(adapter_gguf),
        hints_enabled=False,
        temperature=0.0,
        max_tokens=12,
        samples=1,
    )
    again = solve_many(load_source(str(smoke))[:3], by_hand)
    assert len(texts) == 3 and texts == [o.trace.text for o in again if o.trace is not None]


def test_engine_eval_under_zero3_across_ranks_is_refused(
    tiny_dir: Path, tokenized: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from start_tui.errors import StartTuiError

    monkeypatch.setenv("WORLD_SIZE", "2")
    cfg = replace(TINY, deepspeed="zero3", engine_eval=["broad:4"])
    with pytest.raises(StartTuiError, match="ZeRO-3 shards it across ranks; score the saved checkpoints"):
        train_sft(cfg, tiny_dir, tokenized, tmp_path / "z", cpu=True)


def test_a_failing_engine_eval_is_reported_and_the_training_goes_on(
    tiny_dir: Path, tokenized: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
):
    from start_tui.backends.hf import TransformersBackend

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(TransformersBackend, "from_model", broken)
    cfg = replace(TINY, max_steps=2, eval_steps=1, engine_eval=["broad:3"], engine_eval_limit=1)
    figures = train_sft(cfg, tiny_dir, tokenized, tmp_path / "sft", cpu=True)
    assert figures["steps"] == 2 and [r["error"] for r in figures["engine_eval"]] == ["RuntimeError: out of memory"] * 2
    assert "engine_eval at step 1 failed (RuntimeError: out of memory)" in capfd.readouterr().err


def test_engine_eval_with_ddp_at_world_size_two_logs_on_rank_0_while_rank_1_waits(
    tiny_dir: Path, tokenized: Path, tmp_path: Path
):
    """Rank 0 solves at a step that is not a logging step (logging every 2, the run ends at 3): every rank
    must take the log step together, or their collectives would not pair up."""
    smoke = ROOT / "training" / "recipes" / "smoke-problems.jsonl"
    cfg = replace(TINY, max_steps=3, eval_steps=3, logging_steps=2, save_steps=100, global_batch=2,
                  engine_eval=[str(smoke)], engine_eval_limit=1, engine_eval_max_tokens=4)  # fmt: skip
    out = tmp_path / "ddp"
    job = write_job(cfg, tiny_dir, tokenized, out, cpu=True)
    cmd = launch_command(LaunchConfig("torchrun", nproc_per_node=2, master_port=free_port(), cpu=True), cfg, job)
    run_ranks(cmd, launch_env(cpu=True, ranks_per_node=2))
    figures = json.loads((out / "sft_figures.json").read_text())
    assert figures["world_size"] == 2 and [r["step"] for r in figures["engine_eval"]] == [3]


@pytest.mark.parametrize("ending", ["finished", "stopped", "failed"])
def test_a_rank_destroys_its_process_group_and_returns_its_status(ending: str, tmp_path: Path, monkeypatch, capsys):
    """On NCCL the communicators must be aborted before the interpreter ends; a preempted rank exits 143, a
    failed one 1 with the error's sentence."""
    import torch.distributed as dist

    import training.sft as sft

    def train(*args, **kwargs):
        assert dist.is_initialized()
        if ending == "stopped":
            raise sft.Stopped("SFT stopped on SIGTERM at step 1")
        if ending == "failed":
            raise StartTuiError("the tokenized data is missing")
        return {}

    job = tmp_path / "job.json"
    job.write_text(json.dumps({"config": {}, "model_dir": "m", "tokenized": "t", "output_dir": "o", "cpu": True}))
    monkeypatch.setattr(sft, "train_sft", train)
    monkeypatch.setattr("sys.argv", ["training.sft", "--job", str(job)])
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        assert sft.main() == {"finished": 0, "stopped": 143, "failed": 1}[ending]
        assert not dist.is_initialized()
        if ending == "failed":
            assert "start-tui: the tokenized data is missing" in capsys.readouterr().err
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


ENDING_RANK = """
import atexit, ctypes, os, sys, threading, time, types
from concurrent.futures import ThreadPoolExecutor
import torch.distributed as dist
from training.sft import end_rank, leave_process_group

class Teardown:
    def __del__(self, write=os.write):  # runs in the interpreter's teardown
        write(2, b"torn down by the interpreter\\n")

class Run:  # what wandb.run offers
    def finish(self, exit_code=None):
        print(f"; wandb finished with {exit_code}")

dist.init_process_group("gloo", init_method="file://" + sys.argv[1] + ".store", rank=0, world_size=1)
held = dist.new_group([0])  # as DeepSpeed and every ZeRO-3 parameter hold groups past destroy_process_group
keep = Teardown()
sys.modules["wandb"] = types.SimpleNamespace(run=Run())
atexit.register(lambda: print("; atexit hook ran"))
sys.stdout.write("buffered, not yet flushed")
threading.Thread(target=lambda: (time.sleep(0.5), print("; a background save done"))).start()
pool = ThreadPoolExecutor(1)  # left open: its idle worker waits for work until the interpreter says stop
pool.submit(time.sleep, 0.1)
libc = ctypes.CDLL(None)
libc.printf(b"[printed by C]")
leave_process_group()
end_rank(143)
"""


def test_a_rank_ends_with_its_status_as_the_interpreter_would_less_its_teardown(tmp_path: Path):
    """The teardown destroys Gloo's groups while their threads run: the rank died of SIGABRT after a run that
    succeeded (CI, two ranks on two hosts). A rank's end waits for the threads that are not daemons (an open
    thread pool's too), finishes a wandb run with the status, runs the atexit hooks and flushes Python's and
    C's output (a pipe: fully buffered), then exits with its status and skips that teardown."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", ENDING_RANK, str(tmp_path / "rank")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 143, proc.stderr[-2000:]
    for printed in ("buffered, not yet flushed", "; a background save done", "; wandb finished with 143"):
        assert printed in proc.stdout
    assert proc.stdout.index("; wandb finished with 143") < proc.stdout.index("; atexit hook ran")
    assert "[printed by C]" in proc.stdout
    assert "torn down by the interpreter" not in proc.stderr


TWO_RANKS = """
import sys
import torch.distributed as dist
import training.sft as sft
import training.stages as stages
from start_tui.errors import StartTuiError

JOB, FINISH = sys.argv[1:3]

def train(*args, **kwargs):
    dist.init_process_group("gloo")  # as the Trainer does
    return {"steps": 3}

def finish(stage, figures):
    if FINISH == "fails":
        raise StartTuiError("the stage's manifest could not be written")

sft.train_sft, stages.finish_sft_stage = train, finish
sys.argv = ["training.sft", "--job", JOB]
sft.end_rank(sft.main())
"""


@pytest.mark.parametrize("finish", ["writes", "fails"])
def test_every_rank_exits_with_the_status_of_the_stage_rank_0_finishes(finish: str, tmp_path: Path):
    """No rank ends while rank 0 still writes the stage's manifest; when that fails every rank exits 1 at once,
    none left waiting on rank 0 (with NCCL, a bare barrier held them for the whole collective timeout)."""
    job = tmp_path / "job.json"
    stage = {"name": "sft"}
    job.write_text(
        json.dumps({"config": {}, "model_dir": "m", "tokenized": "t", "output_dir": "o", "cpu": True, "stage": stage})
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port())}
    env["WORLD_SIZE"] = "2"
    ranks = [
        subprocess.Popen(
            [sys.executable, "-c", TWO_RANKS, str(job), finish],
            env={**env, "RANK": str(r), "LOCAL_RANK": str(r)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in range(2)
    ]
    try:
        ended = [p.communicate(timeout=120) for p in ranks]
    finally:
        for p in ranks:
            p.kill()
    expected = 0 if finish == "writes" else 1
    assert [p.returncode for p in ranks] == [expected, expected], [err[-1500:] for _, err in ended]
    if finish == "fails":
        assert "start-tui: the stage's manifest could not be written" in ended[0][1]
        assert "start-tui: another rank ended with status 1" in ended[1][1]


@pytest.mark.parametrize("adapter", ["none", "lora"])
def test_models_load_and_train_without_hub_kernels(adapter: str, tiny_dir: Path):
    """transformers 5.2x turns Hub kernels on at load: on an H200 without the Hub, the first training step
    stopped, fetching kernels-community/rotary (bench/gpu_paths.py). The trained model, the app's model
    and a converted GGUF keep the installed code."""
    from start_tui.backends.hf import TransformersBackend
    from training.sft import load_for_training

    model = load_for_training(replace(TINY, adapter=adapter), tiny_dir, use_cpu=True, bf16=False)
    inner = model.get_base_model() if adapter != "none" else model
    inner.train()
    assert inner.use_kernels is False
    backend = TransformersBackend(tiny_dir, device="cpu")
    assert backend.model.use_kernels is False
    backend.close()
