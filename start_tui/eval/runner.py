"""`start-tui eval`: pass@1, pass@K and maj@K per benchmark and setting (hints off, hints on with N rounds), resumable.

Every (problem, setting, sample) is one run; its row goes to `rows.jsonl` in the output folder and
its trace to `traces.jsonl`. With `--samples K` the K samples of a problem are decoded together
(hint-diverse, one batch) and voted on; their K rows and the vote (`votes.jsonl`) are written
together when the last one ends. A second invocation with the same folder skips what is there.
At the end: `summary.json`, a table like the paper's, and the test-time scaling picture as
`scaling.png` and in the terminal: accuracy against hint rounds, and with K > 1 also against
parallel samples (maj@k), both at the generated tokens they cost.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from start_tui.batch import SetOutcome, solve_many, solve_sets
from start_tui.benchmarks import BENCHMARKS, Problem, load_readable
from start_tui.engine import Trace
from start_tui.engine.answer import is_equivalent
from start_tui.engine.samples import SampleSet, is_clean
from start_tui.engine.vote import Vote, vote_by_key
from start_tui.errors import StartTuiError
from start_tui.eval.code import last_program, passes_samples, sample_outputs, sample_tests
from start_tui.eval.grading import choice_letter, grade_choice
from start_tui.eval.scaling import render_two_axis, save_two_axis, two_axis
from start_tui.options import EngineOptions, model_label, prepare_model
from start_tui.sandbox import Sandbox

SAMPLE_TEST_NOTE = (
    "LiveCodeBench is scored on the sample tests shown in each prompt (the file has no hidden tests): "
    "a sample-test score, not LiveCodeBench's."
)


@dataclass(frozen=True)
class Setting:
    hints: bool
    rounds: int

    @property
    def label(self) -> str:
        return f"hints, {self.rounds} round{'s' if self.rounds != 1 else ''}" if self.hints else "no hints"


def settings_from(hints: str, rounds: str) -> list[Setting]:
    modes = [h.strip() for h in hints.split(",") if h.strip()]
    if not modes or any(m not in ("on", "off") for m in modes):
        raise StartTuiError(f"--hints takes on, off or on,off (got {hints!r}).")
    try:
        counts = sorted({int(r) for r in rounds.split(",") if r.strip()})
    except ValueError:
        raise StartTuiError(f"--rounds takes comma-separated whole numbers such as 0,1,2,4 (got {rounds!r}).") from None
    if not counts or min(counts) < 0:
        raise StartTuiError(f"--rounds takes comma-separated whole numbers such as 0,1,2,4 (got {rounds!r}).")
    out = [Setting(False, 0)] if "off" in modes else []
    if "on" in modes:
        out += [Setting(True, r) for r in counts]
    return out


def kind_of(benchmark: str) -> str:
    return {"gpqa": "choice", "livecodebench": "code"}.get(benchmark, "math")


def model_text(trace: Trace) -> str:
    return "".join(s.text for s in trace.spans if s.kind == "model")


def grade(kind: str, problem: Problem, trace: Trace | None, sandbox: Sandbox) -> tuple[str | None, bool, str]:
    """(predicted, correct, note) for one run."""
    if trace is None:
        return None, False, "no trace"
    if kind == "choice":
        letter = choice_letter(trace.answer) or choice_letter(model_text(trace)[-300:])
        return letter, letter is not None and grade_choice(letter, problem.answer), ""
    if kind == "code":
        program = last_program(model_text(trace))
        tests = sample_tests(problem.problem)
        if program is None:
            return None, False, "no python block in the answer"
        if tests is None:
            return program, False, "no sample tests found in the prompt"
        ok, why = passes_samples(program, tests, sandbox)
        return program, ok, why
    answer = trace.answer
    return answer, answer is not None and is_equivalent(answer, problem.answer), ""


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct (Chen et al., 2021)."""
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def row_key(row: dict[str, Any]) -> tuple[str, str, bool, int, int]:
    return (row["benchmark"], str(row["id"]), bool(row["hints"]), int(row["round"]), int(row["sample"]))


