"""Many nodes: launched correctly (srun under Slurm, the printed line by hand) or refused with the route;
a Slurm job for every stage, each running that stage under the pipeline's rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from start_tui.errors import StartTuiError
from training.config import STAGES, Recipe, load_recipe
from training.launch import check_launch, node_command
from training.slurm import write_jobs
from training.stages import run_pipeline, stage_dir, write_manifest

SHIPPED = Path(__file__).resolve().parents[2] / "training" / "recipes"
SLURM_ENV = ("SLURM_JOB_ID", "SLURM_STEP_ID", "SLURM_JOB_NODELIST", "SLURM_JOB_NUM_NODES", "SLURMD_NODENAME")


@pytest.fixture
def outside_slurm(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SLURM_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def slurm_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment of a job's batch script on the first of four nodes (scontrol absent: its own name)."""
    monkeypatch.delenv("SLURM_STEP_ID", raising=False)
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv("SLURM_JOB_NODELIST", "gpu[07-10]")
    monkeypatch.setenv("SLURM_JOB_NUM_NODES", "4")
    monkeypatch.setenv("SLURMD_NODENAME", "gpu07")
    monkeypatch.setenv("PATH", "/nonexistent")


def four_nodes(launcher: str = "torchrun") -> Recipe:
    recipe = Recipe(name="big")
    recipe.launch.launcher, recipe.launch.nnodes, recipe.launch.nproc_per_node = launcher, 4, 8
    return recipe


def test_many_nodes_outside_slurm_are_refused_with_the_routes(outside_slurm: None):
    with pytest.raises(StartTuiError) as refused:
        check_launch(four_nodes())
    text = str(refused.value)
    assert "4 nodes" in text and "pipeline --recipe R --print-only" in text and "sft --recipe R --print-only" in text
    assert text.count(".") <= 2 and "\n" not in text  # one sentence
    for launcher in ("accelerate", "torchrun"):
        with pytest.raises(StartTuiError):
            check_launch(four_nodes(launcher))
    with_hosts = four_nodes("deepspeed")
    with_hosts.launch.hostfile = "hosts"
    check_launch(with_hosts)  # the deepspeed runner reaches a hostfile's nodes itself
    check_launch(Recipe())  # one node: nothing to refuse


def test_under_slurm_srun_starts_one_torchrun_per_node_joined_at_the_batch_host(
    slurm_batch: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    recipe = four_nodes()
    check_launch(recipe)
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "64")
    cmd = node_command(recipe, recipe.sft, tmp_path / "job.json")
    assert cmd[:5] == ["srun", "--nodes=4", "--ntasks=4", "--ntasks-per-node=1", "--kill-on-bad-exit=1"]
    assert cmd[5] == "--cpus-per-task=64"  # the step gets the job's CPUs (srun does not pass them on itself)
    inner = cmd[6:]
    assert inner[1:3] == ["-m", "torch.distributed.run"]
    assert inner[inner.index("--rdzv_endpoint") + 1] == f"gpu07:{recipe.launch.master_port}"
    assert inner[inner.index("--rdzv_id") + 1] == "4242" and inner[inner.index("--nnodes") + 1] == "4"


