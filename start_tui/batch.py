"""Many problems at once, with a rich progress display.

Each worker thread owns a reasoner and takes the next problem when it is free, so at most
`concurrency` problems are in flight: against a served backend, a reasoner per worker (its own HTTP
client and sandbox); on a local model (llama.cpp, transformers), a lane per worker of one batched
context, so the problems in flight are decoded together, one model call a step, and the prompt they
share is held once. Evaluation and training-data generation use `solve_many`; `start-tui batch` is its
command line.
"""

from __future__ import annotations

import argparse
import json
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from start_tui.backends import Lanes
from start_tui.backends.base import BackendError
from start_tui.benchmarks import Problem, load_readable
from start_tui.engine import Reasoner, Trace
from start_tui.engine.samples import SampleSet
from start_tui.errors import StartTuiError
from start_tui.options import EngineOptions, build_reasoner
from start_tui.sandbox import Sandbox


@dataclass
class Outcome:
    problem: Problem
    trace: Trace | None
    error: str | None
    seconds: float
    lost: bool = False
    """The model went away mid-run (a server stopped answering): the run did not happen, not a wrong one."""

    @property
    def answer(self) -> str | None:
        return self.trace.answer if self.trace is not None else None


def solve_many(
    problems: Sequence[Problem],
    opts: EngineOptions,
    concurrency: int = 1,
    trace_path: str | Path | None = None,
    on_done: Callable[[Outcome], None] | None = None,
    tokens: list[int] | None = None,
    build: Callable[[EngineOptions], tuple[Reasoner, Sandbox]] = build_reasoner,
) -> list[Outcome]:
    """Solve `problems` with at most `concurrency` at once; outcomes come back in the problems' order.

    `on_done` is called (from a worker thread) as each problem ends. `tokens`, when given, is a
    one-element list kept up to date with the tokens generated so far (for a rate display). An
    error in one problem (a server hiccup past its retries) is recorded in its outcome; the
    others go on. Errors that would hit every problem (the server is down, a bad option) are
    raised before any work starts. On a local model more than one problem at a time runs on lanes
    of one batched context (`build` is then not used: the lanes make the reasoners).
    """
    if concurrency < 1:
        raise StartTuiError("--concurrency must be at least 1.")
    workers = min(concurrency, len(problems)) or 1
    release: Callable[[], None] | None = None
    if workers > 1 and opts.backend != "openai":
        reasoners, release = _on_lanes(opts, workers)
    else:
        reasoners = [build(opts) for _ in range(workers)]  # fails fast, before any problem starts
    todo: queue.Queue[int] = queue.Queue()
    for i in range(len(problems)):
        todo.put(i)
    results: list[Outcome | None] = [None] * len(problems)
    lock = threading.Lock()
    counted = [0] * workers

    def work(slot: int) -> None:
        reasoner, _ = reasoners[slot]
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            problem = problems[i]
            t0 = time.monotonic()
            run = None
            try:
                run = reasoner.start(problem.problem, trace_path=trace_path)
                for _ in run.events():
                    if tokens is not None:
                        with lock:
                            now = run.tokens_generated
                            tokens[0] += now - counted[slot]
                            counted[slot] = now
                outcome = Outcome(problem, run.trace, None, time.monotonic() - t0)
            except StartTuiError as exc:
                lost = isinstance(exc, BackendError)
                outcome = Outcome(problem, run.trace if run else None, str(exc), time.monotonic() - t0, lost)
            counted[slot] = 0
            results[i] = outcome
            if on_done is not None:
                on_done(outcome)

    threads = [threading.Thread(target=work, args=(s,), name=f"solve-{s}", daemon=True) for s in range(workers)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.2)
    finally:
        if release is not None:
            release()
        else:
            for reasoner, sandbox in reasoners:
                sandbox.close()
                reasoner.backend.close()
    return [r for r in results if r is not None]


