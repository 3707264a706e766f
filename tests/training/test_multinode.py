"""SFT across two hosts for real: torchrun on two network-namespace nodes (gloo, ZeRO-3, c10d rendezvous).

The job and its launch line come from `start-tui train sft --print-only`, as a cluster user gets them;
the same line runs on each node; rank 0 writes the stage's manifest, and the pipeline then sees the
stage as done.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from start_tui.engine.trace import save_traces
from tests.training.conftest import sft_traces
from tests.training.hosts import cannot_make_hosts, two_hosts
from tests.training.test_sft import TINY
from training.config import Recipe
from training.stages import stage_dir, stage_sft, stage_state

pytest.importorskip("deepspeed")


def traces_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "d_seed.jsonl"
    save_traces(out, sft_traces())
    return out


def two_node_recipe(tmp_path: Path, tiny_dir: Path) -> Recipe:
    recipe = Recipe(name="two-nodes", workdir=str(tmp_path / "work"))
    recipe.sft = replace(TINY, base_model=str(tiny_dir), deepspeed="zero3", save_steps=100, max_steps=3)
    launch = recipe.launch
    launch.launcher, launch.nnodes, launch.nproc_per_node, launch.cpu = "torchrun", 2, 1, True
    launch.master_addr, launch.master_port = "node0", 29611
    return recipe


def test_the_printed_line_runs_sft_across_two_hosts_and_rank_0_marks_the_stage_done(tiny_dir: Path, tmp_path: Path):
    why = cannot_make_hosts()
    if why:
        pytest.skip(f"two namespace hosts cannot be made here: {why}")
    import torch
    from transformers import AutoModelForCausalLM

    recipe = two_node_recipe(tmp_path, tiny_dir)
    data = traces_file(stage_dir(recipe, "hint-rft"))  # where the pipeline hands SFT its data
    console = Console(file=open(os.devnull, "w"), width=400)  # noqa: SIM115 (closed with the test process)
    stage_sft(recipe, console, data, print_only=True)
    job = stage_dir(recipe, "sft") / "model" / "job.json"
    assert json.loads(job.read_text())["stage"]["name"] == "sft"
    assert stage_state(recipe, "sft")[0] == "not run"  # written, not run

    from training.launch import launch_command, launch_env

    line = launch_command(recipe.launch, recipe.sft, job)
    assert "--rdzv_endpoint" in line and "node0:29611" in line and "--node_rank" not in line
    env = launch_env(cpu=True, ranks_per_node=2)  # two hosts, one machine: its cores shared by both ranks
    with two_hosts() as hosts:
        before = [h.link_bytes() for h in hosts]
        procs = [
            subprocess.Popen(
                h.command(line),
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            for h in hosts
        ]
        outputs = []
        try:
            for p in procs:
                outputs.append(p.communicate(timeout=600)[0])
        finally:
            for p in procs:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        after = [h.link_bytes() for h in hosts]
    for p, out in zip(procs, outputs, strict=True):
        assert p.returncode == 0, out[-4000:]

    folder = stage_dir(recipe, "sft")
    figures = json.loads((folder / "model" / "sft_figures.json").read_text())
    assert figures["world_size"] == 2 and figures["steps"] == 3  # one process per host, both in one world
    assert 0.4 <= figures["zero3_local_fraction"] <= 0.6  # each host held half of the parameters
    trained = AutoModelForCausalLM.from_pretrained(folder / "model")
    base = AutoModelForCausalLM.from_pretrained(tiny_dir)
    moved = [not torch.equal(a, b) for a, b in zip(trained.parameters(), base.parameters(), strict=True)]
    assert any(moved)
    # the second host's half of the weights reached the first through the veth pair, the only link
    half_weights = sum(p.numel() for p in base.parameters()) * 4 // 2
    sent = after[1]["tx"] - before[1]["tx"]
    assert sent > half_weights, (sent, half_weights)
    assert after[0]["rx"] - before[0]["rx"] >= sent * 0.9

    manifest = json.loads((folder / "manifest.json").read_text())  # written by rank 0 on node0
    assert manifest["complete"] and manifest["counts"]["world_size"] == 2 and manifest["counts"]["steps"] == 3
    assert stage_state(recipe, "sft") == ("done", "")
