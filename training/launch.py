"""The command that runs `training.sft` in every rank: torchrun, the deepspeed launcher or accelerate.

`start-tui train sft` prints the command before running it, so the same line can go into a job
script (see `training/slurm/sft.sbatch`).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from start_tui.errors import StartTuiError
from training.config import LaunchConfig, SFTConfig
from training.sft import deepspeed_config


def write_job(cfg: SFTConfig, model_dir: Path, tokenized: Path, output_dir: Path, cpu: bool) -> Path:
    output_dir.mkdir(parents=True, exist_ok=True)
    job = output_dir / "job.json"
    payload = {
        "config": asdict(cfg),
        "model_dir": str(model_dir),
        "tokenized": str(tokenized),
        "output_dir": str(output_dir),
        "cpu": cpu,
    }
    job.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return job


def launch_command(launch: LaunchConfig, sft: SFTConfig, job: Path) -> list[str]:
    """The argv that starts every rank of the SFT job (the local process for launcher 'none')."""
    module = ["-m", "training.sft", "--job", str(job)]
    if launch.launcher == "none":
        return [sys.executable, *module]
    if launch.launcher == "torchrun":
        return [
            *(sys.executable, "-m", "torch.distributed.run"),
            *("--nproc_per_node", str(launch.nproc_per_node), "--nnodes", str(launch.nnodes)),
            *("--node_rank", str(launch.node_rank), "--master_addr", launch.master_addr),
            *("--master_port", str(launch.master_port)),
            *module,
        ]
    if launch.launcher == "deepspeed":
        cmd = [sys.executable, "-m", "deepspeed.launcher.runner", "--master_port", str(launch.master_port)]
        if launch.hostfile:
            cmd += ["--hostfile", launch.hostfile, "--master_addr", launch.master_addr]
        else:
            cmd += ["--num_gpus", str(launch.nproc_per_node)]
        return [*cmd, "--no_local_rank", "--module", "training.sft", "--job", str(job)]
    if launch.launcher == "accelerate":
        cmd = [sys.executable, "-m", "accelerate.commands.launch"]
        cmd += ["--num_processes", str(launch.nproc_per_node * launch.nnodes), "--num_machines", str(launch.nnodes)]
        cmd += ["--machine_rank", str(launch.node_rank), "--main_process_ip", launch.master_addr]
        cmd += ["--main_process_port", str(launch.master_port)]
        ds = deepspeed_config(sft.deepspeed)
        if ds:  # on CPU, DeepSpeed picks its CPU accelerator from DS_ACCELERATOR (accelerate refuses --cpu with it)
            cmd += ["--use_deepspeed", "--deepspeed_config_file", ds]
        elif launch.cpu:
            cmd += ["--cpu"]
        return [*cmd, *module]
    raise StartTuiError(f"There is no launcher {launch.launcher!r}; use none, torchrun, deepspeed or accelerate.")


def run_launch(cmd: list[str], cpu: bool, echo: bool = True, ranks_per_node: int = 1) -> None:
    """Run the launch line; on CPU, the cores of this machine are shared out among its ranks."""
    if echo:
        print("launch: " + shlex.join(cmd), file=sys.stderr, flush=True)
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if cpu:
        env.setdefault("DS_ACCELERATOR", "cpu")
        env.setdefault("CUDA_VISIBLE_DEVICES", "")
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // max(1, ranks_per_node))))
    proc = subprocess.run(cmd, env=env)
    if proc.returncode != 0:
        raise StartTuiError(f"The SFT launch failed (exit {proc.returncode}); its output is above.")
