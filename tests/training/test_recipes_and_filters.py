"""Recipes refuse what they do not know; Hint-RFT's rules each report what they removed; bad inputs are one sentence."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from rich.console import Console

from start_tui.engine.events import Span
from start_tui.engine.trace import Trace
from start_tui.errors import StartTuiError
from tests.training.test_masking import two_executions
from training.config import Recipe, load_recipe
from training.dataset import read_trace_records
from training.stages import repetition_score, stage_hint_rft, stage_rft, training_problems, truncate_after_answer

SHIPPED = Path(__file__).resolve().parents[2] / "training" / "recipes"


@pytest.mark.parametrize("name", sorted(p.name for p in SHIPPED.glob("*.toml")))
def test_the_shipped_recipes_load(name: str):
    recipe = load_recipe(SHIPPED / name)
    assert recipe.name and recipe.sft.learning_rate > 0
    root = SHIPPED.parents[1]
    prompt = recipe.generate.prompt_file
    assert prompt is None or (root / prompt).is_file()  # run from the repository's root, as its header says


def test_the_self_taught_recipe_is_the_whole_loop_on_this_cpu():
    recipe = load_recipe(SHIPPED / "self-taught-270m.toml")
    assert recipe.launch.cpu and recipe.sft.adapter == "lora" and recipe.sft.base_model == "embedded"
    assert recipe.rft.backend == "llama" and recipe.rft.model is None  # the batched path, on the fine-tuned model
    assert recipe.rft.iterations > 1 and not recipe.rft.hints  # rounds while the held-out pass@1 rises
    assert recipe.sft.engine_eval and recipe.sft.engine_eval_limit >= 60


def test_paper_defaults():
    r = Recipe()
    assert (r.sft.learning_rate, r.sft.global_batch, r.sft.warmup_ratio, r.sft.epochs) == (7e-6, 128, 0.03, 3.0)
    assert (r.sft.scheduler, r.sft.deepspeed, r.sft.mask_hints) == ("cosine", "zero3", True)
    assert (r.rft.samples, r.rft.temperature, r.rft.top_p) == (16, 0.6, 0.95)
    assert r.generate.max_tool_calls == 6


def test_bad_recipes_are_one_sentence(tmp_path: Path):
    bad = tmp_path / "r.toml"
    cases = [
        ("[sft]\nlearning_rat = 1e-5\n", r"Unknown keys in \[sft\]: learning_rat"),
        ('[sft]\nepochs = "three"\n', r"epochs in .* must be a float, not str"),
        ("[sft\n", "is not valid TOML"),
        ('[sft]\nadapter = "lorax"\n', r"adapter in \[sft\] of .* must be none, lora or qlora, not 'lorax'"),
        ('[sft]\nadapter = "lora"\nlora_target_modules = []\n', "needs lora_rank >= 1 and at least one"),
        ('[sft]\noverlength = "cut"\n', r"overlength in \[sft\] of .* must be drop, truncate or error, not 'cut'"),
        ('[second_sft]\nengine_eval_backend = "vllm"\n', r"engine_eval_backend in \[second_sft\] .* not 'vllm'"),
        ("[sft]\nsave_steps = 0\n", r"needs save_steps > 0, eval_steps > 0 and eval_share in \[0, 1\)"),
        (
            '[sft]\npacking = true\nmicro_batch = 2\nattn_implementation = "flash_attention_2"\n',
            r"packing with flash_attention_2 in \[sft\] of .* needs micro_batch = 1",
        ),
        ("[rft]\nmax_per_problem = 0\n", r"needs max_per_problem >= 1 and near_duplicate in \(0, 1\]"),
        ("[data]\noverlap_share = 1.5\n", r"needs overlap_ngram >= 1 and overlap_share between 0 and 1"),
    ]
    for text, message in cases:
        bad.write_text(text)
        with pytest.raises(StartTuiError, match=message):
            load_recipe(bad)
    with pytest.raises(StartTuiError, match="does not exist"):
        load_recipe(tmp_path / "missing.toml")
    bad.write_text('[sft]\nadapter = "lora"\nlora_rank = 8\nlora_target_modules = ["q_proj", "v_proj"]\n')
    assert load_recipe(bad).sft.lora_target_modules == ["q_proj", "v_proj"]


def test_malformed_dataset_lines_and_a_missing_base_model(tmp_path: Path):
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"trace": two_executions().to_json()}) + "\n{broken\n")
    with pytest.raises(StartTuiError, match=r"d\.jsonl:2 is not a trace record"):
        list(read_trace_records(data))
    data.write_text('{"no_trace": 1}\n')
    with pytest.raises(StartTuiError, match=r"d\.jsonl:1 is not a trace record \(KeyError"):
        list(read_trace_records(data))
    from training.convert import base_model_dir

    with pytest.raises(StartTuiError, match=r"neither a transformers folder .* nor an embedded model \(qwen2\.5"):
        base_model_dir(str(tmp_path / "nowhere"))


def test_repetition_and_answer_truncation():
    assert repetition_score("a b c d e f g h", 2) == 0.0
    assert repetition_score("go on " * 50, 2) > 0.9
    t = two_executions()
    t.spans[-1] = Span("model", "Final answer: 42925\nand then some more rambling\n")
    cut = truncate_after_answer(t)
    assert cut.text.endswith("Final answer: 42925\n")


def test_hint_rft_keeps_right_with_hints_wrong_without_and_reports_each_rule(tmp_path: Path):
    recipe = Recipe(workdir=str(tmp_path / "w"))
    runs = tmp_path / "w" / "hint-infer"
    runs.mkdir(parents=True)

    def trace(text: str, outputs: int = 1, timed_out: bool = False) -> dict:
        spans = [Span("prompt", "Problem: p\nSolution:"), Span("model", text)]
        for _ in range(outputs):
            spans += [Span("code", "print(1)\n"), Span("output", "\n```output\n1\n```\n", {"timed_out": timed_out})]
        spans.append(Span("model", "Final answer: 1"))
        return Trace(id=text[:8], problem="p", spans=spans).to_json()

    rows = []
    cases = {
        "keep": (True, False, trace("a good and varied piece of reasoning")),
        "hintwrong": (False, False, trace("wrong")),
        "greedyright": (True, True, trace("both right")),
        "nocode": (True, False, trace("no code here", outputs=0)),
        "toomany": (True, False, trace("many calls", outputs=7)),
        "timeout": (True, False, trace("slow code", timed_out=True)),
        "loop": (True, False, trace("I will try again. " * 60)),
    }
    for pid, (hint_ok, greedy_ok, tr) in cases.items():
        rows.append({"benchmark": "b", "id": pid, "mode": "hint", "sample": 0, "correct": hint_ok, "trace": tr})
        rows.append({"benchmark": "b", "id": pid, "mode": "greedy", "sample": 0, "correct": greedy_ok, "trace": tr})
    (runs / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = stage_hint_rft(recipe, Console(quiet=True))
    kept = [t for _, t in read_trace_records(out)]
    assert [t.id for t in kept] == ["a good a"]
    report = json.loads((tmp_path / "w" / "hint-rft" / "report.json").read_text())
    assert report["removed_by_rule"] == {
        "hint-infer wrong": 1,
        "greedy already right": 1,
        "no tool call": 1,
        "too many tool calls": 1,
        "a timeout": 1,
        "repetitive": 1,
    }
    manifest = json.loads((tmp_path / "w" / "hint-rft" / "manifest.json").read_text())
    assert manifest["complete"] and manifest["counts"]["kept"] == 1 and manifest["inputs"]


def test_rft_keeps_right_clean_distinct_traces_up_to_a_cap_and_reports_each_rule(tmp_path: Path):
    recipe = Recipe(workdir=str(tmp_path / "w"))
    recipe.data.problems = [str(tmp_path / "p.jsonl")]
    ids = ["easy", "nocode", "toomany", "timeout", "loop", "wrong", "hard"]
    (tmp_path / "p.jsonl").write_text(
        "".join(json.dumps({"id": i, "problem": f"problem {i}", "answer": "1"}) + "\n" for i in ids)
    )
    recipe.rft.samples, recipe.rft.max_per_problem = 8, 3
    folder = tmp_path / "w" / "rft"
    folder.mkdir(parents=True)

    def trace(text: str, outputs: int = 1, timed_out: bool = False) -> dict:
        spans = [Span("prompt", "Problem: p\nSolution:"), Span("model", text)]
        for _ in range(outputs):
            spans += [Span("code", "print(1)\n"), Span("output", "\n```output\n1\n```\n", {"timed_out": timed_out})]
        spans.append(Span("model", "Final answer: 1\nand some words after the answer"))
        return Trace(id=text[:8], problem="p", spans=spans).to_json()

    rng = random.Random(0)
    vocabulary = [
        "count",
        "add",
        "check",
        "the",
        "sum",
        "divisor",
        "formula",
        "program",
        "value",
        "list",
        "case",
        "prime",
        "step",
        "then",
        "so",
    ]
    reasonings = [f"Way {i}: " + " ".join(rng.choice(vocabulary) for _ in range(150)) for i in range(4)]
    near_copy = reasonings[0].replace(" ", " another ", 1)  # one word more in 150
    samples = {
        # eight right samples of an easy problem: an exact copy, a near copy, and more than the cap
        "easy": [trace(reasonings[0]), trace(reasonings[0]), trace(near_copy), trace(reasonings[1]),
                 trace(reasonings[2]), trace(reasonings[3]), trace(reasonings[3][::-1]), trace(reasonings[2][::-1])],
        "nocode": [trace("no code here at all", outputs=0)],
        "toomany": [trace("many calls", outputs=7)],
        "timeout": [trace("slow code", timed_out=True)],
        "loop": [trace("I will try again. " * 60)],
        "wrong": [trace("a wrong one")],
        "hard": [trace(reasonings[1])],
    }  # fmt: skip
    rows = []
    for pid, traces in samples.items():
        for k in range(8):
            tr = traces[k] if k < len(traces) else trace("wrong again")
            right = pid != "wrong" and k < len(traces)
            rows.append({"benchmark": "p", "id": pid, "mode": "rft", "sample": k, "correct": right, "trace": tr})
    (folder / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = stage_rft(recipe, Console(quiet=True), tmp_path / "no-model-needed")
    kept = [t for _, t in read_trace_records(out)]
    assert [t.id[:5] for t in kept] == ["Way 0", "Way 1", "Way 2", "Way 1"]
    assert all(t.spans[-1].text == "Final answer: 1\n" for t in kept)  # cut after the answer, as in Hint-RFT
    report = json.loads((folder / "report.json").read_text())
    assert report["removed_by_rule"] == {
        "wrong": 5 * 7 + 8,  # the seven unfilled samples of five problems, and all of "wrong"
        "exact duplicate": 1,
        "near duplicate": 1,
        "over the per-problem cap": 3,
        "no tool call": 1,
        "too many tool calls": 1,
        "a timeout": 1,
        "repetitive": 1,
    }
    assert (report["samples"], report["kept"], report["problems_kept"]) == (56, 4, 2)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["counts"]["removed_by_rule"] == report["removed_by_rule"]
    assert manifest["counts"]["decontamination"]["overlapping"] == 0


def test_launch_lines_for_each_launcher(tmp_path: Path):
    from training.config import LaunchConfig, SFTConfig
    from training.launch import launch_command

    job = tmp_path / "job.json"
    sft = SFTConfig()
    one = launch_command(LaunchConfig("torchrun", nproc_per_node=8, master_addr="127.0.0.1"), sft, job)
    assert one[1:3] == ["-m", "torch.distributed.run"] and "--node_rank" in one and "--rdzv_backend" not in one
    launch = LaunchConfig("torchrun", nproc_per_node=8, nnodes=4, master_addr="n0", master_port=29400)
    torchrun = launch_command(launch, sft, job)  # many nodes: the same line on each, a c10d rendezvous
    assert torchrun[1:3] == ["-m", "torch.distributed.run"]
    assert torchrun[-4:] == ["-m", "training.sft", "--job", str(job)]
    assert torchrun[3:7] == ["--nproc_per_node", "8", "--nnodes", "4"] and "--node_rank" not in torchrun
    assert torchrun[7:13] == ["--rdzv_backend", "c10d", "--rdzv_endpoint", "n0:29400", "--rdzv_id", "start-tui"]
    ds = launch_command(LaunchConfig("deepspeed", hostfile="hosts", master_addr="n0"), sft, job)
    assert ds[1:3] == ["-m", "deepspeed.launcher.runner"] and ds[5:7] == ["--hostfile", "hosts"]
    assert ds[-5:] == ["--no_local_rank", "--module", "training.sft", "--job", str(job)]
    acc = launch_command(LaunchConfig("accelerate", nproc_per_node=8, nnodes=2), sft, job)
    assert acc[3:5] == ["--num_processes", "16"] and "--use_deepspeed" in acc
    assert acc[acc.index("--deepspeed_config_file") + 1].endswith("ds_zero3.json")
    with pytest.raises(StartTuiError, match="no launcher 'slurm'"):
        launch_command(LaunchConfig("slurm"), sft, job)


def test_generated_problems_are_seeded_and_their_answers_check_out(tmp_path: Path):
    import math

    from start_tui.benchmarks import load_benchmark
    from training.problems import generate_problems, write_problems

    rows = generate_problems(12, seed=3)
    assert rows == generate_problems(12, seed=3) and rows != generate_problems(12, seed=4)
    assert {r["kind"] for r in rows} == {"product", "power_sum", "prime_count", "mod_power", "digit_sum", "binomial"}
    for r in rows:
        if r["kind"] == "binomial":
            k, n = (int(w) for w in r["problem"].split() if w.isdigit())
            assert int(r["answer"]) == math.comb(n, k)
        if r["kind"] == "prime_count":
            n = int(r["problem"].rstrip("?").split()[-1])
            assert int(r["answer"]) == sum(all(p % d for d in range(2, int(p**0.5) + 1)) for p in range(2, n))
    loaded = load_benchmark(write_problems(tmp_path / "p.jsonl", 6))
    assert len(loaded.problems) == 6 and not loaded.skipped


def test_a_problems_file_with_a_row_that_cannot_be_read_is_refused_in_one_sentence(tmp_path: Path):
    """A recipe trains on every row of the files it names: a row left out silently would be data lost."""
    mine = tmp_path / "mine.jsonl"
    mine.write_text('{"id": "a", "problem": "1+1?", "answer": "2"}\n{"id": "b", "problem": "2+2?"}\n{oops\n')
    recipe = Recipe(workdir=str(tmp_path / "w"))
    recipe.data.problems, recipe.data.holdout = [str(mine)], 0
    refused = r"mine.jsonl line 2 \(and 1 more line\) cannot be used for training: missing field 'answer'\.$"
    with pytest.raises(StartTuiError, match=refused):
        training_problems(recipe)
    mine.write_text('{"id": "a", "problem": "1+1?", "answer": "2"}\n')
    assert [p.id for p in training_problems(recipe)] == ["a"]


@pytest.mark.parametrize(
    ("base_model", "generates_with"), [("embedded", "gemma3-270m"), ("qwen2.5-coder-1.5b", "qwen2.5-coder-1.5b")]
)
def test_an_embedded_base_model_is_the_model_that_generates_its_data(base_model: str, generates_with: str):
    from start_tui.backends.embedded import EMBEDDED
    from training.config import recipe_from_dict
    from training.convert import conversion_dir, embedded_base
    from training.stages import engine_options

    recipe = recipe_from_dict({"name": "r", "generate": {"backend": "llama"}, "sft": {"base_model": base_model}})
    assert engine_options(recipe).model == generates_with
    model = embedded_base(base_model)
    assert model is EMBEDDED[generates_with]
    assert conversion_dir(model).name == f"{generates_with}-hf"  # one trainable folder per embedded model
    assert embedded_base("/models/QwQ-32B") is None


def test_hint_infer_shards_split_the_problems_by_their_text_and_the_stage_ends_with_the_last():
    from start_tui.benchmarks import Problem
    from training.stages import missing_runs, parse_shard, shard_of

    problems = [Problem(f"p{i}", "train", f"What is {i} times {i + 1}?", str(i * (i + 1))) for i in range(300)]
    shards = [[p.id for p in problems if shard_of(p, 3) == s] for s in range(3)]
    assert sorted(i for s in shards for i in s) == sorted(p.id for p in problems)  # each in exactly one shard
    assert all(80 <= len(s) <= 120 for s in shards), [len(s) for s in shards]
    moved = [Problem("other-id", "elsewhere", p.problem, p.answer) for p in reversed(problems)]
    assert [shard_of(p, 3) for p in reversed(moved)] == [shard_of(p, 3) for p in problems]  # by text alone

    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "3", "a/b", "1/0"):
        with pytest.raises(StartTuiError, match=r"--shard takes I/N with 1 <= I <= N"):
            parse_shard(bad)

    rows = [{"benchmark": "train", "id": "p0", "mode": m} for m in ("hint", "greedy")]
    rows.append({"benchmark": "train", "id": "p1", "mode": "hint"})
    assert [p.id for p in missing_runs(problems[:3], rows)] == ["p1", "p2"]