def _on_lanes(opts: EngineOptions, k: int) -> tuple[list[tuple[Reasoner, Sandbox]], Callable[[], None]]:
    """`k` reasoners on lanes of one local model, sharing a sandbox, and what frees them all."""
    from start_tui.backends import open_lanes
    from start_tui.options import check_options, make_reasoner, open_model, open_sandbox

    library = check_options(opts)  # fail before loading a model
    backend = open_model(opts)
    try:
        lanes = open_lanes(backend, k)
    except BaseException:
        backend.close()
        raise
    sandbox = open_sandbox(opts)

    def release() -> None:
        sandbox.close()
        lanes.close()
        backend.close()

    return [(make_reasoner(opts, lane, sandbox, library), sandbox) for lane in lanes.lanes], release


@dataclass
class SetOutcome:
    """The K samples of one problem, decoded together."""

    problem: Problem
    group: SampleSet
    seconds: float


def solve_sets(
    items: Sequence[tuple[Problem, EngineOptions]],
    opts: EngineOptions,
    concurrency: int = 1,
    trace_path: str | Path | None = None,
    on_done: Callable[[int, SetOutcome], None] | None = None,
    tokens: list[int] | None = None,
) -> None:
    """`opts.samples` hint-diverse samples of each problem, decoded together (one batch per set).

    Each item is a problem and the options its samples run with (a setting of hints and rounds);
    the model, the sandbox and K come from `opts`. `on_done(index, outcome)` is called (from a
    worker thread) as each set ends. With a served backend `concurrency` sets are in flight at
    once (K requests each); a local model decodes one set at a time, its K samples together.
    """
    from start_tui.backends import open_lanes
    from start_tui.engine.samples import derive_samples
    from start_tui.options import check_options, make_reasoner, open_model, open_sandbox

    if concurrency < 1:
        raise StartTuiError("--concurrency must be at least 1.")
    if concurrency > 1 and opts.backend != "openai":
        raise StartTuiError(
            f"Concurrency above 1 needs a served backend (--backend openai); {opts.backend} decodes one set of "
            "samples at a time (its samples together)."
        )
    library = check_options(opts)  # fail before loading a model
    todo: queue.Queue[int] = queue.Queue()
    for i in range(len(items)):
        todo.put(i)
    lock = threading.Lock()
    failed: list[BaseException] = []
    backend = open_model(opts)
    try:
        with open_sandbox(opts) as sandbox:

            def work(lanes: Lanes) -> None:
                try:
                    take(lanes)
                except BaseException as exc:  # raised again on the calling thread
                    failed.append(exc)

            def take(lanes: Lanes) -> None:
                while not failed:
                    try:
                        i = todo.get_nowait()
                    except queue.Empty:
                        return
                    problem, item_opts = items[i]
                    base = make_reasoner(item_opts, lanes.lanes[0], sandbox, library)
                    reasoners = derive_samples(
                        base,
                        lanes.lanes,
                        diverse=item_opts.diverse_hints,
                        temperature=item_opts.temperature,
                        top_p=item_opts.top_p,
                    )
                    t0 = time.monotonic()
                    group = SampleSet(reasoners, problem.problem, trace_path)
                    counted = [0] * len(group)
                    for k, _ in group.events():
                        if tokens is not None:
                            now = group.runs[k].tokens_generated
                            with lock:
                                tokens[0] += now - counted[k]
                            counted[k] = now
                    if on_done is not None:
                        on_done(i, SetOutcome(problem, group, time.monotonic() - t0))

            lane_sets = [open_lanes(backend, opts.samples) for _ in range(min(concurrency, len(items)) or 1)]
            try:
                threads = [threading.Thread(target=work, args=(lanes,), daemon=True) for lanes in lane_sets]
                for t in threads:
                    t.start()
                for t in threads:
                    while t.is_alive():
                        t.join(0.2)
            finally:
                for lanes in lane_sets:
                    lanes.close()
    finally:
        backend.close()
    if failed:
        raise failed[0]


