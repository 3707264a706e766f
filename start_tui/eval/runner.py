"""`start-tui eval`: pass@k per benchmark and setting (hints off, hints on with N rounds), resumable.

Every (problem, setting, sample) is one run; its row goes to `rows.jsonl` in the output folder as
soon as it ends, and its trace to `traces.jsonl`. A second invocation with the same folder skips
the rows already there. At the end: `summary.json`, a table like the paper's, and the test-time
scaling curve (accuracy against hint rounds) as `scaling.png` and in the terminal.
"""

from __future__ import annotations

import argparse
import json
import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from start_tui.batch import solve_many
from start_tui.benchmarks import BENCHMARKS, Problem, load_benchmark
from start_tui.engine import Trace
from start_tui.errors import StartTuiError
from start_tui.eval.code import last_program, passes_samples, sample_tests
from start_tui.eval.grading import choice_letter, grade_choice, is_equivalent
from start_tui.options import EngineOptions
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


def summarize(rows: list[dict[str, Any]], samples: int) -> dict[str, Any]:
    """pass@1 (mean over samples) and pass@k per benchmark and setting."""
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
    return out


def render_table(summary: dict[str, Any], console: Console) -> None:
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
    rows_path, traces_path = out / "rows.jsonl", out / "traces.jsonl"
    done = {row_key(r) for r in read_rows(rows_path)}
    todo: list[tuple[str, Problem, Setting, int]] = []
    for source in sources:
        loaded = load_benchmark(source)
        for number, why in loaded.skipped:
            console.print(f"[yellow]{loaded.path}:{number} skipped: {why}[/]")
        problems = loaded.problems
        if ids:
            problems = [p for p in problems if p.id in set(ids)]
        problems = problems[:limit] if limit is not None else problems
        for setting in settings:
            for k in range(samples):
                for p in problems:
                    if (loaded.name, p.id, setting.hints, setting.rounds, k) not in done:
                        todo.append((loaded.name, p, setting, k))
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
            groups: dict[tuple[Setting, int], list[tuple[str, Problem]]] = defaultdict(list)
            for bench, p, setting, k in todo:
                groups[(setting, k)].append((bench, p))
            for (setting, k), items in groups.items():
                run_opts = replace(
                    opts,
                    hints_enabled=setting.hints,
                    rounds=setting.rounds,
                    seed=opts.seed + k,
                    temperature=opts.temperature if samples == 1 or opts.temperature is not None else 0.6,
                )
                benches = {id(p): b for b, p in items}
                progress.update(task, description=f"{setting.label}" + (f", sample {k + 1}" if samples > 1 else ""))

                def finished(o: Any, setting: Setting = setting, k: int = k, benches: dict = benches) -> None:
                    bench = benches[id(o.problem)]
                    predicted, ok, note = grade(kind_of(bench), o.problem, o.trace, grader_box)
                    s = o.trace.stats if o.trace else {}
                    row = {
                        "benchmark": bench,
                        "id": o.problem.id,
                        "hints": setting.hints,
                        "round": setting.rounds,
                        "sample": k,
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
    rows = read_rows(rows_path)
    table = summarize(rows, samples)
    summary: dict[str, Any] = {
        "benchmarks": table,
        "samples": samples,
        "settings": [s.label for s in settings],
        "model": opts.model or "embedded",
        "backend": opts.backend,
    }
    if any(kind_of(r["benchmark"]) == "code" for r in rows):
        summary["note"] = SAMPLE_TEST_NOTE
    curves = scaling_points(table)
    png = save_curve(curves, out / "scaling.png")
    summary["scaling_curve"] = str(png) if png else None
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    render_table(table, console)
    terminal_curve(curves, console)
    if "note" in summary:
        console.print(f"[yellow]{SAMPLE_TEST_NOTE}[/]")
    console.print(f"rows: {rows_path} · summary: {out / 'summary.json'}" + (f" · curve: {png}" if png else ""))
    return summary


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
    p.add_argument(
        "--samples", type=int, default=1, help="runs per problem for pass@k (default 1; >1 samples at T 0.6)"
    )
    p.add_argument("--out", default="eval-out", help="output folder; rerunning with it resumes (default eval-out)")
    p.add_argument("--concurrency", "-j", type=int, default=1, help="runs in flight (served backend; default 1)")
    p.add_argument("--rounds", default="0,1,2,4", help="hint rounds before the end of thinking (default 0,1,2,4)")
    add_options(p, "eval")
    p.set_defaults(func=_cmd_eval)


def _cmd_eval(args: argparse.Namespace) -> int:
    from start_tui.options import options_from_args

    if args.samples < 1:
        raise StartTuiError("--samples must be at least 1.")
    opts = options_from_args(args, "eval")
    run_eval(
        args.benchmark,
        opts,
        settings_from(args.hints, args.rounds),
        Path(args.out),
        samples=args.samples,
        limit=args.limit,
        ids=args.ids.split(",") if args.ids else None,
        concurrency=args.concurrency,
    )
    return 0
