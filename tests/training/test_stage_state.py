"""A complete stage is reused only while its recipe tables and inputs are the ones it was made from."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from rich.console import Console

from start_tui.engine.events import Span
from start_tui.engine.trace import Trace
from start_tui.errors import StartTuiError
from training.cli import print_status
from training.config import STAGES, Recipe
from training.stages import (
    mark_started,
    run_pipeline,
    stage_dir,
    stage_hint_rft,
    stage_settings,
    stage_state,
    write_manifest,
)


def _runs_row(pid: str, mode: str, right: bool) -> dict:
    spans = [Span("prompt", "Problem: p\nSolution:"), Span("model", f"reasoning about {pid} with care")]
    spans += [Span("code", "print(1)\n"), Span("output", "\n```output\n1\n```\n"), Span("model", "Final answer: 1")]
    trace = Trace(id=pid, problem="p", spans=spans).to_json()
    return {"benchmark": "b", "id": pid, "mode": mode, "sample": 0, "correct": right, "trace": trace}


@pytest.fixture
def recipe(tmp_path: Path) -> Recipe:
    """A recipe whose hint-infer stage is done (its runs on disk, its manifest written)."""
    r = Recipe(workdir=str(tmp_path / "w"))
    folder = stage_dir(r, "hint-infer")
    folder.mkdir(parents=True)
    rows = [_runs_row(pid, mode, mode == "hint") for pid in ("a", "b") for mode in ("hint", "greedy")]
    (folder / "runs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    write_manifest(folder, "hint-infer", r, [], {}, time.monotonic())
    return r


def _states(recipe: Recipe) -> list[str]:
    return [stage_state(recipe, stage)[0] for stage in STAGES]


def test_a_changed_recipe_or_input_runs_the_stage_again_and_later_stages_follow(recipe: Recipe, capsys):
    console = Console(quiet=True)
    run_pipeline(recipe, console, until="hint-rft")
    d_seed = stage_dir(recipe, "hint-rft") / "d_seed.jsonl"
    sft = stage_dir(recipe, "sft")
    sft.mkdir()
    write_manifest(sft, "sft", recipe, [d_seed], {}, time.monotonic())  # as a finished SFT leaves it
    assert _states(recipe) == ["done", "done", "done", "not run", "not run"]

    manifest = (stage_dir(recipe, "hint-rft") / "manifest.json").read_text()
    run_pipeline(recipe, console, until="hint-rft")  # nothing changed: nothing runs
    assert (stage_dir(recipe, "hint-rft") / "manifest.json").read_text() == manifest

    recipe.launch.nproc_per_node = 8  # more GPUs make the same model
    assert _states(recipe)[:3] == ["done", "done", "done"]

    recipe.filter.max_repetition = 0.5
    assert stage_state(recipe, "hint-rft") == ("stale", "the recipe changed (filter.max_repetition)")
    print_status(recipe)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:2] == ["hint-rft", "stale"]
    assert lines[2].split()[:2] == ["sft", "stale"] and "hint-rft before it will run again" in lines[2]
    run_pipeline(recipe, console, until="hint-rft")
    [aside] = stage_dir(recipe, "hint-rft").parent.glob("hint-rft.stale-*")
    assert (aside / "d_seed.jsonl").is_file()  # what it made before is kept, whole
    assert stage_state(recipe, "hint-rft") == ("done", "")
    # the SFT made from the replaced D_seed went aside too (it runs again next time)
    assert stage_state(recipe, "sft") == ("not run", "") and list(sft.parent.glob("sft.stale-*/manifest.json"))
    # a stage run by hand (`start-tui train hint-rft`) makes the later ones stale through its manifest
    sft.mkdir()
    write_manifest(sft, "sft", recipe, [d_seed], {}, time.monotonic())
    recipe.filter.max_repetition = 0.4
    stage_hint_rft(recipe, console)
    state, why = stage_state(recipe, "sft")
    assert state == "stale" and why == f"its input {stage_dir(recipe, 'hint-rft') / 'manifest.json'} changed"

    runs = stage_dir(recipe, "hint-infer") / "runs.jsonl"
    runs.write_text(runs.read_text() + json.dumps(_runs_row("c", "hint", True)) + "\n")
    assert stage_state(recipe, "hint-rft") == ("stale", f"its input {runs} changed")
    runs.unlink()
    assert stage_state(recipe, "hint-rft") == ("stale", f"its input {runs} is gone")


def test_what_does_not_change_the_outputs_does_not_make_a_stage_stale(recipe: Recipe):
    run_pipeline(recipe, Console(quiet=True), until="hint-rft")
    recipe.generate.concurrency = 32  # how it runs, not what it makes
    recipe.generate.base_urls = ["http://gpu01:8000/v1"]
    recipe.sft.save_steps, recipe.sft.report_to = 0.05, ["tensorboard"]
    assert _states(recipe)[:2] == ["done", "done"]
    # a manifest from before a field existed: the field at its default is no change, set otherwise it is
    path = stage_dir(recipe, "hint-rft") / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["settings"]["filter"]["drop_timeouts"]
    manifest["settings"]["filter"]["a_field_since_removed"] = 1
    path.write_text(json.dumps(manifest))
    assert stage_state(recipe, "hint-rft") == ("done", "")
    recipe.filter.drop_timeouts = False
    assert stage_state(recipe, "hint-rft") == ("stale", "the recipe changed (filter.drop_timeouts)")


def test_a_problem_file_is_the_same_however_the_recipe_names_it(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("p.jsonl").write_text("")
    relative, absolute = Recipe(), Recipe()
    relative.data.problems, absolute.data.problems = ["p.jsonl"], [str(tmp_path / "p.jsonl")]
    assert stage_settings(relative, "hint-infer") == stage_settings(absolute, "hint-infer")


def test_a_stage_given_other_data_by_hand_is_not_taken_for_the_pipelines(recipe: Recipe, tmp_path: Path):
    run_pipeline(recipe, Console(quiet=True), until="hint-rft")
    sft = stage_dir(recipe, "sft")
    sft.mkdir()
    other = tmp_path / "other.jsonl"
    other.write_text("")
    write_manifest(sft, "sft", recipe, [other], {}, time.monotonic(), origin={"data": str(other)})  # train sft --data
    state, why = stage_state(recipe, "sft")
    assert state == "stale" and why.startswith("the recipe changed (from.data)")


def test_an_unfinished_stage_is_resumed_only_with_its_settings_and_not_after_an_earlier_stage_ran(recipe: Recipe):
    console = Console(quiet=True)
    run_pipeline(recipe, console, until="hint-rft")
    # an SFT that was started and cut off: its folder holds a checkpoint of the old D_seed
    sft = stage_dir(recipe, "sft")
    mark_started(recipe, "sft")
    (sft / "model" / "checkpoint-3").mkdir(parents=True)
    assert stage_state(recipe, "sft") == (
        "not run", "started: a checkpoint at step 3; running it again resumes from it"
    )  # resumable as it is  # fmt: skip
    recipe.sft.learning_rate = 1e-5
    assert stage_state(recipe, "sft") == ("stale", "it was started with other settings (sft.learning_rate)")
    recipe.sft.learning_rate = Recipe().sft.learning_rate
    recipe.filter.max_repetition = 0.5  # hint-rft runs again, so the cut-off SFT's checkpoint is of no use
    run_pipeline(recipe, console, until="hint-rft")
    assert not sft.exists() and list(sft.parent.glob("sft.stale-*/model/checkpoint-3"))


def test_further_rft_rounds_run_while_the_held_out_pass_at_1_rises(recipe: Recipe, tmp_path: Path, monkeypatch, capsys):
    """Round N samples with round N-1's model and runs only if round N-1 beat the model before it; the
    figures, why the loop stopped and the best model go to held_out.json (SFT and sampling stubbed)."""
    import training.launch
    import training.stages as stages
    from training.config import stages_of

    recipe.rft.iterations = 4
    recipe.sft.engine_eval = ["held-out.jsonl"]
    pass_at_1 = {"sft": 0.1, "sft-start": 0.2, "sft-start-2": 0.3, "sft-start-3": 0.3, "sft-start-4": 0.9}
    ran: list[tuple[str, str]] = []

    def fake_sft(recipe: Recipe, console: Console, data: Path, stage: str = "sft", **kw: object) -> Path:
        folder = stage_dir(recipe, stage)
        (folder / "model").mkdir(parents=True, exist_ok=True)
        record = {"step": 3, "pass_at_1": pass_at_1[stage], "tool_use": 0.5, "problems": 10}
        (folder / "model" / "sft_figures.json").write_text(json.dumps({"engine_eval": [record]}))
        write_manifest(folder, stage, recipe, [data], {}, time.monotonic(), origin={"data": str(data)})
        ran.append((stage, str(data)))
        return folder / "model"

    def fake_rft(recipe: Recipe, console: Console, model: Path, stage: str = "rft") -> Path:
        folder = stage_dir(recipe, stage)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "d_start.jsonl").write_text("{}\n")
        write_manifest(folder, stage, recipe, [], {}, time.monotonic(), origin={"model": str(model)})
        ran.append((stage, str(model)))
        return folder / "d_start.jsonl"

    monkeypatch.setattr(stages, "stage_sft", fake_sft)
    monkeypatch.setattr(stages, "stage_rft", fake_rft)
    monkeypatch.setattr(training.launch, "check_launch", lambda recipe: None)
    assert stages_of(recipe)[5:] == ("rft-2", "sft-start-2", "rft-3", "sft-start-3", "rft-4", "sft-start-4")
    console = Console(file=(log := io.StringIO()), width=200)
    run_pipeline(recipe, console)
    w = stage_dir(recipe, "x").parent
    assert ran == [
        ("sft", str(w / "hint-rft" / "d_seed.jsonl")),
        ("rft", str(w / "sft" / "model")),
        ("sft-start", str(w / "rft" / "d_start.jsonl")),
        ("rft-2", str(w / "sft-start" / "model")),  # each round samples with the model of the round before
        ("sft-start-2", str(w / "rft-2" / "d_start.jsonl")),
        ("rft-3", str(w / "sft-start-2" / "model")),
        ("sft-start-3", str(w / "rft-3" / "d_start.jsonl")),
    ]  # round 3 did not beat round 2 (30.0% both): round 4 does not run
    assert "RFT round 4 does not run: held-out pass@1 after sft-start-3 is 30.0%, not above 30.0%" in log.getvalue()
    report = json.loads((w / "held_out.json").read_text())
    assert [(r["stage"], r["round"], r["pass_at_1"]) for r in report["stages"]] == [
        ("sft", 0, 0.1), ("sft-start", 1, 0.2), ("sft-start-2", 2, 0.3), ("sft-start-3", 3, 0.3)
    ]  # fmt: skip
    assert report["best"] == str(w / "sft-start-2" / "model") and "sft-start-3" in report["stopped"]
    assert not (w / "rft-4").exists()

    # the jobs of a Slurm chain for the stopped round succeed without running anything
    ran.clear()
    run_pipeline(recipe, Console(quiet=True), only="rft-4")
    run_pipeline(recipe, Console(quiet=True), only="sft-start-4")
    run_pipeline(recipe, Console(quiet=True))  # everything done, the loop stopped where it stopped
    assert ran == []
    print_status(recipe)
    status = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()}
    assert status["sft-start-3"] == "done" and status["rft-4"] == status["sft-start-4"] == "skipped"
    with pytest.raises(StartTuiError, match="There is no stage 'rft-5' in this recipe"):
        run_pipeline(recipe, Console(quiet=True), until="rft-5")

    # a round whose model beats the one before lets the next run; the stage of a later round before its
    # rounds are done is refused as any stage is
    pass_at_1["sft-start-3"] = 0.35
    (w / "sft-start-3" / "model" / "sft_figures.json").write_text(
        json.dumps({"engine_eval": [{"step": 3, "pass_at_1": 0.35, "tool_use": 0.5, "problems": 10}]})
    )
    with pytest.raises(StartTuiError, match="sft-start-4 runs after rft-4, which is not run"):
        run_pipeline(recipe, Console(quiet=True), only="sft-start-4")
    run_pipeline(recipe, Console(quiet=True))
    assert [stage for stage, _ in ran] == ["rft-4", "sft-start-4"]
    assert json.loads((w / "held_out.json").read_text())["best"] == str(w / "sft-start-4" / "model")


def test_further_rounds_need_the_same_held_out_evaluation_in_both_sfts(tmp_path: Path):
    from training.config import load_recipe

    path = tmp_path / "r.toml"
    path.write_text(
        '[rft]\niterations = 3\n[sft]\nengine_eval = ["broad:20"]\n[second_sft]\nengine_eval = ["broad:40"]\n'
    )
    with pytest.raises(StartTuiError, match=r"iterations > 1 in \[rft\] of .* needs the same engine_eval"):
        load_recipe(path)
    path.write_text("[rft]\niterations = 3\n")
    with pytest.raises(StartTuiError, match="needs the same engine_eval"):
        load_recipe(path)
    path.write_text('[rft]\niterations = 3\n[sft]\nengine_eval = ["broad:20"]\n')
    assert load_recipe(path).rft.iterations == 3


def test_status_says_how_far_a_cut_off_sampling_stage_got(recipe: Recipe, capsys):
    folder = stage_dir(recipe, "hint-infer")
    (folder / "manifest.json").unlink()  # cut off: started, two of its runs written
    mark_started(recipe, "hint-infer")
    rows = (folder / "runs.jsonl").read_text().splitlines()[:2]
    (folder / "runs.jsonl").write_text("\n".join(rows) + "\n")
    print_status(recipe)
    first = capsys.readouterr().out.splitlines()[0]
    assert first.split()[:2] == ["hint-infer", "not"]
    assert f"started: 2 runs in {folder / 'runs.jsonl'}; running it again goes on from there" in first
