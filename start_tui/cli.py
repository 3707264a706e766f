"""The `start-tui` command: argument parsing and the headless front ends (`solve`, `exec`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from start_tui import __version__
from start_tui.errors import StartTuiError
from start_tui.userfiles import read_user_text
from start_tui.visible import visible


def _cmd_exec(args: argparse.Namespace) -> int:
    from start_tui.sandbox import Sandbox, SandboxConfig

    code = read_user_text(args.file, "code file")
    config = SandboxConfig(
        timeout_s=args.timeout_s,
        memory_mb=args.memory_mb,
        language_layer=not args.no_language_layer,
        display=not args.script,
    )
    with Sandbox(config) as sandbox:
        result = sandbox.run(code)
    if args.json:
        keys = ("ok", "stdout", "stderr", "error", "timed_out", "duration_s", "truncated_chars")
        print(json.dumps({k: getattr(result, k) for k in keys}))
    else:
        # on a terminal, what the code printed is shown, not obeyed (a pipe or a file gets it as it was)
        out = visible if sys.stdout.isatty() else str
        err = visible if sys.stderr.isatty() else str
        sys.stdout.write(out(result.stdout))
        if result.truncated_chars:
            sys.stderr.write(f"... ({result.truncated_chars} more characters of output were dropped)\n")
        sys.stderr.write(err(result.stderr))
        if result.error:
            sys.stderr.write(err(result.error) + "\n")
    return 0 if result.ok else 1


def _cmd_tui(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from start_tui.options import given_options
    from start_tui.tui import graphics
    from start_tui.tui.app import StartApp
    from start_tui.tui.settings import load_settings, sessions_dir

    settings = load_settings(Path(args.config)) if getattr(args, "config", None) else load_settings()
    # flags change the saved settings for this launch; the settings screen saves what it shows
    settings = replace(settings, **given_options(args, "tui"))
    open_path = getattr(args, "open", None)
    if getattr(args, "resume", False):
        files = sorted(sessions_dir().glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
        if not files:
            raise StartTuiError(f"There is no saved session in {sessions_dir()} to resume.")
        open_path = str(files[-1])
    if open_path and not Path(open_path).is_file():
        raise StartTuiError(f"The trace file {open_path!r} does not exist.")
    problem = read_user_text(args.file, "problem file") if getattr(args, "file", None) else ""
    graphics.detect()  # before the app starts: its input thread would take the terminal's answer
    StartApp(settings, open_path=open_path, problem=problem).run()
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from start_tui.backends.embedded import DEFAULT_MODEL, EMBEDDED, INSTALL, assembled, installed

    console = Console(highlight=False)
    for name, model in EMBEDDED.items():
        where = assembled(name)
        state = (
            f"ready: {where}" if where else "installed, assembled at first use" if installed(name) else "not installed"
        )
        head = Text.assemble((name, "bold"), (" (default)" if name == DEFAULT_MODEL else "", "bold"))
        console.print(head)
        console.print(f"  {model.title} · {model.size / 1e9:.2f} GB · {model.speed} · {model.purpose}", markup=False)
        console.print(f"  {state}", markup=False, style="dim")
    console.print(
        f"--model NAME runs one; {INSTALL} installs them; --model also takes a GGUF file's path.", markup=False
    )
    return 0


def _add_sandbox_options(p: argparse.ArgumentParser) -> None:
    from start_tui.options import add_options

    add_options(p, "exec")
    p.add_argument("--memory-mb", type=int, default=2048, help="memory limit of the sandbox in MiB (default 2048)")


def _add_unloadable_train_parser(sub: Any, exc: ImportError) -> None:
    """`train` where the training package is installed but cannot be imported: every use says why."""
    reason = f"{type(exc).__name__}: {exc}"

    def fail(args: argparse.Namespace) -> int:
        raise StartTuiError(f"start-tui train cannot start: importing the training package failed ({reason}).")

    p = sub.add_parser("train", help=f"training (unavailable here: {reason})", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=fail)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="start-tui",
        description="START in a terminal: a reasoning model that runs sandboxed Python while it thinks.",
    )
    parser.add_argument("--version", action="version", version=f"start-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    from start_tui.solve import add_solve_parser

    p = sub.add_parser(
        "tui",
        help="open the interactive app (the default when no command is given)",
        description="Open the interactive app. Its settings come from the settings file; the flags below "
        "change them for this launch only (the settings screen saves what it shows).",
    )
    p.add_argument("--open", help="open a saved trace file (all its branches)")
    p.add_argument("--resume", action="store_true", help="open the most recent autosaved session")
    p.add_argument("--file", help="start with the problem from this file")
    p.add_argument("--config", help="settings file (default: ~/.config/start-tui/config.toml)")
    from start_tui.options import add_options

    add_options(p, "tui", overrides=True)
    p.set_defaults(func=_cmd_tui)

    add_solve_parser(sub)

    p = sub.add_parser("models", help="list the embedded models (--model takes their names)")
    p.set_defaults(func=_cmd_models)

    from start_tui.batch import add_batch_parser

    add_batch_parser(sub)

    from start_tui.eval.runner import add_eval_parser

    add_eval_parser(sub)

    try:
        from training.cli import add_train_parser
    except ImportError as exc:
        if exc.name != "training":  # the package is here and something it needs is not: say so when asked
            _add_unloadable_train_parser(sub, exc)
    else:
        add_train_parser(sub)

    p = sub.add_parser("exec", help="run a Python file in the sandbox, exactly as model code is run")
    p.add_argument("file", help="the file to run, or - for standard input")
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object {ok, stdout, stderr, error, timed_out, duration_s}",
    )
    p.add_argument(
        "--no-language-layer",
        action="store_true",
        help="run the file as plain Python, without the RestrictedPython policy; the process layer "
        "(namespaces, minimal root, seccomp, own uid, limits) still confines it",
    )
    p.add_argument(
        "--script",
        action="store_true",
        help="run the file as a script, as the graders do: a last bare expression shows nothing "
        "(model code shows its value, as in a notebook)",
    )
    _add_sandbox_options(p)
    p.set_defaults(func=_cmd_exec)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        args.func = _cmd_tui
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a reader gone shows here, where it is caught, not at the interpreter's exit
        return code
    except StartTuiError as exc:
        print(f"start-tui: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("start-tui: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of our output left (`start-tui ... | head`): nothing more to say, and nothing to
        # flush at exit either, which would raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
