"""The rendered Slurm jobs on a real Slurm: a one-node cluster on loopback runs the whole pipeline.

`start-tui train pipeline --print-only` writes a job per stage and submit.sh; submit.sh submits them
chained with afterok; each job runs its stage (SFT through srun and torchrun's c10d rendezvous) and
writes its manifest; afterwards `train status` and the pipeline itself see every stage as done.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.training.slurm_cluster import cannot_run_slurm, one_node_cluster
from training.config import STAGES

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "training" / "recipes" / "smoke-problems.jsonl"

pytest.importorskip("transformers")


def tiny_recipe(tmp_path: Path, tiny_dir: Path) -> Path:
    """The whole loop on the tiny random model, fast: its traces are kept whatever they say."""
    recipe = tmp_path / "slurm-smoke.toml"
    recipe.write_text(
        f'''name = "slurm-smoke"
workdir = "{tmp_path / "work"}"

[data]
problems = ["{SMOKE}"]
limit = 2

[generate]
backend = "hf"
model = "{tiny_dir}"
profile = "gemma3-base"  # a random model of no family: the recipe names how to prompt it
max_tokens = 12
rounds = 1

[filter]
require_correct = false
require_greedy_wrong = false
require_tool_call = false
max_repetition = 1.0

[sft]
base_model = "{tiny_dir}"
learning_rate = 1e-3
global_batch = 1
max_length = 2048
max_steps = 1
gradient_checkpointing = false
deepspeed = "none"

[launch]
launcher = "torchrun"
nproc_per_node = 1
master_port = 29633
cpu = true

[rft]
samples = 2
backend = "hf"
max_tokens = 12
''',
        encoding="utf-8",
    )
    return recipe


def test_the_jobs_of_every_stage_run_on_a_real_slurm_and_leave_the_pipeline_done(tiny_dir: Path, tmp_path: Path):
    why = cannot_run_slurm()
    if why:
        pytest.skip(f"a Slurm cluster cannot be started here: {why}")
    recipe = tiny_recipe(tmp_path, tiny_dir)
    train = [sys.executable, "-m", "start_tui", "train"]
    written = subprocess.run(
        [*train, "pipeline", "--recipe", str(recipe), "--print-only"], capture_output=True, text=True, cwd=tmp_path
    )
    assert written.returncode == 0, written.stderr
    folder = tmp_path / "work" / "slurm"
    with one_node_cluster(tmp_path / "cluster") as cluster:
        submitted = subprocess.run(
            [str(folder / "submit.sh")], capture_output=True, text=True, env=cluster.env(), timeout=120
        )
        assert submitted.returncode == 0, submitted.stderr + cluster.logs()
        jobs = dict(line.split(": job ") for line in submitted.stdout.splitlines())
        assert list(jobs) == list(STAGES)
        dependency = cluster.run("scontrol", "show", "job", jobs["sft"]).stdout
        assert f"Dependency=afterok:{jobs['hint-rft']}" in dependency or "JobState=COMPLETED" in dependency
        states = cluster.wait(list(jobs.values()), timeout=1200)
        logs = {stage: next(folder.glob(f"logs/slurm-smoke-{stage}-{job}.log"), None) for stage, job in jobs.items()}
        texts = {stage: path.read_text(errors="replace") if path else "" for stage, path in logs.items()}
        failed = [stage for stage, job in jobs.items() if states.get(job) != "COMPLETED"]
        assert not failed, (states, {s: texts[s][-3000:] for s in failed}, cluster.logs())

    work = tmp_path / "work"
    for stage in STAGES:
        manifest = json.loads((work / stage / "manifest.json").read_text())
        assert manifest["complete"] and manifest["stage"] == stage
    # SFT ran as a Slurm step: srun started torchrun, which joined the c10d rendezvous at the batch host
    assert "launch: srun --nodes=1 --ntasks=1" in texts["sft"] and f"--rdzv_id {jobs['sft']}" in texts["sft"]
    assert json.loads((work / "sft" / "manifest.json").read_text())["counts"]["world_size"] == 1
    status = subprocess.run([*train, "status", "--recipe", str(recipe)], capture_output=True, text=True)
    assert status.returncode == 0 and [line.split()[1] for line in status.stdout.splitlines()] == ["done"] * 5
    again = subprocess.run(
        [*train, "pipeline", "--recipe", str(recipe)], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert again.returncode == 0 and again.stderr.count("done already") == 5, again.stderr
