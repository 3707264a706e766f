"""The stages of `start-tui train`, each resumable, each leaving its outputs and a `manifest.json`."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console

from start_tui.backends import embedded_name, model_file
from start_tui.backends.base import BackendError
from start_tui.backends.embedded import GEMMA_270M
from start_tui.batch import Outcome, SetOutcome, solve_many, solve_sets
from start_tui.benchmarks import Problem, load_benchmark, unusable
from start_tui.engine import Reasoner, Trace
from start_tui.engine.events import Span
from start_tui.errors import StartTuiError
from start_tui.eval.runner import grade, kind_of
from start_tui.options import EngineOptions, build_reasoner, front_defaults, option_fields
from start_tui.sandbox import Sandbox
from training.config import FilterConfig, Recipe, SFTConfig, check_stage_names, stage_kind, stage_round, stages_of
from training.serving import served


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def stage_dir(recipe: Recipe, stage: str) -> Path:
    return Path(recipe.workdir) / stage


STAGE_TABLES: dict[str, tuple[str, ...]] = {
    "hint-infer": ("data", "generate"),
    "hint-rft": ("filter",),
    "sft": ("sft",),
    "rft": ("data", "generate", "filter", "rft"),
    "sft-start": ("sft", "second_sft"),
}
"""The recipe tables whose values decide each stage's outputs ([launch] does not: more GPUs, same result)."""


OPERATIONAL = frozenset({
    "concurrency", "base_url", "base_urls", "serve_command", "serve_timeout_s", "api_key_env",
    "save_steps", "save_total_limit", "report_to", "logging_steps", "eval_steps", "attn_implementation",
    "loss_chunk", "liger", "sequence_parallel", "engine_eval", "engine_eval_limit", "engine_eval_max_tokens",
    "engine_eval_backend", "iterations",
})  # fmt: skip
"""Keys that change how a stage runs, not what it makes: changing them does not make it stale."""


def round_stage(kind: str, n: int) -> str:
    """The stage of kind `kind` ("rft" or "sft-start") in RFT round `n`."""
    return kind if n == 1 else f"{kind}-{n}"


def pipeline_origin(recipe: Recipe, stage: str) -> dict[str, str]:
    """What the pipeline hands a stage besides the recipe: SFT's data, RFT's model (round N samples with
    the model of round N-1, round 1 with the Hint-RFT model)."""
    kind, n = stage_kind(stage), stage_round(stage)
    if stage == "sft":
        return {"data": str(stage_dir(recipe, "hint-rft") / "d_seed.jsonl")}
    if kind == "sft-start":
        return {"data": str(stage_dir(recipe, round_stage("rft", n)) / "d_start.jsonl")}
    if kind == "rft":
        return {"model": str(stage_dir(recipe, "sft" if n == 1 else round_stage("sft-start", n - 1)) / "model")}
    return {}


def stage_settings(recipe: Recipe, stage: str, origin: dict[str, str] | None = None) -> dict[str, Any]:
    """The recipe values a stage's outputs depend on, and where its data or model came from."""
    settings = recipe.to_dict()
    chosen: dict[str, Any] = {}
    for table in STAGE_TABLES[stage_kind(stage)]:
        values = settings[table]
        chosen[table] = (
            {k: v for k, v in values.items() if k not in OPERATIONAL} if isinstance(values, dict) else values
        )
    if "data" in chosen:  # a problem file is the same file however the recipe named it
        chosen["data"]["problems"] = [
            str(Path(p).resolve()) if Path(p).is_file() else p for p in chosen["data"]["problems"]
        ]
    origin = pipeline_origin(recipe, stage) if origin is None else origin
    if origin:
        chosen["from"] = {k: str(Path(v).resolve()) for k, v in origin.items()}
    # as a manifest holds them (through JSON: tuples become lists)
    return json.loads(json.dumps(chosen))


def write_manifest(
    folder: Path,
    stage: str,
    recipe: Recipe,
    inputs: list[Path],
    counts: dict[str, Any],
    t0: float,
    origin: dict[str, str] | None = None,
) -> None:
    """Mark a stage complete, with what it was made from: its settings and the hashes of its inputs.

    The stage before it counts as an input through its manifest, so a stage that is rerun makes
    every later one stale (see `stage_state`). `origin`: the data or model it was given, when not
    the pipeline's own (`train sft --data`, `train rft --model`).
    """
    order = stages_of(recipe)
    before = order.index(stage) - 1 if stage in order else -1
    if before >= 0:
        inputs = [*inputs, stage_dir(recipe, order[before]) / "manifest.json"]
    manifest = {
        "stage": stage,
        "complete": True,
        "counts": counts,
        "inputs": {str(p): file_hash(p) for p in inputs if p.is_file()},
        "seconds": round(time.monotonic() - t0, 2),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": stage_settings(recipe, stage, origin),
        "config": recipe.to_dict(),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def mark_started(recipe: Recipe, stage: str) -> None:
    """Record the settings an unfinished stage runs with, so that a resume with others is caught."""
    folder = stage_dir(recipe, stage)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "started.json").write_text(json.dumps(stage_settings(recipe, stage), indent=2) + "\n", encoding="utf-8")


def _changed_keys(old: Any, new: Any, default: Any, where: str = "") -> list[str]:
    """Keys whose value differs; a key the old record lacks differs only when set away from its default
    (a field added since), and a key the new settings lack (a field removed since) does not count."""
    if isinstance(old, dict) and isinstance(new, dict):
        default = default if isinstance(default, dict) else {}
        changed = []
        for key in sorted(new):
            name = f"{where}.{key}" if where else key
            if key in old:
                changed += _changed_keys(old[key], new[key], default.get(key), name)
            elif key in default and new[key] != default[key]:
                changed.append(name)
        return changed
    return [] if old == new else [where]