def read_rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    if path.exists():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise StartTuiError(f"{path}:{number} is not JSON; fix or remove that line to resume.") from None
    return rows


def summarize(rows: list[dict[str, Any]], samples: int, votes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """pass@1 (mean over samples), pass@k and maj@k (from the votes) per benchmark and setting."""
    groups: dict[tuple[str, str], dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    tokens: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r in rows:
        label = Setting(bool(r["hints"]), int(r["round"])).label
        groups[(r["benchmark"], label)][str(r["id"])].append(bool(r["correct"]))
        tokens[(r["benchmark"], label)].append(int(r.get("tokens") or 0))
    out: dict[str, Any] = {}
    for (bench, label), per_problem in sorted(groups.items()):
        n_problems = len(per_problem)
        p1 = sum(sum(v) / len(v) for v in per_problem.values()) / n_problems
        entry = {
            "problems": n_problems,
            "runs": sum(len(v) for v in per_problem.values()),
            "pass@1": round(p1, 4),
            "mean_tokens": round(sum(tokens[(bench, label)]) / max(1, len(tokens[(bench, label)])), 1),
        }
        if samples > 1:
            entry[f"pass@{samples}"] = round(
                sum(pass_at_k(len(v), sum(v), min(samples, len(v))) for v in per_problem.values()) / n_problems, 4
            )
        out.setdefault(bench, {})[label] = entry
    for v in votes or []:
        label = Setting(bool(v["hints"]), int(v["round"])).label
        entry = out.get(v["benchmark"], {}).get(label)
        if entry is not None:
            entry.setdefault("_votes", []).append(bool(v["correct"]))
    for by_label in out.values():
        for entry in by_label.values():
            voted = entry.pop("_votes", None)
            if voted:
                entry[f"maj@{samples}"] = round(sum(voted) / len(voted), 4)
    return out


def render_table(summary: dict[str, Any], console: Console, samples: int = 1) -> None:
    labels = sorted({label for b in summary.values() for label in b}, key=lambda s: (s != "no hints", s))
    table = Table(title="pass@1 (%)", title_justify="left")
    table.add_column("benchmark")
    for label in labels:
        table.add_column(label, justify="right")
    for bench, by_label in summary.items():
        cells = []
        for label in labels:
            e = by_label.get(label)
            cells.append(f"{100 * e['pass@1']:.1f} ({e['problems']})" if e else "-")
        table.add_row(bench, *cells)
        for measure in (f"maj@{samples}", f"pass@{samples}") if samples > 1 else ():
            cells = []
            for label in labels:
                e = by_label.get(label)
                cells.append(f"{100 * e[measure]:.1f}" if e and measure in e else "-")
            table.add_row(f"  {measure}", *cells)
    console.print(table)


def scaling_points(summary: dict[str, Any]) -> dict[str, list[tuple[int, float]]]:
    curves: dict[str, list[tuple[int, float]]] = {}
    for bench, by_label in summary.items():
        pts = []
        for label, e in by_label.items():
            if label != "no hints":
                pts.append((int(label.split(", ")[1].split()[0]), e["pass@1"]))
        if pts:
            curves[bench] = sorted(pts)
    return curves


def terminal_curve(curves: dict[str, list[tuple[int, float]]], console: Console, width: int = 40) -> None:
    """Accuracy against hint rounds, as bars in the terminal."""
    for bench, pts in curves.items():
        console.print(f"[bold]{bench}[/]: accuracy against hint rounds before the stop")
        for rounds, acc in pts:
            bar = "█" * round(acc * width)
            console.print(f"  {rounds:>2} round{'s' if rounds != 1 else ' '} │{bar:<{width}}│ {100 * acc:5.1f}%")


def save_curve(curves: dict[str, list[tuple[int, float]]], path: Path) -> Path | None:
    if not curves:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for bench, pts in curves.items():
        ax.plot([p[0] for p in pts], [100 * p[1] for p in pts], marker="o", label=bench)
    ax.set_xlabel("hint rounds before the end of thinking")
    ax.set_ylabel("pass@1 (%)")
    ax.set_title("Sequential test-time scaling (Hint-infer)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def run_eval(
    sources: list[str],
    opts: EngineOptions,
    settings: list[Setting],
    out: Path,
    samples: int = 1,
    limit: int | None = None,
    ids: list[str] | None = None,
    concurrency: int = 1,
    console: Console | None = None,
) -> dict[str, Any]:
    """Run what is missing in `out`, then write and return the summary."""
    console = console or Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    prepare_model(opts)  # an embedded model's first assembly draws its bar before the progress starts
    rows_path, traces_path = out / "rows.jsonl", out / "traces.jsonl"
    if samples > 1:
        return _run_sampled(sources, opts, settings, out, samples, limit, ids, concurrency, console)
    # one run of each problem and setting from here on: K samples per problem went to _run_sampled
    done = {row_key(r) for r in read_rows(rows_path)}
    todo: list[tuple[str, Problem, Setting]] = []
    for source in sources:
        loaded = load_readable(source, lambda line: console.print(f"[yellow]{escape(line)}[/]"))
        problems = loaded.problems
        if ids:
            problems = [p for p in problems if p.id in set(ids)]
        problems = problems[:limit] if limit is not None else problems
        for setting in settings:
            for p in problems:
                if (loaded.name, p.id, setting.hints, setting.rounds, 0) not in done:
                    todo.append((loaded.name, p, setting))
    skipped = len(done)
    if skipped:
        console.print(f"resuming: {skipped} runs already in {rows_path}, {len(todo)} to go")
    lock = threading.Lock()
    correct = [0, 0]
    tokens = [0]
    started = time.monotonic()
    with Sandbox() as grader_box:
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("acc {task.fields[acc]} · {task.fields[rate]} tok/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        with progress:
            task = progress.add_task("eval", total=len(todo), acc="-", rate="-")
            groups: dict[Setting, list[tuple[str, Problem]]] = defaultdict(list)
            for bench, p, setting in todo:
                groups[setting].append((bench, p))
            for setting, items in groups.items():
                run_opts = replace(opts, hints_enabled=setting.hints, rounds=setting.rounds)
                benches = {id(p): b for b, p in items}
                progress.update(task, description=setting.label)

                def finished(o: Any, setting: Setting = setting, benches: dict = benches) -> None:
                    bench = benches[id(o.problem)]
                    predicted, ok, note = grade(kind_of(bench), o.problem, o.trace, grader_box)
                    s = o.trace.stats if o.trace else {}
                    row = {
                        "benchmark": bench,
                        "id": o.problem.id,
                        "hints": setting.hints,
                        "round": setting.rounds,
                        "sample": 0,
                        "predicted": predicted,
                        "gold": o.problem.answer or None,
                        "correct": ok,
                        "tokens": s.get("tokens_generated", 0),
                        "tool_calls": s.get("tool_calls", 0),
                        "seconds": round(o.seconds, 3),
                        "trace_path": str(traces_path),
                        "trace_id": o.trace.id if o.trace else None,
                        "note": o.error or note,
                    }
                    with lock:
                        with rows_path.open("a", encoding="utf-8") as f:
                            f.write(json.dumps(row, ensure_ascii=False) + "\n")
                        correct[0] += ok
                        correct[1] += 1
                        rate = tokens[0] / max(1e-9, time.monotonic() - started)
                        progress.update(
                            task, advance=1, acc=f"{100 * correct[0] / correct[1]:.1f}%", rate=f"{rate:.1f}"
                        )

                solve_many([p for _, p in items], run_opts, concurrency, traces_path, on_done=finished, tokens=tokens)
    return write_summary(out, opts, settings, samples, console)


def write_summary(out: Path, opts: EngineOptions, settings: list[Setting], samples: int, console: Console) -> dict:
    """summary.json, the table and the scaling picture from what the folder holds."""
    rows_path = out / "rows.jsonl"
    rows = read_rows(rows_path)
    votes = read_rows(out / "votes.jsonl") if samples > 1 else []
    table = summarize(rows, samples, votes)
    summary: dict[str, Any] = {
        "benchmarks": table,
        "samples": samples,
        "settings": [s.label for s in settings],
        "model": model_label(opts),
        "backend": opts.backend,
    }
    if any(kind_of(r["benchmark"]) == "code" for r in rows):
        summary["note"] = SAMPLE_TEST_NOTE
    if samples > 1:
        two = two_axis(rows, votes)
        png = save_two_axis(two, out / "scaling.png")
        summary["two_axis"] = {bench: [asdict(p) for p in points] for bench, points in two.items()}
    else:
        curves = scaling_points(table)
        png = save_curve(curves, out / "scaling.png")
    summary["scaling_curve"] = str(png) if png else None
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    render_table(table, console, samples)
    if samples > 1:
        render_two_axis(two, console)
    else:
        terminal_curve(curves, console)
    if "note" in summary:
        console.print(f"[yellow]{SAMPLE_TEST_NOTE}[/]")
    console.print(f"rows: {rows_path} · summary: {out / 'summary.json'}" + (f" · curve: {png}" if png else ""))
    return summary


def vote_key(row: dict[str, Any]) -> tuple[str, str, bool, int]:
    return (row["benchmark"], str(row["id"]), bool(row["hints"]), int(row["round"]))


def _keep_voted(rows_path: Path, voted: set[tuple[str, str, bool, int]]) -> None:
    """Drop the sample rows of sets that an interrupted run left without a vote (they run again)."""
    rows = read_rows(rows_path)
    kept = [r for r in rows if vote_key(r) in voted]
    if len(kept) != len(rows):
        tmp = rows_path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8")
        os.replace(tmp, rows_path)


def vote_of(kind: str, problem: Problem, group: SampleSet, predicted: list[Any], sandbox: Sandbox) -> Vote:
    """Math votes by equivalence, choices by letter, code by the outputs on the sample tests."""
    clean = [is_clean(run) for run in group.runs]
    if kind == "math":
        return group.vote()
    if kind == "choice":
        return vote_by_key(predicted, predicted, clean)
    tests = sample_tests(problem.problem)
    keys: list[tuple[str, ...] | None] = []
    for program in predicted:
        outputs = sample_outputs(program, tests, sandbox)[0] if program and tests else None
        keys.append(tuple(outputs) if outputs is not None else None)
    shown = [None if k is None else "outputs " + " | ".join(k)[:60] for k in keys]
    return vote_by_key(keys, shown, clean)


def _run_sampled(
    sources: list[str],
    opts: EngineOptions,
    settings: list[Setting],
    out: Path,
    samples: int,
    limit: int | None,
    ids: list[str] | None,
    concurrency: int,
    console: Console,
) -> dict[str, Any]:
    """Every (problem, setting) as one set of K samples decoded together, then voted."""
    rows_path, votes_path, traces_path = out / "rows.jsonl", out / "votes.jsonl", out / "traces.jsonl"
    voted = {vote_key(v) for v in read_rows(votes_path)}
    _keep_voted(rows_path, voted)
    todo: list[tuple[str, Problem, Setting]] = []
    for source in sources:
        loaded = load_readable(source, lambda line: console.print(f"[yellow]{escape(line)}[/]"))
        problems = [p for p in loaded.problems if not ids or p.id in set(ids)]
        problems = problems[:limit] if limit is not None else problems
        for setting in settings:
            for p in problems:
                if (loaded.name, p.id, setting.hints, setting.rounds) not in voted:
                    todo.append((loaded.name, p, setting))
    if voted:
        console.print(f"resuming: {len(voted)} sets already in {votes_path}, {len(todo)} to go")
    items = [(p, replace(opts, hints_enabled=setting.hints, rounds=setting.rounds)) for _, p, setting in todo]
    lock = threading.Lock()
    tally = {"sets": 0, "voted_right": 0}
    tokens = [0]
    started = time.monotonic()
    with Sandbox() as grader_box:
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("maj@{task.fields[k]} {task.fields[acc]} · {task.fields[rate]} tok/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        )

        def finished(i: int, o: SetOutcome) -> None:
            bench, problem, setting = todo[i]
            group = o.group
            kind = kind_of(bench)
            graded = [grade(kind, problem, run.trace, grader_box) for run in group.runs]
            result = vote_of(kind, problem, group, [g[0] for g in graded], grader_box)
            right = [k for k, g in enumerate(graded) if g[1]]
            ok = result.winner is not None and result.winner.members[0] in right
            key = {"benchmark": bench, "id": problem.id, "hints": setting.hints, "round": setting.rounds}
            lines = []
            for k, (run, (answer, correct, note)) in enumerate(zip(group.runs, graded, strict=True)):
                s = run.trace.stats
                error = group.errors.get(k)
                lines.append(
                    {
                        **key,
                        "sample": k,
                        "predicted": answer,
                        "gold": problem.answer or None,
                        "correct": correct,
                        "tokens": s.get("tokens_generated", 0),
                        "tool_calls": s.get("tool_calls", 0),
                        "seconds": round(o.seconds, 3),
                        "trace_path": str(traces_path),
                        "trace_id": run.trace.id,
                        "set": group.id,
                        "note": str(error) if error else note,
                    }
                )
            vote_row = {
                **key,
                "set": group.id,
                "voted": result.answer,
                "correct": ok,
                "correct_members": right,
                "vote": result.to_dict(),
            }
            with lock:  # the K rows and the vote go together: a set is either all there or rerun
                with rows_path.open("a", encoding="utf-8") as f:
                    f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines))
                with votes_path.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(vote_row, ensure_ascii=False) + "\n")
                tally["sets"] += 1
                tally["voted_right"] += ok
                rate = tokens[0] / max(1e-9, time.monotonic() - started)
                acc = f"{100 * tally['voted_right'] / tally['sets']:.1f}%"
                progress.update(task, advance=1, acc=acc, rate=f"{rate:.1f}")

        with progress:
            task = progress.add_task(f"{samples} samples per problem", total=len(todo), k=samples, acc="-", rate="-")
            solve_sets(items, opts, concurrency, traces_path, on_done=finished, tokens=tokens)
    return write_summary(out, opts, settings, samples, console)


def add_eval_parser(sub: Any) -> None:
    from start_tui.options import add_options

    p = sub.add_parser("eval", help="pass@k on math500, aime24/25, amc23, gpqa, livecodebench or your JSONL")
    p.add_argument(
        "--benchmark",
        action="append",
        required=True,
        help=f"{', '.join(BENCHMARKS)} or a JSONL file (repeat for several)",
    )
    p.add_argument("--limit", type=int, help="the first N problems of each benchmark")
    p.add_argument("--ids", help="comma-separated problem ids")
    p.add_argument("--hints", default="on,off", help="on, off, or on,off (default on,off)")
    p.add_argument("--out", default="eval-out", help="output folder; rerunning with it resumes (default eval-out)")
    p.add_argument(
        "--concurrency",
        "-j",
        type=int,
        default=1,
        help="runs in flight: requests to a server, or lanes decoded together on a local model (default 1)",
    )
    p.add_argument("--rounds", default="0,1,2,4", help="hint rounds before the end of thinking (default 0,1,2,4)")
    add_options(p, "eval")
    p.set_defaults(func=_cmd_eval)


def _cmd_eval(args: argparse.Namespace) -> int:
    from start_tui.options import options_from_args

    opts = options_from_args(args, "eval")
    run_eval(
        args.benchmark,
        opts,
        settings_from(args.hints, args.rounds),
        Path(args.out),
        samples=opts.samples,
        limit=args.limit,
        ids=args.ids.split(",") if args.ids else None,
        concurrency=args.concurrency,
    )
    return 0
