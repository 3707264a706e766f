"""Training problems are checked against every benchmark `start-tui eval` scores before any sampling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from start_tui.benchmarks import BENCHMARKS, Problem, available_benchmarks, load_benchmark
from start_tui.errors import StartTuiError
from training.config import Recipe, load_recipe
from training.decontam import BenchmarkIndex
from training.stages import check_overlap, stage_hint_infer, training_problems

SHIPPED = Path(__file__).resolve().parents[2] / "training" / "recipes"

pytestmark = pytest.mark.skipif(
    set(available_benchmarks()) != set(BENCHMARKS), reason="needs the benchmark files of ../shared/data/benchmarks"
)


def _problem(text: str, pid: str = "t") -> Problem:
    return Problem(pid, "train", text, "1")


def test_a_copied_or_edited_benchmark_problem_is_found_and_a_stock_phrase_is_not():
    index = BenchmarkIndex.of_known_benchmarks()
    assert index.names == sorted(BENCHMARKS)  # all six, the code benchmark and GPQA included
    original = load_benchmark("math500").problems[7]
    ws = original.problem.split()
    half = len(ws) // 2
    edited = " ".join(ws[:half]) + " (a remark of ours) " + " ".join(ws[half:])
    found = index.overlaps([_problem(original.problem, "copy"), _problem(edited.upper(), "edited")])
    assert [(o.problem.id, o.benchmark, o.benchmark_id) for o in found] == [
        ("copy", "math500", original.id),
        ("edited", "math500", original.id),
    ]
    assert found[0].share == 1.0 and found[1].share >= 0.5
    # a generated problem that opens with a phrase many benchmark problems use is not a copy of any
    stock = _problem("What is the sum of the digits of 17 to the power 30?")
    assert index.overlaps([stock]) == []
    assert [o.problem.id for o in index.overlaps([stock], share=0.0)] == ["t"]  # open-r1's any-run rule


def test_a_short_benchmark_problem_inside_a_longer_text_is_found():
    index = BenchmarkIndex.of_known_benchmarks()
    short = next(p for p in load_benchmark("math500").problems if len(p.problem.split()) < 8)
    wrapped = _problem(f"Here is one for the class. {short.problem} Show your work, please.")
    assert [(o.benchmark_id, o.share) for o in index.overlaps([wrapped])] == [(short.id, 1.0)]


def test_without_benchmark_files_the_check_refuses_unless_allowed(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("START_TUI_BENCHMARKS", str(tmp_path / "none"))
    recipe = Recipe()
    recipe.data.problems = ["micro:6"]
    with pytest.raises(StartTuiError, match=r"^No benchmark files were found .*START_TUI_BENCHMARKS"):
        check_overlap(recipe, training_problems(recipe))
    recipe.data.allow_overlap = True
    assert check_overlap(recipe, training_problems(recipe))["benchmarks_checked"] == []


def test_every_benchmark_problem_overlaps_itself():
    index = BenchmarkIndex.of_known_benchmarks()
    for name in ("aime24", "amc23", "gpqa", "livecodebench"):
        problems = load_benchmark(name).problems
        assert len(index.overlaps(problems)) == len(problems), name


def test_the_shipped_recipes_and_the_default_train_on_no_benchmark():
    for recipe in [Recipe(), load_recipe(SHIPPED / "cpu-smoke.toml")]:
        report = check_overlap(recipe, training_problems(recipe))
        assert report["overlapping"] == 0 and len(report["benchmarks_checked"]) == len(BENCHMARKS)
    gpu = load_recipe(SHIPPED / "gpu-zero3.toml")
    assert not set(gpu.data.problems) & set(BENCHMARKS) and not gpu.data.allow_overlap


def test_training_on_a_benchmark_is_refused_in_one_sentence_before_any_run(tmp_path: Path):
    recipe = Recipe(workdir=str(tmp_path / "w"))
    recipe.data.problems = ["amc23"]
    recipe.data.limit = 3
    with pytest.raises(StartTuiError, match=r"^3 of the recipe's 3 training problems overlap .*amc23 3.*allow_overlap"):
        stage_hint_infer(recipe, Console(quiet=True))
    assert not (tmp_path / "w" / "hint-infer" / "runs.jsonl").exists()  # refused before sampling
    # a problem file that copies one benchmark problem among its own
    mixed = tmp_path / "mixed.jsonl"
    rows = [{"id": "own", "problem": "How many primes are below 1000?", "answer": "168"}]
    rows.append({"id": "leak", "problem": load_benchmark("aime24").problems[0].problem, "answer": "1"})
    mixed.write_text("".join(json.dumps(r) + "\n" for r in rows))
    recipe.data.problems, recipe.data.limit = [str(mixed)], None
    with pytest.raises(StartTuiError, match=r"1 of the recipe's 2 .*first: mixed 'leak' ~ aime24"):
        check_overlap(recipe, training_problems(recipe))
    recipe.data.allow_overlap = True
    report = check_overlap(recipe, training_problems(recipe))
    assert (report["overlapping"], report["by_benchmark"], report["allowed"]) == (1, {"aime24": 1}, True)


def test_generated_sources_load_as_the_training_split():
    recipe = Recipe()
    recipe.data.problems = ["broad:40", "micro:6"]
    problems = training_problems(recipe)
    assert len(problems) == 46 and {p.benchmark for p in problems} == {"broad", "micro"}
    assert all(p.id.startswith("train-") for p in problems if p.benchmark == "broad")
