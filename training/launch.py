"""The command that runs `training.sft` in every rank: torchrun, the deepspeed launcher or accelerate.

One machine starts its own ranks. Many nodes run torchrun with a c10d rendezvous: inside a Slurm
allocation `node_command` wraps it in `srun` (one torchrun per node, the rendezvous on the first node);
elsewhere the same line runs on every node by hand (`start-tui train sft --print-only` prints it), and
anything else is refused with that route. `start-tui train` prints the command before running it.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from start_tui.errors import StartTuiError
from training.config import LaunchConfig, Recipe, SFTConfig
from training.sft import deepspeed_config


def write_job(
    cfg: SFTConfig,
    model_dir: Path,
    tokenized: Path,
    output_dir: Path,
    cpu: bool,
    stage: dict[str, object] | None = None,
) -> Path:
    """The job every rank reads. `stage`: what rank 0 needs to write the stage's manifest when the
    training ends ({name, recipe, data, counts, started}), so that however the job was started
    (here, by srun on many nodes, by hand on each node) the pipeline then sees the stage as done."""
    output_dir = output_dir.resolve()  # absolute: a node may start the job from another folder
    output_dir.mkdir(parents=True, exist_ok=True)
    job = output_dir / "job.json"
    payload = {
        "config": asdict(cfg),
        "model_dir": str(Path(model_dir).resolve()),
        "tokenized": str(Path(tokenized).resolve()),
        "output_dir": str(output_dir),
        "cpu": cpu,
        "stage": stage,
    }
    job.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return job


def launch_command(
    launch: LaunchConfig, sft: SFTConfig, job: Path, rdzv_host: str | None = None, rdzv_id: str | None = None
) -> list[str]:
    """The argv that starts this node's ranks of the SFT job (the local process for launcher 'none').

    torchrun on more than one node (or given `rdzv_host`) joins a c10d rendezvous at
    `rdzv_host or master_addr` : `master_port`: the same line on every node, node ranks assigned there.
    """
    module = ["-m", "training.sft", "--job", str(job)]
    if launch.launcher == "none":
        return [sys.executable, *module]
    if launch.launcher == "torchrun" and (launch.nnodes > 1 or rdzv_host):
        return [
            *(sys.executable, "-m", "torch.distributed.run"),
            *("--nproc_per_node", str(launch.nproc_per_node), "--nnodes", str(launch.nnodes)),
            *("--rdzv_backend", "c10d", "--rdzv_endpoint", f"{rdzv_host or launch.master_addr}:{launch.master_port}"),
            *("--rdzv_id", rdzv_id or launch.rdzv_id),
            *module,
        ]
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


def in_slurm_job() -> bool:
    """Inside the batch script of a Slurm allocation (not inside one of its steps)."""
    return "SLURM_JOB_ID" in os.environ and "SLURM_STEP_ID" not in os.environ


def batch_host() -> str:
    """The host the batch script runs on, the allocation's first node: where the rendezvous is hosted."""
    here = os.environ.get("SLURMD_NODENAME")
    if here:
        return here
    try:
        names = subprocess.run(
            ["scontrol", "show", "hostnames", os.environ.get("SLURM_JOB_NODELIST", "")],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.split()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        names = []
    return names[0] if names else socket.gethostname()


def check_slurm_launch(launch: LaunchConfig) -> None:
    """Under Slurm, SFT on many nodes runs through torchrun (srun starts one per node)."""
    if launch.nnodes > 1 and launch.launcher != "torchrun":
        raise StartTuiError(
            f'Under Slurm, SFT on {launch.nnodes} nodes runs through torchrun: set launcher = "torchrun" '
            "in [launch] (srun starts one torchrun per node)."
        )


def check_launch(recipe: Recipe) -> None:
    """Refuse, in one sentence with the route to take, a launch this process cannot start on every node."""
    launch = recipe.launch
    if launch.nnodes == 1 or launch.launcher == "none":
        return
    if in_slurm_job():
        check_slurm_launch(launch)
        have = int(os.environ.get("SLURM_JOB_NUM_NODES") or os.environ.get("SLURM_NNODES") or 1)
        if have < launch.nnodes:
            raise StartTuiError(
                f"[launch] asks for {launch.nnodes} nodes and this Slurm allocation has {have}; submit the job "
                f"with --nodes={launch.nnodes} (start-tui train pipeline --print-only writes it so)."
            )
        return
    if launch.launcher == "deepspeed" and launch.hostfile:
        return  # the deepspeed runner reaches the hostfile's nodes itself (pdsh or ssh)
    if launch.launcher == "torchrun":
        raise StartTuiError(
            f"[launch] asks for {launch.nnodes} nodes and this command starts the ranks of this machine only: "
            "submit the Slurm jobs that `start-tui train pipeline --recipe R --print-only` writes, or run the line "
            "that `start-tui train sft --recipe R --print-only` prints on every node."
        )
    raise StartTuiError(
        f"[launch] asks for {launch.nnodes} nodes, which the {launch.launcher} launcher cannot start from one "
        'machine: use launcher = "torchrun" (the same line on every node, or Slurm jobs from start-tui train '
        "pipeline --print-only), or the deepspeed launcher with a hostfile."
    )


LOOPBACK = ("127.", "localhost", "::1")


def check_by_hand(launch: LaunchConfig) -> None:
    """The printed line runs on every node: the rendezvous address must name node 0 for all of them."""
    if launch.nnodes > 1 and launch.launcher == "torchrun" and launch.master_addr.startswith(LOOPBACK):
        raise StartTuiError(
            f"master_addr in [launch] is {launch.master_addr}, which every node takes for itself; set it to "
            "the address of the node that hosts the rendezvous."
        )


def node_command(recipe: Recipe, sft: SFTConfig, job: Path) -> list[str]:
    """What this process runs to start the SFT job: on many nodes under Slurm, srun starts a torchrun on
    each node of the allocation, joined by a c10d rendezvous on the batch host."""
    launch = recipe.launch
    if launch.launcher == "torchrun" and in_slurm_job():
        nodes = launch.nnodes
        inner = launch_command(launch, sft, job, rdzv_host=batch_host(), rdzv_id=os.environ["SLURM_JOB_ID"])
        step = ["srun", f"--nodes={nodes}", f"--ntasks={nodes}", "--ntasks-per-node=1", "--kill-on-bad-exit=1"]
        if os.environ.get("SLURM_CPUS_PER_TASK"):  # srun does not take the job's CPUs per task itself (22.05 on)
            step.append(f"--cpus-per-task={os.environ['SLURM_CPUS_PER_TASK']}")
        return [*step, *inner]
    return launch_command(launch, sft, job)


def launch_env(cpu: bool, ranks_per_node: int = 1) -> dict[str, str]:
    """The environment of a launch: this checkout importable; on CPU, the cores shared out among the ranks."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if cpu:
        env.setdefault("DS_ACCELERATOR", "cpu")
        env.setdefault("CUDA_VISIBLE_DEVICES", "")
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // max(1, ranks_per_node))))
    return env


def run_launch(cmd: list[str], cpu: bool, echo: bool = True, ranks_per_node: int = 1) -> None:
    """Run the launch line; on CPU, the cores of this machine are shared out among its ranks."""
    if echo:
        print("launch: " + shlex.join(cmd), file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, env=launch_env(cpu, ranks_per_node))
    if proc.returncode != 0:
        raise StartTuiError(f"The SFT launch failed (exit {proc.returncode}); its output is above.")