def load_problems(
    source: str,
    limit: int | None = None,
    ids: Sequence[str] | None = None,
    warn: Callable[[str], None] = lambda line: None,
) -> list[Problem]:
    """Problems from a benchmark name or JSONL file (with a `problem` field; `id` and `answer` when there),
    or a plain text file (one per line). Each row that cannot be read goes to `warn`; a file with no
    readable row is refused in one sentence."""
    path = Path(source)
    if path.suffix == ".txt":
        from start_tui.userfiles import read_user_text

        lines = [line.strip() for line in read_user_text(source, "problem list").splitlines() if line.strip()]
        problems = [Problem(id=str(i + 1), benchmark=path.stem, problem=t, answer="") for i, t in enumerate(lines)]
    else:
        problems = load_readable(source, warn, graded=False).problems
    if ids:
        wanted = set(ids)
        problems = [p for p in problems if p.id in wanted]
        missing = wanted - {p.id for p in problems}
        if missing:
            raise StartTuiError(f"{source} has no problem with id {', '.join(sorted(missing))}.")
    return problems[:limit] if limit is not None else problems


def add_batch_parser(sub: Any) -> None:
    from start_tui.options import add_options

    p = sub.add_parser("batch", help="solve many problems at once (a served backend, or lanes of a local model)")
    p.add_argument("source", help="a benchmark name (math500, aime24...), a JSONL file, or a .txt file of problems")
    p.add_argument("--limit", type=int, help="the first N problems")
    p.add_argument("--ids", help="comma-separated problem ids")
    p.add_argument(
        "--concurrency",
        "-j",
        type=int,
        default=1,
        help="problems in flight at once: requests to a server, or lanes decoded together on a local model (default 1)",
    )
    p.add_argument("--traces", help="append every run's trace to this JSONL file")
    p.add_argument("--out", help="write one JSON line per problem (id, answer, gold, tokens, time, error) here")
    add_options(p, "batch")
    p.set_defaults(func=run_batch)


def run_batch(args: argparse.Namespace) -> int:
    from start_tui.options import options_from_args, prepare_model

    console = Console(stderr=True)

    def warn(line: str) -> None:
        console.print(f"[yellow]{escape(line)}[/]")

    problems = load_problems(args.source, args.limit, args.ids.split(",") if args.ids else None, warn)
    if not problems:
        raise StartTuiError(f"{args.source} has no problems to solve.")
    opts = options_from_args(args, "batch")
    prepare_model(opts)  # an embedded model's first assembly draws its bar before the progress starts
    out = open(args.out, "a", encoding="utf-8") if args.out else None  # noqa: SIM115
    tokens = [0]
    answered = [0]
    write_lock = threading.Lock()
    errors: list[str] = []
    started = time.monotonic()
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("answered {task.fields[answered]} · {task.fields[rate]} tok/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    task = progress.add_task(f"solving (x{args.concurrency})", total=len(problems), answered=0, rate="-")

    def done(o: Outcome) -> None:
        answered[0] += o.answer is not None
        if o.error:
            errors.append(f"{o.problem.id}: {o.error}")
        if out is not None:
            s = o.trace.stats if o.trace else {}
            row = {
                "id": o.problem.id,
                "answer": o.answer,
                "gold": o.problem.answer or None,
                "tokens": s.get("tokens_generated"),
                "tool_calls": s.get("tool_calls"),
                "seconds": round(o.seconds, 3),
                "trace_id": o.trace.id if o.trace else None,
                "error": o.error,
            }
            with write_lock:
                out.write(json.dumps(row) + "\n")
                out.flush()
        progress.update(task, advance=1, answered=answered[0])

    def tick() -> None:
        while not finished.wait(0.5):
            rate = tokens[0] / max(1e-9, time.monotonic() - started)
            progress.update(task, rate=f"{rate:.1f}")

    finished = threading.Event()
    ticker = threading.Thread(target=tick, daemon=True)
    try:
        with progress:
            ticker.start()
            outcomes = solve_many(problems, opts, args.concurrency, args.traces, on_done=done, tokens=tokens)
    finally:
        finished.set()
        if out is not None:
            out.close()
    elapsed = time.monotonic() - started
    console.print(
        f"{len(outcomes)} problems in {elapsed:.1f} s · {answered[0]} answered · "
        f"{tokens[0] / max(elapsed, 1e-9):.1f} tok/s overall"
    )
    for line in errors:
        console.print(f"[red]{line}[/]")
    return 1 if errors else 0
