"""`start-tui solve`: run Hint-infer on one problem and stream it to the terminal with rich."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.rule import Rule
from rich.text import Text

from start_tui.engine.events import (
    AnswerFound,
    CodeFinished,
    CodeStarted,
    Event,
    Finished,
    HintInserted,
    Paused,
    Started,
    TextDelta,
)
from start_tui.errors import StartTuiError
from start_tui.options import EngineOptions, add_options, build_reasoner, options_from_args
from start_tui.userfiles import read_user_text
from start_tui.visible import visible, visible_event


def add_solve_parser(sub: Any) -> None:
    p = sub.add_parser("solve", help="solve one problem headless, streaming the reasoning to the terminal")
    p.add_argument("problem", nargs="?", help="the problem text")
    p.add_argument("--file", help="read the problem from this file (- for standard input)")
    p.add_argument("--trace", help="write the trace to this JSONL file as the run streams")
    add_options(p, "solve")
    p.set_defaults(func=run_solve)


def problem_from_args(args: argparse.Namespace) -> str:
    if args.file and args.problem:
        raise StartTuiError("Give the problem either as text or with --file, not both.")
    text = read_user_text(args.file, "problem file") if args.file else (args.problem or "")
    if not text.strip():
        raise StartTuiError("The problem is empty; give the problem text (or --file with a non-empty file).")
    return text


class StreamPrinter:
    """Renders engine events as a readable terminal transcript."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.at_line_start = True

    def _write(self, text: str, style: str = "") -> None:
        if text:
            self.console.print(Text(text, style=style), end="", soft_wrap=True, highlight=False)
            self.at_line_start = text.endswith("\n")

    def _newline(self) -> None:
        if not self.at_line_start:
            self.console.print()
            self.at_line_start = True

    def show(self, event: Event) -> None:
        c = self.console
        event = visible_event(event)  # what the model and its code wrote never drives the terminal
        if isinstance(event, Started):
            model, profile = visible(str(event.meta.get("model", ""))), visible(str(event.meta.get("profile")))
            c.print(Rule(f"[bold]{escape(model)}[/] · profile {escape(profile)}"))
            if note := event.meta.get("model_note"):
                c.print(Text(visible(str(note)), style="dim"))
            c.print(Text(event.problem.strip(), style="bold"))
            c.print(Rule(style="dim"))
        elif isinstance(event, TextDelta):
            self._write(event.text, "cyan" if event.kind == "code" else "")
        elif isinstance(event, HintInserted):
            self._newline()
            label = f" hint · {event.source} · {event.trigger} · {event.category} "
            c.print(Text(label, style="black on yellow"))
            self._write(event.text, "bold yellow")
        elif isinstance(event, CodeStarted):
            self._newline()
        elif isinstance(event, CodeFinished):
            self._newline()
            if not event.executed:
                status, style = "not run", "black on bright_black"
            elif event.timed_out:
                status, style = "timeout", "black on red"
            elif event.ok:
                status, style = "ok", "black on green"
            else:
                status, style = "error", "black on red"
            c.print(Text(f" sandbox · run {event.index} · {status} · {event.duration_s * 1000:.0f} ms ", style=style))
            self._write(event.output_text.lstrip("\n"), "green" if event.ok else "red")
        elif isinstance(event, AnswerFound):
            self._newline()
        elif isinstance(event, Paused):
            self._newline()
            c.print("[dim](paused)[/]")
        elif isinstance(event, Finished):
            self._newline()


def run_solve(args: argparse.Namespace) -> int:
    problem = problem_from_args(args)
    console = Console(highlight=False)
    opts = options_from_args(args, "solve")
    if opts.samples > 1:
        return solve_samples(problem, opts, console, args.trace)
    reasoner, sandbox = build_reasoner(opts)
    printer = StreamPrinter(console)
    with sandbox:
        run = reasoner.start(problem, trace_path=args.trace)
        events = run.events()
        while True:
            try:
                for event in events:
                    printer.show(event)
                break
            except KeyboardInterrupt:
                run.stop()  # finish cleanly: the trace is written, the sandbox closed
                events = run.events()
    trace = run.trace
    console.print(Rule(style="dim"))
    if trace.answer is not None:
        console.print(Text.assemble(("Final answer: ", "bold"), (visible(trace.answer), "bold green")))
    else:
        console.print(Text("Final answer: (none found)", style="bold red"))
    s = trace.stats
    console.print(
        f"[dim]{trace.meta.get('finish_reason')} · {s.get('tokens_generated')} tokens · "
        f"{s.get('decode_tokens_per_s')} tok/s · tool calls {s.get('tool_calls')} · "
        f"hints {s.get('hints_auto', 0) + s.get('hints_user', 0)} · "
        f"evaluated/trace tokens {s.get('eval_ratio')} · {s.get('elapsed_s')} s[/]"
    )
    if args.trace:
        console.print(f"[dim]trace written to {escape(str(args.trace))}[/]")
    return 0


def solve_samples(problem: str, opts: EngineOptions, console: Console, trace: str | None) -> int:
    """K samples decoded together, shown as a live table of K rows, then their vote."""
    from rich.live import Live

    from start_tui.engine.samples import SampleSet
    from start_tui.options import check_options, make_samples, open_model, open_sandbox
    from start_tui.samples_view import SampleBoard, print_vote

    library = check_options(opts)
    backend = open_model(opts)
    try:
        with open_sandbox(opts) as sandbox:
            reasoners, lanes = make_samples(opts, backend, sandbox, library)
            try:
                group = SampleSet(reasoners, problem, trace)
                board = SampleBoard(group, backend.name)
                if note := backend.metadata().get("start_tui.note"):
                    console.print(Text(f"{backend.name}: {note}", style="dim"))
                console.print(Text(problem.strip(), style="bold"))
                with Live(board, console=console, refresh_per_second=8, transient=False) as live:
                    events = group.events()
                    while True:
                        try:
                            for i, event in events:
                                board.update(i, event)
                            break
                        except KeyboardInterrupt:
                            group.stop()  # every sample finishes cleanly: traces written, sessions closed
                            events = group.events()
                    live.refresh()
            finally:
                lanes.close()
    finally:
        backend.close()
    result = print_vote(group, console)
    for i, exc in sorted(group.errors.items()):
        console.print(f"[red]sample {i + 1} failed: {escape(str(exc))}[/]")
    if trace:
        console.print(f"[dim]{len(group)} traces written to {escape(str(trace))} (siblings: set {group.id})[/]")
    return 1 if group.errors and result.answer is None else 0