def test_under_slurm_too_few_nodes_or_another_launcher_is_one_sentence(
    slurm_batch: None, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SLURM_JOB_NUM_NODES", "2")
    with pytest.raises(StartTuiError, match=r"asks for 4 nodes and this Slurm allocation has 2; .*--nodes=4"):
        check_launch(four_nodes())
    monkeypatch.setenv("SLURM_JOB_NUM_NODES", "4")
    with pytest.raises(StartTuiError, match='launcher = "torchrun"'):
        check_launch(four_nodes("accelerate"))


def test_the_pipeline_refuses_many_nodes_before_any_sampling(outside_slurm: None, tmp_path: Path):
    recipe = four_nodes()
    recipe.workdir = str(tmp_path / "w")
    recipe.data.problems = ["no-such-file.jsonl"]  # would fail at once if sampling started
    with pytest.raises(StartTuiError, match="4 nodes"):
        run_pipeline(recipe, Console(quiet=True))
    assert not (tmp_path / "w" / "hint-infer").exists()


def test_one_stage_alone_waits_for_the_stages_before_it(tmp_path: Path):
    recipe = Recipe(workdir=str(tmp_path / "w"))
    with pytest.raises(StartTuiError, match="hint-rft runs after hint-infer, which is not run; run hint-infer first"):
        run_pipeline(recipe, Console(quiet=True), only="hint-rft")


def test_print_only_writes_a_job_for_every_stage_with_the_nodes_it_needs(tmp_path: Path):
    recipe = load_recipe(SHIPPED / "gpu-zero3.toml")
    recipe.workdir = str(tmp_path / "qwq")
    recipe.slurm.partition, recipe.slurm.setup = "gpu", ["module load cuda/12.4", "source ~/venv/bin/activate"]
    recipe.slurm.sbatch = ["--exclusive"]
    recipe.rft.iterations = 3  # further RFT rounds: their stages get what round 1's get
    submit = write_jobs(recipe, SHIPPED / "gpu-zero3.toml")
    folder = submit.parent
    order = [*STAGES, "rft-2", "sft-start-2", "rft-3", "sft-start-3"]
    assert sorted(p.name for p in folder.glob("*.sbatch")) == sorted(f"{s}.sbatch" for s in order)
    for stage in order:
        script = (folder / f"{stage}.sbatch").read_text()
        assert subprocess.run(["bash", "-n", str(folder / f"{stage}.sbatch")]).returncode == 0
        header = [line.removeprefix("#SBATCH ") for line in script.splitlines() if line.startswith("#SBATCH")]
        assert f"--job-name=qwq-start-{stage}" in header and "--partition=gpu" in header and "--exclusive" in header
        nodes = "--nodes=4" if stage.startswith("sft") else "--nodes=1"
        assert nodes in header, (stage, header)
        gpus = [o for o in header if o.startswith("--gpus-per-node")]
        # SFT: the recipe's 8 GPUs per node; generation: generate_gpus (8) for its vLLM; hint-rft: none
        assert gpus == ([] if stage == "hint-rft" else ["--gpus-per-node=8"]), (stage, header)
        assert "unset SLURM_STEP_ID" in script  # a step's id carried over from the submitting shell is not ours
        assert "module load cuda/12.4" in script
        last = script.strip().splitlines()[-1]
        assert last.startswith(f"exec {sys.executable} -m start_tui train pipeline --recipe ")
        assert last.endswith(f"--stage {stage}")
    assert "--gpus-per-node" not in (folder / "hint-rft.sbatch").read_text()
    text = submit.read_text()
    assert "--dependency=afterok:$after" in text and " ".join(order) in text
    assert "--kill-on-invalid-dep=yes" in text  # a failed stage ends the jobs after it instead of leaving them
    assert subprocess.run(["bash", "-n", str(submit)]).returncode == 0


def test_the_pipeline_command_prints_the_jobs(tmp_path: Path):
    recipe = tmp_path / "r.toml"
    recipe.write_text(
        (SHIPPED / "gpu-zero3.toml").read_text().replace('workdir = "runs/qwq-start"', f'workdir = "{tmp_path}/w"')
    )
    cmd = [sys.executable, "-m", "start_tui", "train", "pipeline", "--recipe", str(recipe), "--print-only"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(tmp_path / "w" / "slurm" / f"{s}.sbatch") for s in STAGES]
    assert "submit them in order with: " in out.stderr


def test_a_stage_whose_earlier_stages_are_done_runs_alone(tmp_path: Path):
    import time

    recipe = Recipe(workdir=str(tmp_path / "w"))
    for stage in ("hint-infer",):
        folder = stage_dir(recipe, stage)
        folder.mkdir(parents=True)
        write_manifest(folder, stage, recipe, [], {}, time.monotonic())
    # hint-infer is done, so hint-rft may run; with no runs file it says what is missing
    with pytest.raises(StartTuiError, match=r"runs\.jsonl does not exist"):
        run_pipeline(recipe, Console(quiet=True), only="hint-rft")


def test_jobs_for_many_nodes_with_another_launcher_are_refused_when_written(tmp_path: Path):
    recipe = four_nodes("accelerate")
    recipe.workdir = str(tmp_path / "w")
    with pytest.raises(StartTuiError, match='runs through torchrun: set launcher = "torchrun"'):
        write_jobs(recipe, SHIPPED / "gpu-zero3.toml")
    assert not (tmp_path / "w" / "slurm").exists()


def test_the_line_for_every_node_needs_an_address_they_all_reach(outside_slurm: None):
    from training.launch import check_by_hand

    for loopback in ("127.0.0.1", "localhost", "::1"):
        recipe = four_nodes()
        recipe.launch.master_addr = loopback
        with pytest.raises(StartTuiError, match=f"master_addr in \\[launch\\] is {loopback}, which every node"):
            check_by_hand(recipe.launch)
    recipe = four_nodes()
    recipe.launch.master_addr = "gpu07"
    check_by_hand(recipe.launch)


def test_other_launchers_get_their_own_route(outside_slurm: None):
    with pytest.raises(StartTuiError, match="accelerate launcher cannot start from one machine"):
        check_launch(four_nodes("accelerate"))
    with pytest.raises(StartTuiError, match="deepspeed launcher with a hostfile"):
        check_launch(four_nodes("deepspeed"))
