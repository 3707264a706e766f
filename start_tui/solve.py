"""`start-tui solve`: run Hint-infer on one problem and stream it to the terminal with rich."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.rule import Rule
from rich.text import Text

from start_tui.backends import BACKENDS
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
from start_tui.options import EngineOptions, build_reasoner, parse_conjunctions
from start_tui.userfiles import read_user_text


def add_model_options(p: argparse.ArgumentParser, rounds_list: bool = False) -> None:
    """Options every front end that runs a model shares (solve, and later eval and the TUI)."""
    g = p.add_argument_group("model")
    g.add_argument(
        "--backend",
        choices=BACKENDS,
        default="llama",
        help="llama: a GGUF file in this process (default); hf: a transformers folder; "
        "openai: an OpenAI-compatible server (vLLM, SGLang, llama.cpp server)",
    )
    g.add_argument(
        "--model",
        help="llama: a .gguf file (default: the embedded Gemma 3 270M); hf: a model folder; "
        "openai: the served model name (default: the server's first)",
    )
    g.add_argument("--base-url", help="openai: the server, e.g. http://127.0.0.1:8000/v1")
    g.add_argument(
        "--api-key-env",
        default="OPENAI_API_KEY",
        help="openai: the environment variable holding the API key (default OPENAI_API_KEY)",
    )
    g.add_argument("--device", help="hf: cuda, cuda:1, cpu... (default: cuda when present)")
    g.add_argument("--dtype", help="hf: bfloat16, float16, float32 (default: bf16 on CUDA, float32 on CPU)")
    g.add_argument("--profile", help="model profile (default: chosen from the model's metadata)")
    g.add_argument(
        "--prompt-file",
        help="a plain-text prompt with a {problem} slot instead of the profile's (a few-shot prompt for a base model)",
    )
    g.add_argument("--n-ctx", type=int, default=8192, help="context length in tokens (default 8192)")
    g = p.add_argument_group("generation")
    g.add_argument("--max-tokens", type=int, default=2048, help="most tokens generated per problem (default 2048)")
    g.add_argument("--temperature", type=float, help="sampling temperature (default: the profile's; 0 is greedy)")
    g.add_argument("--top-p", type=float, help="nucleus sampling (default: the profile's)")
    g.add_argument("--seed", type=int, default=0, help="seed of sampling and of the hint choice (default 0)")
    g = p.add_argument_group("hints")
    g.add_argument(
        "--no-hints", action="store_true", help="plain baseline: insert no hint (model-written code still runs)"
    )
    if rounds_list:  # eval: one setting per count
        g.add_argument("--rounds", default="0,1,2,4", help="hint rounds before the end of thinking (default 0,1,2,4)")
    else:
        g.add_argument("--rounds", type=int, default=1, help="hints inserted before the end of thinking (default 1)")
    g.add_argument("--max-tool-calls", type=int, default=6, help="code executions per problem (default 6)")
    g.add_argument("--conjunctions", default="Wait,Alternatively", help="words after which a hint may go ('' for none)")
    g.add_argument("--hint", dest="hint_category", help="always use this hint category (default: seeded random)")
    g.add_argument("--domain", default="math", choices=("math", "code"), help="hint library domain (default math)")
    g.add_argument("--hints-dir", help="a folder of hint TOML files (default: the shipped library)")
    g.add_argument("--timeout", type=float, default=10.0, help="wall-clock seconds per code execution (default 10)")
    g.add_argument("--no-persist", action="store_true", help="fresh variables for every code block")


def add_solve_parser(sub: Any) -> None:
    p = sub.add_parser("solve", help="solve one problem headless, streaming the reasoning to the terminal")
    p.add_argument("problem", nargs="?", help="the problem text")
    p.add_argument("--file", help="read the problem from this file (- for standard input)")
    p.add_argument("--trace", help="write the trace to this JSONL file as the run streams")
    add_model_options(p)
    p.set_defaults(func=run_solve)


def options_from_args(args: argparse.Namespace) -> EngineOptions:
    return EngineOptions(
        model=args.model,
        backend=args.backend,
        base_url=args.base_url,
        api_key_env=args.api_key_env,
        device=args.device,
        dtype=args.dtype,
        profile=args.profile,
        prompt_file=args.prompt_file,
        n_ctx=args.n_ctx,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        seed=args.seed,
        hints_enabled=not args.no_hints,
        domain=args.domain,
        conjunctions=parse_conjunctions(args.conjunctions),
        rounds=args.rounds,
        max_tool_calls=args.max_tool_calls,
        fixed_category=args.hint_category,
        hints_dir=args.hints_dir,
        timeout_s=args.timeout,
        persist=not args.no_persist,
    )


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
        if isinstance(event, Started):
            c.print(Rule(f"[bold]{escape(event.meta.get('model', ''))}[/] · profile {event.meta.get('profile')}"))
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
    reasoner, sandbox = build_reasoner(options_from_args(args))
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
        console.print(Text.assemble(("Final answer: ", "bold"), (trace.answer, "bold green")))
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