def stage_state(recipe: Recipe, stage: str) -> tuple[str, str]:
    """("done" | "not run" | "stale", why): a stage is stale when the recipe values it was made (or, unfinished,
    started) with, or one of its inputs (the stage before it included), changed since."""
    folder = stage_dir(recipe, stage)
    now = stage_settings(recipe, stage)
    defaults = stage_settings(Recipe(workdir=recipe.workdir), stage)

    def changed(then: dict[str, Any]) -> str:
        keys = _changed_keys(then, now, defaults)
        more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
        return f"{', '.join(keys[:3])}{more}" if keys else ""

    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    if not manifest.get("complete"):
        try:
            started = json.loads((folder / "started.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return "not run", ""
        keys = changed(started)
        return ("stale", f"it was started with other settings ({keys})") if keys else ("not run", _progress(folder))
    if "settings" in manifest:  # (manifests before this check recorded none)
        keys = changed(manifest["settings"])
        if keys:
            return "stale", f"the recipe changed ({keys})"
    for path, digest in manifest.get("inputs", {}).items():
        p = Path(path)
        if not p.is_file():
            return "stale", f"its input {path} is gone"
        if file_hash(p) != digest:
            return "stale", f"its input {path} changed"
    return "done", ""


def _progress(folder: Path) -> str:
    """How far an unfinished stage got, in the words `train status` prints ("" when it made nothing yet)."""
    runs = next((folder / name for name in ("runs.jsonl", "samples.jsonl") if (folder / name).is_file()), None)
    if runs is not None:
        n = sum(1 for line in runs.read_text(encoding="utf-8").splitlines() if line.strip())
        return f"started: {n} runs in {runs}; running it again goes on from there" if n else ""
    steps = [int(c.name.split("-")[1]) for c in folder.glob("model/checkpoint-*") if c.name.split("-")[1].isdigit()]
    return f"started: a checkpoint at step {max(steps)}; running it again resumes from it" if steps else ""


_GENERATED = re.compile(r"(broad|micro):(\d+)")


def load_source(source: str) -> list[Problem]:
    """One `[data] problems` entry: generated problems ("broad:N", "micro:N"), a benchmark or a JSONL file."""
    generated = _GENERATED.fullmatch(source)
    if generated is None:
        loaded = load_benchmark(source)
        if loaded.skipped:  # a recipe trains on every row it names: a row left out silently is data lost
            number, why = loaded.skipped[0]
            n = len(loaded.skipped) - 1
            more = f" (and {n} more line{'s' if n > 1 else ''})" if n else ""
            raise StartTuiError(f"{loaded.path} line {number}{more} cannot be used for training: {why}.")
        if why := unusable(loaded):
            raise StartTuiError(why)
        return loaded.problems
    from training.problems import broad_problems, generate_problems

    family, n = generated[1], int(generated[2])
    rows = broad_problems(n) if family == "broad" else generate_problems(n)
    return [Problem(r["id"], family, r["problem"], r["answer"], {"kind": r["kind"]}) for r in rows]


def training_problems(recipe: Recipe, held_out: bool = False) -> list[Problem]:
    """The recipe's problems (or, with held_out, the last `holdout` of each source)."""
    out: list[Problem] = []
    for source in recipe.data.problems:
        problems = load_source(source)
        if recipe.data.limit is not None:
            problems = problems[: recipe.data.limit + recipe.data.holdout]
        cut = len(problems) - recipe.data.holdout
        out += problems[cut:] if held_out else problems[:cut]
    return out


def check_overlap(recipe: Recipe, problems: list[Problem]) -> dict[str, Any]:
    """Check the training problems against every benchmark `start-tui eval` scores (see `decontam`).

    Overlap is refused in one sentence unless `[data] allow_overlap` is set; the figures go into
    the stage's manifest either way.
    """
    from training.decontam import BenchmarkIndex

    d = recipe.data
    index = BenchmarkIndex.of_known_benchmarks(d.overlap_ngram)
    if not index.names and not d.allow_overlap:
        raise StartTuiError(
            "No benchmark files were found to check the training problems against; set START_TUI_BENCHMARKS to "
            "the folder start-tui eval reads, or set allow_overlap = true in [data] to train unchecked."
        )
    found = index.overlaps(problems, d.overlap_share)
    by_benchmark = Counter(o.benchmark for o in found)
    if found and not d.allow_overlap:
        first = found[0]
        counts = ", ".join(f"{name} {n}" for name, n in sorted(by_benchmark.items()))
        raise StartTuiError(
            f"{len(found)} of the recipe's {len(problems)} training problems overlap benchmarks that "
            f"start-tui eval scores ({counts}; first: {first.problem.benchmark} {first.problem.id!r} ~ "
            f"{first.benchmark} {first.benchmark_id!r}); train on other problems, or set allow_overlap = true "
            "in [data] to keep them."
        )
    return {
        "benchmarks_checked": index.names,
        "ngram": d.overlap_ngram,
        "share": d.overlap_share,
        "overlapping": len(found),
        "by_benchmark": dict(by_benchmark),
        "allowed": d.allow_overlap,
    }


_WRITING = threading.Lock()


def _append(path: Path, row: dict[str, Any]) -> None:
    _append_rows(path, [row])


def _append_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """Append whole lines (one lock for the sampling threads of every server)."""
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    with _WRITING, path.open("a", encoding="utf-8") as f:
        f.write(text)


def _read(path: Path) -> list[dict[str, Any]]:
    rows = []
    if path.exists():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    raise StartTuiError(f"{path}:{number} is not JSON; remove that line to resume.") from None
    return rows


def _graded_row(
    problem: Problem, mode: str, sample: int, trace: Trace | None, grader: Sandbox, error: str | None = None
) -> dict[str, Any]:
    """One line of runs.jsonl: a run of `problem`, graded."""
    predicted, ok, note = grade(kind_of(problem.benchmark), problem, trace, grader)
    return {
        "benchmark": problem.benchmark,
        "id": problem.id,
        "mode": mode,
        "sample": sample,
        "predicted": predicted if isinstance(predicted, str) else None,
        "gold": problem.answer,
        "correct": ok,
        "note": error or note,
        "trace": trace.to_json() if trace else None,
    }


def sample_runs(
    problems: list[Problem],
    opts: EngineOptions,
    mode: str,
    out: Path,
    concurrency: int,
    samples: int = 1,
    console: Console | None = None,
    base_urls: list[str] | None = None,
) -> None:
    """Run each problem `samples` times with `opts`, grade, and append rows {id, mode, sample, correct, trace}.

    More than one sample goes through the batched path: a problem's samples are decoded together
    and their rows are written together, so a resumed stage reruns only whole sets. With several
    `base_urls` the problems are shared among the servers, `concurrency` runs in flight on each.
    A run the model server did not finish (it went away) is not recorded: the stage stops with one
    sentence and a rerun resumes with the runs that are missing.
    """
    done = {(r["benchmark"], r["id"], r["mode"], r["sample"]) for r in _read(out)}
    urls: list[str | None] = [*base_urls] if base_urls else [opts.base_url]
    lost: list[str] = []
    if len(urls) == 1:
        _sample_on(problems, replace(opts, base_url=urls[0]), mode, out, concurrency, samples, done, console, lost)
    else:
        failed: list[BaseException] = []

        def shard(i: int, url: str | None) -> None:
            mine = problems[i :: len(urls)]
            try:
                _sample_on(mine, replace(opts, base_url=url), mode, out, concurrency, samples, done, console, lost)
            except BaseException as exc:  # raised again below, on the stage's thread
                failed.append(exc)

        threads = [
            threading.Thread(target=shard, args=(i, u), name=f"sample-{i}", daemon=True) for i, u in enumerate(urls)
        ]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.2)
        if failed:
            raise failed[0]
    if lost:
        raise StartTuiError(
            f"{len(lost)} {mode} runs were cut off by the model server ({lost[0]}); the runs that finished are "
            f"kept in {out}, and running the stage again does the rest."
        )


def _sample_on(
    problems: list[Problem],
    opts: EngineOptions,
    mode: str,
    out: Path,
    concurrency: int,
    samples: int,
    done: set[tuple[Any, ...]],
    console: Console | None,
    lost: list[str],
) -> None:
    if samples > 1:
        _sample_sets(problems, opts, mode, out, concurrency, samples, done, console, lost)
        return
    with Sandbox() as grader:
        for k in range(samples):
            todo = [p for p in problems if (p.benchmark, p.id, mode, k) not in done]
            if not todo:
                continue

            def finished(o: Outcome, k: int = k) -> None:
                if o.lost:
                    lost.append(o.error or "the server went away")
                    return
                row = _graded_row(o.problem, mode, k, o.trace, grader, o.error)
                _append(out, row)
                if console is not None:
                    console.print(f"  {mode} {o.problem.id} sample {k}: {'right' if row['correct'] else 'wrong'}")

            solve_many(todo, replace(opts, seed=opts.seed + k), concurrency, on_done=finished)


def _sample_sets(
    problems: list[Problem],
    opts: EngineOptions,
    mode: str,
    out: Path,
    concurrency: int,
    samples: int,
    done: set[tuple[Any, ...]],
    console: Console | None,
    lost: list[str],
) -> None:
    todo = [p for p in problems if any((p.benchmark, p.id, mode, k) not in done for k in range(samples))]
    if not todo:
        return
    set_opts = replace(opts, samples=samples, diverse_hints=opts.hints_enabled)
    with Sandbox() as grader:

        def finished(i: int, o: SetOutcome) -> None:
            problem = todo[i]
            cut = [e for e in o.group.errors.values() if isinstance(e, BackendError)]
            if cut:  # the set is written whole or not at all
                lost.append(str(cut[0]))
                return
            lines = []
            for k, run in enumerate(o.group.runs):
                error = o.group.errors.get(k)
                lines.append(_graded_row(problem, mode, k, run.trace, grader, str(error) if error else None))
            _append_rows(out, lines)
            if console is not None:
                right = sum(bool(row["correct"]) for row in lines)
                console.print(f"  {mode} {problem.id}: {right}/{samples} samples right")

        solve_sets([(p, set_opts) for p in todo], set_opts, concurrency, on_done=finished)


def greedy_from_hinted(
    problems: list[Problem],
    opts: EngineOptions,
    out: Path,
    console: Console | None = None,
    build: Callable[[EngineOptions], tuple[Reasoner, Sandbox]] = build_reasoner,
) -> list[Problem]:
    """Greedy runs read off the hinted runs in `out`, where greedy decoding is the hinted run up to its
    first hint; returns the problems whose greedy run must be decoded from the start.

    With hints on, a greedy run is greedy decoding until the engine inserts its first hint. A hinted run
    with no hint at all is the greedy run itself. A before-stop hint withholds the model's stop (its answer
    marker, or its end of turn): the greedy run is the text before the hint, continued with hints off
    and the token budget the text before it left, a branch of the hinted trace that costs the few tokens
    of the answer instead of the whole run again. A first hint of another kind (after a failed tool call,
    at a conjunction) changed what the model saw while it still had more to write: that problem is left.
    """
    rows = _read(out)
    hinted = {(r["benchmark"], str(r["id"])): r for r in rows if r["mode"] == "hint" and r.get("trace")}
    done = {(r["benchmark"], str(r["id"])) for r in rows if r["mode"] == "greedy"}
    left: list[Problem] = []
    todo: list[tuple[Problem, Trace, int | None]] = []
    for problem in problems:
        key = (problem.benchmark, str(problem.id))
        if key in done:
            continue
        row = hinted.get(key)
        trace = Trace.from_json(row["trace"]) if row is not None else None
        if trace is None or trace.status != "finished":
            left.append(problem)
            continue
        first = next((i for i, span in enumerate(trace.spans) if span.kind == "hint"), None)
        if first is None:
            todo.append((problem, trace, None))
        elif trace.spans[first].meta.get("trigger") == "before_stop":
            todo.append((problem, trace, first))
        else:
            left.append(problem)
    if not todo:
        return left
    reasoner, sandbox = build(replace(opts, hints_enabled=False))
    try:
        with Sandbox() as grader:
            for problem, trace, first in todo:
                derived = "the hinted run, which inserted no hint"
                if first is not None:
                    before = trace.spans[:first]
                    written = "".join(s.text for s in before if s.kind in ("model", "code"))
                    budget = reasoner.config.max_tokens - reasoner.backend.count_tokens(written)
                    if budget <= 0:
                        left.append(problem)
                        continue
                    on = Reasoner(
                        reasoner.backend,
                        reasoner.sandbox,
                        reasoner.profile,
                        reasoner.policy,
                        replace(reasoner.config, max_tokens=budget),
                        reasoner.library,
                    )
                    run = on.branch(trace, sum(len(s.text) for s in before), fresh_budget=False)
                    for _ in run.events():
                        pass
                    trace = run.trace
                    derived = "the hinted run's text before its first hint, continued without hints"
                row = {**_graded_row(problem, "greedy", 0, trace, grader), "derived": derived}
                _append(out, row)
                if console is not None:
                    right = "right" if row["correct"] else "wrong"
                    console.print(f"  greedy {problem.id} (read off the hinted run): {right}")
    finally:
        sandbox.close()
        reasoner.backend.close()
    return left


def engine_options(recipe: Recipe) -> EngineOptions:
    """The engine options of the recipe's `[generate]` table; Hint-infer data is generated greedily."""
    g = recipe.generate
    opts = replace(
        front_defaults("recipe"), **{f.name: getattr(g, f.name) for f in option_fields("recipe")}, temperature=0.0
    )
    if opts.backend == "llama" and not opts.model:  # the embedded model that `base_model` converts and trains
        from training.convert import embedded_base

        model = embedded_base(recipe.sft.base_model) or GEMMA_270M
        opts = replace(opts, model=model.name)
    return opts


def _served_model(model: str | None) -> str:
    """What a serve_command's {model} is: an embedded model's file, or the recipe's model as written (a
    path, or a hub id that vLLM resolves itself)."""
    return str(model_file(model)) if embedded_name(model) is not None else str(model)


def _served_tokenizer(opts: EngineOptions, served: str) -> str | None:
    """The files that tell how to prompt a served model: the user's --tokenizer, else what is served when it
    is here (a GGUF, a model folder); a hub id has none here, and the model's name must tell its family."""
    return opts.tokenizer or (served if Path(served).exists() else None)


def shard_of(problem: Problem, shards: int) -> int:
    """The shard (0 .. shards-1) a problem belongs to, from a hash of its text: the same problem falls in
    the same shard whatever the file's order or the other problems."""
    return int.from_bytes(hashlib.sha256(problem.problem.encode("utf-8")).digest()[:8], "big") % shards


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` (1 <= I <= N) -> (I, N); one sentence otherwise."""
    first, _, second = text.partition("/")
    try:
        i, n = int(first), int(second)
    except ValueError:
        i = n = 0
    if not 1 <= i <= n:
        raise StartTuiError(f"--shard takes I/N with 1 <= I <= N (for example 1/3), not {text!r}.")
    return i, n


def missing_runs(problems: list[Problem], rows: list[dict[str, Any]]) -> list[Problem]:
    """The problems that lack a greedy or a hinted run in `rows`."""
    have: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in rows:
        have[(r["benchmark"], str(r["id"]))].add(r["mode"])
    return [p for p in problems if not {"greedy", "hint"} <= have[(p.benchmark, str(p.id))]]


def stage_hint_infer(recipe: Recipe, console: Console, shard: tuple[int, int] | None = None) -> Path:
    """Greedy and Hint-infer on every training problem, graded: runs.jsonl.

    With `shard` (I, N) only the problems of shard I of N run (each stage invocation then stays within
    a machine's time limit); the stage is done, and its manifest written, by the run that leaves no
    problem without its two runs."""
    t0 = time.monotonic()
    folder = stage_dir(recipe, "hint-infer")
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "runs.jsonl"
    every = training_problems(recipe)
    if not every:
        raise StartTuiError("The recipe's [data] gives no training problems.")
    overlap = check_overlap(recipe, every)
    problems = [p for p in every if shard is None or shard_of(p, shard[1]) == shard[0] - 1]
    g = recipe.generate
    opts = engine_options(recipe)
    placeholders = {"model": _served_model(opts.model)} if g.serve_command else {}
    urls = g.base_urls or ([g.base_url] if g.base_url else [])
    with served(g.serve_command, placeholders, urls, folder, g.serve_timeout_s) as urls:
        if g.serve_command is not None:  # sample from what the stage started, prompted as its own files say
            opts = replace(opts, backend="openai", model=None, tokenizer=_served_tokenizer(opts, placeholders["model"]))
        for mode in ("hint", "greedy"):  # hinted first: greedy runs are read off them where they can be
            run_opts = replace(opts, hints_enabled=opts.hints_enabled and mode == "hint")
            todo = problems
            if mode == "greedy" and opts.hints_enabled and run_opts.temperature == 0:
                todo = greedy_from_hinted(problems, replace(run_opts, base_url=urls[0] if urls else None), out, console)
            sample_runs(todo, run_opts, mode, out, g.concurrency, console=console, base_urls=urls)
    rows = _read(out)
    left = missing_runs(every, rows)
    if left:
        assert shard is not None  # a stage over every problem that did not raise has run them all
        console.print(
            f"shard {shard[0]}/{shard[1]} done ({len(problems)} problems); {len(left)} of {len(every)} problems "
            "still lack their runs: run the other shards, or the stage without --shard."
        )
        return out
    modes = Counter(f"{r['mode']}_{'right' if r['correct'] else 'wrong'}" for r in rows)
    inputs = [Path(s) for s in recipe.data.problems]
    if recipe.generate.prompt_file:
        inputs.append(Path(recipe.generate.prompt_file))
    derived = sum(1 for r in rows if r["mode"] == "greedy" and r.get("derived"))
    run_s = sum(float((r.get("trace") or {}).get("stats", {}).get("elapsed_s") or 0) for r in rows)
    counts = {
        "problems": len(every),
        **modes,
        "greedy_read_off_hinted": derived,
        "run_seconds": round(run_s),
        "decontamination": overlap,
    }
    write_manifest(folder, "hint-infer", recipe, inputs, counts, t0)
    return out


def repetition_score(text: str, n: int) -> float:
    """Share of word n-grams that repeat an earlier one (0: none, near 1: a loop)."""
    words = re.findall(r"\S+", text)
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return 0.0
    return 1 - len(set(grams)) / len(grams)


def truncate_after_answer(trace: Trace) -> Trace:
    """Cut the model's text after its final-answer line (what follows is noise to learn)."""
    marks = ("Final answer:", "\\boxed{")
    spans = list(trace.spans)
    for i in range(len(spans) - 1, -1, -1):
        span = spans[i]
        if span.kind != "model":
            continue
        text = span.text
        pos = max(text.rfind(m) for m in marks)
        if pos < 0:
            continue
        end = text.find("\n", pos)
        if end >= 0 and end + 1 < len(text):
            spans[i] = Span("model", text[: end + 1], dict(span.meta))
            spans = spans[: i + 1]
        else:
            spans = spans[: i + 1]
        break
    return Trace(
        id=trace.id,
        problem=trace.problem,
        spans=spans,
        meta=dict(trace.meta),
        answer=trace.answer,
        status=trace.status,
        stats=dict(trace.stats),
    )


def trace_rules(f: FilterConfig) -> list[tuple[str, Callable[[Trace], bool]]]:
    """The rules a kept trace must pass, Hint-RFT's and RFT's alike: (name, does it remove the trace)."""

    def outputs(t: Trace) -> list[Span]:
        return [s for s in t.spans if s.kind == "output"]

    return [
        ("no tool call", lambda t: f.require_tool_call and not outputs(t)),
        ("too many tool calls", lambda t: len(outputs(t)) > f.max_tool_calls),
        ("a timeout", lambda t: f.drop_timeouts and any(s.meta.get("timed_out") for s in outputs(t))),
        (
            "repetitive",
            lambda t: (
                repetition_score("".join(s.text for s in t.spans if s.kind == "model"), f.repetition_ngram)
                > f.max_repetition
            ),
        ),
    ]


def _on_trace(rule: Callable[[Trace], bool]) -> Callable[[dict[str, Any], Trace], bool]:
    return lambda modes, trace: rule(trace)


def stage_hint_rft(recipe: Recipe, console: Console) -> Path:
    """Score, filter and edit the Hint-infer traces into D_seed (d_seed.jsonl) and report each rule."""
    t0 = time.monotonic()
    f = recipe.filter
    runs_path = stage_dir(recipe, "hint-infer") / "runs.jsonl"
    if not runs_path.is_file():
        raise StartTuiError(f"{runs_path} does not exist; run the hint-infer stage first.")
    folder = stage_dir(recipe, "hint-rft")
    folder.mkdir(parents=True, exist_ok=True)
    by_problem: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in _read(runs_path):
        by_problem[(row["benchmark"], str(row["id"]))][row["mode"]] = row
    removed: Counter[str] = Counter()
    kept: list[Trace] = []
    rules: list[tuple[str, Callable[[dict[str, Any], Trace], bool]]] = [
        ("hint-infer wrong", lambda modes, t: f.require_correct and not modes["hint"]["correct"]),
        ("greedy already right", lambda modes, t: f.require_greedy_wrong and modes.get("greedy", {}).get("correct")),
    ]
    rules += [(name, _on_trace(rule)) for name, rule in trace_rules(f)]
    for _key, modes in sorted(by_problem.items()):
        hint = modes.get("hint")
        if hint is None or hint.get("trace") is None:
            removed["no hint-infer run"] += 1
            continue
        trace = Trace.from_json(hint["trace"])
        for name, rule in rules:
            if rule(modes, trace):
                removed[name] += 1
                break
        else:
            kept.append(truncate_after_answer(trace) if f.truncate_after_answer else trace)
    out = folder / "d_seed.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        for t in kept:
            fh.write(json.dumps({"trace": t.to_json()}, ensure_ascii=False) + "\n")
    report = {"problems": len(by_problem), "kept": len(kept), "removed_by_rule": dict(removed)}
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    console.print(f"D_seed: kept {len(kept)} of {len(by_problem)} problems; removed: {dict(removed) or 'none'}")
    write_manifest(folder, "hint-rft", recipe, [runs_path], report, t0)
    return out


def stage_sft(
    recipe: Recipe,
    console: Console,
    data: Path,
    stage: str = "sft",
    base: str | None = None,
    cfg: SFTConfig | None = None,
    print_only: bool = False,
) -> Path:
    """Tokenize the trace set (masks), write the job, print and run the launch command."""
    from transformers import AutoTokenizer

    from training.convert import base_model_dir
    from training.dataset import learned_prompt, write_tokenized
    from training.launch import check_by_hand, check_launch, launch_command, node_command, run_launch, write_job

    t0 = time.monotonic()
    cfg = cfg or recipe.sft
    folder = stage_dir(recipe, stage)
    model_dir = base_model_dir(base or cfg.base_model)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenized = folder / "tokenized.arrow"
    lengths = write_tokenized(data, tokenized, tokenizer, cfg.mask_hints, cfg.max_length, cfg.packing, cfg.overlength)
    if lengths["examples"] == 0:
        why = f" ({lengths['overlength']} over max_length {cfg.max_length}, dropped)" if lengths["overlength"] else ""
        raise StartTuiError(f"{data} has no trace with tokens to learn{why}; nothing to fine-tune on.")
    if lengths["overlength"]:
        done = "dropped" if cfg.overlength == "drop" else "truncated"
        console.print(f"{stage}: {lengths['overlength']} traces over max_length {cfg.max_length} {done}")
    cpu = recipe.launch.cpu
    stage_info = {  # absolute: the ranks may run from another folder (by hand on each node)
        "name": stage,
        "recipe": {**recipe.to_dict(), "workdir": str(Path(recipe.workdir).resolve())},
        "data": str(data.resolve()),
        "counts": lengths,
        "started": time.time() - (time.monotonic() - t0),
        "learned_under": learned_prompt(data),  # export writes it into the GGUF: run as trained
    }
    job = write_job(cfg, model_dir, tokenized, folder / "model", cpu, stage=stage_info)
    if print_only:
        import shlex

        check_by_hand(recipe.launch)
        cmd = launch_command(recipe.launch, cfg, job)
        console.print(shlex.join(cmd), soft_wrap=True, markup=False)
        if recipe.launch.nnodes > 1 and recipe.launch.launcher == "torchrun":
            console.print(
                f"run this line on each of the {recipe.launch.nnodes} nodes (a c10d rendezvous at "
                f"{recipe.launch.master_addr}:{recipe.launch.master_port}); rank 0 writes {folder / 'manifest.json'} "
                "when the training ends.",
                markup=False,
            )
        return folder / "model"
    check_launch(recipe)
    cmd = node_command(recipe, cfg, job)
    ranks = recipe.launch.nproc_per_node if recipe.launch.launcher != "none" else 1
    run_launch(cmd, cpu=cpu, ranks_per_node=ranks)
    figures = json.loads((folder / "model" / "sft_figures.json").read_text())
    console.print(
        f"{stage}: {figures['steps']} steps, loss {figures['losses'][:1]} -> {figures['losses'][-1:]}, "
        f"{figures['seconds']} s, {figures['tokens_per_s_per_device']} tokens/s/device"
    )
    return folder / "model"


def finish_sft_stage(stage: dict[str, Any], figures: dict[str, Any]) -> None:
    """Rank 0 of an SFT job marks its stage complete (the job file's `stage`, see `write_job`)."""
    from training.config import recipe_from_dict

    recipe = recipe_from_dict(stage["recipe"], "the job's recipe")
    name = stage["name"]
    counts = {**stage["counts"], "steps": figures["steps"], "train_loss": figures["train_loss"]}
    counts["world_size"] = figures["world_size"]
    t0 = time.monotonic() - (time.time() - stage["started"])
    data = str(stage["data"])
    write_manifest(stage_dir(recipe, name), name, recipe, [Path(data)], counts, t0, origin={"data": data})


def normalized(trace: Trace) -> str:
    return " ".join("".join(s.text for s in trace.spans if s.kind != "prompt").split())


def _shingles(trace: Trace, n: int = 5) -> set[tuple[str, ...]]:
    words = normalized(trace).split()
    return {tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def filter_rft(
    rows: list[dict[str, Any]], f: FilterConfig, max_per_problem: int, near_duplicate: float
) -> tuple[list[Trace], dict[str, Any]]:
    """D_START from RFT samples: right, passing Hint-RFT's trace rules, no copies, at most N per problem.

    Samples are taken in order; a trace is a near duplicate when the word 5-grams of its text
    (the prompt left out) overlap those of a trace already kept for the same problem with a
    Jaccard similarity of at least `near_duplicate`. Returns the kept traces and the report.
    """
    removed: Counter[str] = Counter()
    kept: list[Trace] = []
    by_problem: dict[tuple[str, str], list[tuple[set[tuple[str, ...]], str]]] = defaultdict(list)
    rules = trace_rules(f)
    for row in rows:
        if not row["correct"] or row.get("trace") is None:
            removed["wrong"] += 1
            continue
        trace = Trace.from_json(row["trace"])
        name = next((name for name, rule in rules if rule(trace)), None)
        if name is not None:
            removed[name] += 1
            continue
        if f.truncate_after_answer:
            trace = truncate_after_answer(trace)
        mine = by_problem[(str(row["benchmark"]), str(row["id"]))]
        text, shingles = normalized(trace), _shingles(trace)
        if any(text == other for _, other in mine):
            removed["exact duplicate"] += 1
            continue
        if any(len(shingles & other) / len(shingles | other) >= near_duplicate for other, _ in mine):
            removed["near duplicate"] += 1
            continue
        if len(mine) >= max_per_problem:
            removed["over the per-problem cap"] += 1
            continue
        mine.append((shingles, text))
        kept.append(trace)
    report = {
        "samples": len(rows),
        "kept": len(kept),
        "problems_kept": sum(1 for traces in by_problem.values() if traces),
        "removed_by_rule": dict(removed),
        "max_per_problem": max_per_problem,
        "near_duplicate": near_duplicate,
    }
    return kept, report


def _exported(model: Path, gguf: Path) -> Path:
    """The model folder as an f16 GGUF, made once (again when the folder's weights are newer)."""
    from training.export import export

    weights = [p.stat().st_mtime for p in model.glob("*.safetensors")]
    if not gguf.is_file() or (weights and max(weights) > gguf.stat().st_mtime):
        export(model, gguf, "f16")
    return gguf


def _on_llama(model: Path, folder: Path) -> tuple[Path, Path | None]:
    """The fine-tuned folder as what the llama.cpp backend runs: (model GGUF, adapter GGUF or None), made once.

    A LoRA folder runs as its base model's GGUF (the embedded file when it was trained over the
    embedded model) with the adapter exported beside it; a full model is exported to f16.
    """
    from training.export import _embedded_gguf_if_base

    if not (model / "adapter_config.json").is_file():
        return _exported(model, folder / "model-f16.gguf"), None
    base_dir = Path(json.loads((model / "adapter_config.json").read_text())["base_model_name_or_path"])
    base = _embedded_gguf_if_base(base_dir) or _exported(base_dir, folder / "base-f16.gguf")
    return base, _exported(model, folder / "adapter-f16.gguf")


def stage_rft(recipe: Recipe, console: Console, model: Path, stage: str = "rft") -> Path:
    """Sample each problem K times with the fine-tuned model; keep the right, clean traces (`filter_rft`).
    `stage`: `rft` or a further round's `rft-N`."""
    t0 = time.monotonic()
    r = recipe.rft
    folder = stage_dir(recipe, stage)
    folder.mkdir(parents=True, exist_ok=True)
    samples_path = folder / "samples.jsonl"
    opts = replace(
        engine_options(recipe),
        backend=r.backend,
        model=str(model) if r.backend == "hf" else r.model,
        base_url=r.base_url,
        temperature=r.temperature,
        top_p=r.top_p,
        max_tokens=r.max_tokens,
        hints_enabled=r.hints,
    )
    if r.backend == "llama" and r.model is None:  # the batched llama.cpp path, on the fine-tuned model
        gguf_model, adapter = _on_llama(model, folder)
        opts = replace(opts, model=str(gguf_model), adapter=str(adapter) if adapter else None)
    problems = training_problems(recipe)
    overlap = check_overlap(recipe, problems)
    placeholders: dict[str, str] = {}
    if r.serve_command is not None:
        placeholders["model"] = str(model)
        if "{gguf}" in r.serve_command:  # llama_cpp.server serves GGUF files: the fine-tuned model, exported once
            placeholders["gguf"] = str(_exported(model, folder / "model-f16.gguf"))
        served_files = placeholders.get("gguf", placeholders["model"])  # its template and the profile it learned
        opts = replace(opts, backend="openai", model=None, tokenizer=_served_tokenizer(opts, served_files))
    urls = r.base_urls or ([r.base_url] if r.base_url else [])
    with served(r.serve_command, placeholders, urls, folder, r.serve_timeout_s) as urls:
        sample_runs(
            problems, opts, "rft", samples_path, r.concurrency, samples=r.samples, console=console, base_urls=urls
        )
    kept, report = filter_rft(_read(samples_path), recipe.filter, r.max_per_problem, r.near_duplicate)
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    d_seed = stage_dir(recipe, "hint-rft") / "d_seed.jsonl"
    out = folder / "d_start.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        for t in kept:
            fh.write(json.dumps({"trace": t.to_json()}, ensure_ascii=False) + "\n")
        if d_seed.is_file():  # START trains on D_seed and the rejection-sampled traces together
            fh.write(d_seed.read_text(encoding="utf-8"))
    console.print(
        f"D_START: kept {len(kept)} of {report['samples']} samples (+ D_seed); "
        f"removed: {report['removed_by_rule'] or 'none'}"
    )
    counts = {**report, "decontamination": overlap}
    write_manifest(folder, stage, recipe, [samples_path], counts, t0, origin={"model": str(model)})
    return out


def _move_aside(folder: Path, stage: str) -> Path:
    aside = folder.with_name(f"{stage}.stale-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while aside.exists():
        n += 1
        aside = folder.with_name(f"{stage}.stale-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
    folder.rename(aside)
    return aside


SFT_KINDS = ("sft", "sft-start")


def held_out(recipe: Recipe, stage: str) -> dict[str, Any] | None:
    """The held-out figures (pass@1, tool use) of an SFT stage's model: the last engine_eval record of its
    sft_figures.json, or None."""
    try:
        figures = json.loads((stage_dir(recipe, stage) / "model" / "sft_figures.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    records = [r for r in figures.get("engine_eval") or [] if isinstance(r, dict) and "pass_at_1" in r]
    return records[-1] if records else None


def loop_stopped(recipe: Recipe, stage: str) -> str:
    """Why the RFT round of `stage` does not run ("" when it runs): round N >= 2 runs only if round N-1
    raised the held-out pass@1 above what the model it sampled with had."""
    n = stage_round(stage)
    if n < 2:
        return ""
    last = round_stage("sft-start", n - 1)
    before = "sft" if n == 2 else round_stage("sft-start", n - 2)
    now, then = held_out(recipe, last), held_out(recipe, before)
    if now is None or then is None:
        missing = last if now is None else before
        return f"{missing} has no held-out pass@1 (engine_eval in its model's sft_figures.json)"
    if now["pass_at_1"] <= then["pass_at_1"]:
        return (
            f"held-out pass@1 after {last} is {now['pass_at_1']:.1%}, not above {then['pass_at_1']:.1%} after {before}"
        )
    return ""


def write_held_out(recipe: Recipe, stopped: str) -> Path:
    """`workdir/held_out.json`: every SFT stage's held-out figures, why the loop stopped, the best model."""
    rows = []
    for stage in stages_of(recipe):
        record = held_out(recipe, stage) if stage_kind(stage) in SFT_KINDS else None
        if record is not None:
            rows.append({"stage": stage, "round": stage_round(stage) if stage != "sft" else 0, **record})
    best = max(rows, key=lambda r: r["pass_at_1"], default=None)  # the first of equals
    path = Path(recipe.workdir) / "held_out.json"
    report = {
        "stages": rows,
        "stopped": stopped or None,
        "best": str(stage_dir(recipe, best["stage"]) / "model") if best else None,
    }
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return path


def _require_done(recipe: Recipe, stage: str, earlier: list[str]) -> None:
    for name in earlier:
        state, why = stage_state(recipe, name)
        if state != "done":
            raise StartTuiError(
                f"{stage} runs after {name}, which is {state}{f' ({why})' if why else ''}; "
                f"run {name} first (submit.sh chains the jobs in order)."
            )


def run_pipeline(recipe: Recipe, console: Console, until: str | None = None, only: str | None = None) -> None:
    """hint-infer -> hint-rft -> sft -> rft -> sft again (or up to `until`), then further RFT rounds while the
    held-out pass@1 rises, skipping complete stages.

    `only`: that stage alone, under the same rules (a job of `train pipeline --print-only`); refused
    while a stage before it is not done, and a no-op for a round that the held-out figures stopped.
    """
    from training.launch import check_launch

    start = time.monotonic()
    order = check_stage_names(recipe, until, only)
    if only is not None:
        until = only
        n = stage_round(only)
        before = order[: order.index(only)]
        _require_done(recipe, only, [s for s in before if stage_round(s) < n])
        # the rounds before are done: whether this round runs is known
        if n >= 2 and (stopped := loop_stopped(recipe, only)):
            console.print(f"{only}: RFT round {n} does not run: {stopped}.", markup=False)
            return
        _require_done(recipe, only, [s for s in before if stage_round(s) == n])
    stages = order[: order.index(until) + 1] if until else order
    if any(stage.startswith("sft") and stage_state(recipe, stage)[0] != "done" for stage in stages):
        check_launch(recipe)  # before hours of sampling, not after them
    ran = stopped = ""
    for i, stage in enumerate(stages):
        if stage_kind(stage) == "rft" and (stopped := loop_stopped(recipe, stage)):
            console.print(f"RFT round {stage_round(stage)} does not run: {stopped}.", markup=False)
            stages = stages[:i]
            break
        folder = stage_dir(recipe, stage)
        state, why = stage_state(recipe, stage)
        if ran and folder.exists():  # anything here was made from what the earlier stage made before
            state, why = "stale", f"{ran} ran again before it"
        if state == "done":
            console.print(f"[dim]{stage}: done already ({folder / 'manifest.json'})[/]")
            continue
        if state == "stale":  # its outputs would be resumed from: they go aside, whole
            aside = _move_aside(folder, stage)
            console.print(f"{stage}: {why}; running it again (what it made before is in {aside})")
        ran = ran or stage
        mark_started(recipe, stage)
        console.rule(stage)
        if stage == "hint-infer":
            stage_hint_infer(recipe, console)
        elif stage == "hint-rft":
            stage_hint_rft(recipe, console)
        elif stage == "sft":
            d_seed = Path(pipeline_origin(recipe, stage)["data"])
            if not any(line.strip() for line in d_seed.read_text().splitlines()):
                raise StartTuiError("D_seed is empty (see hint-rft/report.json); there is nothing to fine-tune on.")
            stage_sft(recipe, console, d_seed)
        elif stage_kind(stage) == "rft":
            stage_rft(recipe, console, Path(pipeline_origin(recipe, stage)["model"]), stage)
        else:
            cfg = recipe.second_sft or recipe.sft
            stage_sft(recipe, console, Path(pipeline_origin(recipe, stage)["data"]), stage, cfg=cfg)
    for stage in order[len(stages) :] if ran else ():  # beyond --until: made from what is replaced now
        folder = stage_dir(recipe, stage)
        if folder.exists():
            aside = _move_aside(folder, stage)
            console.print(
                f"{stage}: {ran} ran again before it; what it made is in {aside}, and it runs again next time"
            )
    if any(stage_kind(s) in SFT_KINDS for s in stages):
        report = write_held_out(recipe, stopped)
        for row in json.loads(report.read_text(encoding="utf-8"))["stages"]:
            console.print(
                f"held out after {row['stage']}: pass@1 {row['pass_at_1']:.1%}, tool use {row['tool_use']:.1%} "
                f"({row['problems']} problems)",
                markup=False,
            )
    last = stage_dir(recipe, stages[-1])
    result = last / "model" if stages[-1].startswith("sft") else last
    console.print(f"pipeline done in {time.monotonic() - start:.0f} s: {result}")
