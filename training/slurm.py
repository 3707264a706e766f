"""Slurm job scripts for every stage of a recipe, chained: `start-tui train pipeline --print-only`.

Each job runs one stage with the pipeline's own rules (`start-tui train pipeline --stage STAGE`:
refused until the stages before it are done, a stale stage run again), on the nodes that stage needs:
generation (hint-infer, rft) on one node, starting its model server from `serve_command` when the
recipe names one; Hint-RFT on one node without GPUs; SFT on `[launch] nnodes` nodes, where
`start-tui train sft` starts one torchrun per node through `srun` (a c10d rendezvous on the batch host).
Every stage writes its manifest, so the pipeline, `train status` and the next job see it as done.
`submit.sh` submits the jobs in order, each after the one before it ended well (`afterok`).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from training.config import Recipe, stage_kind, stages_of

GENERATION = frozenset({"hint-infer", "rft"})
TRAINING = frozenset({"sft", "sft-start"})


def job_header(recipe: Recipe, stage: str, logs: Path) -> list[str]:
    """The #SBATCH lines of one stage's job."""
    s, launch = recipe.slurm, recipe.launch
    options = [f"--job-name={recipe.name}-{stage}", f"--output={logs / '%x-%j.log'}", f"--time={s.time}"]
    kind = stage_kind(stage)  # a further RFT round's stages run as round 1's
    nodes = launch.nnodes if kind in TRAINING else 1
    options += [f"--nodes={nodes}", "--ntasks-per-node=1"]
    gpus = 0
    if kind in TRAINING and not launch.cpu and launch.launcher != "none":
        gpus = launch.nproc_per_node
    elif kind in TRAINING and not launch.cpu:
        gpus = 1
    elif kind in GENERATION:
        gpus = s.generate_gpus
    if gpus:
        options.append(f"--gpus-per-node={gpus}")
    for key, value in (("partition", s.partition), ("account", s.account), ("cpus-per-task", s.cpus_per_task)):
        if value is not None:
            options.append(f"--{key}={value}")
    if s.mem is not None:
        options.append(f"--mem={s.mem}")
    options += s.sbatch
    return [f"#SBATCH {o}" for o in options]


def render_job(recipe: Recipe, recipe_path: Path, stage: str, logs: Path, cwd: Path | None = None) -> str:
    """One stage's job script: the header, the recipe's setup lines, then the stage itself."""
    cwd = cwd or Path.cwd()
    command = [
        recipe.slurm.python or sys.executable,
        "-m",
        "start_tui",
        "train",
        "pipeline",
        "--recipe",
        str(recipe_path.resolve()),
    ]
    lines = [
        "#!/bin/bash",
        f"# start-tui train: stage {stage} of recipe {recipe.name!r} (from start-tui train pipeline --print-only)",
        *job_header(recipe, stage, logs),
        "set -euo pipefail",
        "unset SLURM_STEP_ID SLURM_STEPID  # a step of the submitting shell, passed on by sbatch's --export=ALL",
        f"cd {shlex.quote(str(cwd))}",
        *recipe.slurm.setup,
        "export PYTHONUNBUFFERED=1",
        f"exec {shlex.join([*command, '--stage', stage])}",
    ]
    return "\n".join(lines) + "\n"


def write_jobs(recipe: Recipe, recipe_path: Path, stages: list[str] | None = None) -> Path:
    """Write `workdir/slurm/STAGE.sbatch` for each stage and `submit.sh`; return the submit script."""
    from training.launch import check_slurm_launch

    check_slurm_launch(recipe.launch)  # now, not in the SFT job after hours of sampling
    folder = (Path(recipe.workdir) / "slurm").resolve()
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    chosen = list(stages or stages_of(recipe))
    for stage in chosen:
        script = folder / f"{stage}.sbatch"
        script.write_text(render_job(recipe, recipe_path, stage, logs), encoding="utf-8")
        script.chmod(0o755)
    submit = folder / "submit.sh"
    body = [
        "#!/bin/bash",
        f"# Submit the stages of recipe {recipe.name!r} in order: each job starts after the one before it succeeded.",
        "set -euo pipefail",
        'cd "$(dirname "$0")"',
        'after=""',
        f"for stage in {' '.join(chosen)}; do",
        '  id=$(sbatch --parsable --kill-on-invalid-dep=yes ${after:+--dependency=afterok:$after} "$stage.sbatch")',
        "  id=${id%%;*}",
        '  echo "$stage: job $id"',
        "  after=$id",
        "done",
    ]
    submit.write_text("\n".join(body) + "\n", encoding="utf-8")
    submit.chmod(0o755)
    return submit
