"""`start-tui train STAGE --recipe R`: the command line of the training pipeline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from start_tui.errors import StartTuiError
from training.config import STAGES, check_stage_names, stages_of


def add_train_parser(sub: Any) -> None:
    p = sub.add_parser("train", help="Hint-infer data, Hint-RFT, SFT (DeepSpeed ZeRO-3), RFT, or the whole pipeline")
    stages = p.add_subparsers(dest="stage", metavar="STAGE", required=True)
    helps = {
        "hint-infer": "greedy and Hint-infer runs over the recipe's problems, graded",
        "hint-rft": "filter and edit the Hint-infer traces into D_seed",
        "sft": "full-parameter SFT on D_seed (or --data TRACES.jsonl)",
        "rft": "sample K times with the fine-tuned model, keep the correct traces: D_START",
        "pipeline": "all stages from one recipe, skipping the finished ones (a stage whose recipe tables or "
        "inputs changed runs again)",
        "status": "each stage of a recipe: done, stale (and why) or not run",
    }
    g = stages.add_parser(
        "problems", help="write generated word problems with exact answers (train and held-out JSONL)"
    )
    g.add_argument("--n", type=int, default=240, help="training problems (default 240)")
    g.add_argument("--holdout", type=int, default=60, help="held-out problems (default 60)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out-dir", default="runs/problems", help="writes train.jsonl and heldout.jsonl here")
    g.add_argument(
        "--family",
        choices=("broad", "micro"),
        default="broad",
        help="broad: 40+ kinds, several phrasings each, held out by phrasing and numbers (default); "
        "micro: the six kinds of training/recipes/micro-cpu.toml",
    )
    g.add_argument(
        "--holdout-kinds",
        default="",
        help="broad: comma-separated kinds that appear only in the held-out split (see --list-kinds)",
    )
    g.add_argument("--list-kinds", action="store_true", help="print the broad family's kinds and topics and exit")
    stages.add_parser("schema", help="print every recipe table and key with its default and help (a TOML recipe)")
    e = stages.add_parser(
        "export", help="a trained folder -> a GGUF model, a LoRA adapter folder -> a GGUF LoRA adapter (llama.cpp)"
    )
    e.add_argument("folder", help="a model folder (config.json, *.safetensors) or a LoRA adapter folder")
    e.add_argument("--out", help="the GGUF file to write (default: next to the folder, named after it and the type)")
    e.add_argument(
        "--type",
        default=None,
        help="model: f32, f16 (default), bf16, q8_0, q6_k, q5_k_m, q4_k_m, ... (llama.cpp's quantizer); "
        "adapter: f32 (default) or f16",
    )
    e.add_argument("--base", help="adapter: the model folder it was trained over (default: from adapter_config.json)")
    e.add_argument(
        "--base-gguf",
        help="adapter: the GGUF the adapter will run over, fingerprinted into it so that loading it on "
        "another model fails in one sentence (default: the embedded model when the base is its conversion)",
    )
    for name, text in helps.items():
        s = stages.add_parser(name, help=text)
        s.add_argument("--recipe", required=True, help="a TOML or YAML recipe (see training/recipes/)")
        if name == "sft":
            s.add_argument("--data", help="a trace JSONL to train on (default: the recipe's D_seed)")
            s.add_argument("--print-only", action="store_true", help="write the job and print the launch command")
        if name == "pipeline":
            which = s.add_mutually_exclusive_group()
            which.add_argument(
                "--until",
                metavar="STAGE",
                help=f"stop after this stage ({', '.join(STAGES)}, or rft-N and sft-start-N of a further "
                "RFT round; default: run them all)",
            )
            which.add_argument(
                "--stage",
                dest="stage_only",
                metavar="STAGE",
                help="run this stage alone, once the stages before it are done (what each Slurm job runs)",
            )
            s.add_argument(
                "--print-only",
                action="store_true",
                help="write a Slurm job for every stage and submit.sh, which chains them; run nothing",
            )
        if name == "rft":
            s.add_argument("--model", help="the fine-tuned model folder (default: the recipe's sft output)")
        if name == "hint-infer":
            s.add_argument(
                "--shard",
                metavar="I/N",
                help="run only the problems of shard I of N (by a hash of each problem's text), to keep one "
                "invocation within a time limit; the run that completes the last shard finishes the stage",
            )
    i = stages.add_parser(
        "inspect", help="print traces token by token as SFT would label them: learned or masked, and why"
    )
    i.add_argument("--recipe", required=True, help="a TOML or YAML recipe: its base model's tokenizer and mask_hints")
    i.add_argument("--data", help="a trace JSONL (default: the recipe's D_seed)")
    i.add_argument("--n", type=int, default=3, help="how many traces to print (default 3)")
    p.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    if args.stage == "problems":
        from training.problems import KINDS, broad_problems, generate_problems

        if args.list_kinds:
            for kind in KINDS:
                print(f"{kind.name:22s} {kind.topic:24s} {len(kind.phrasings)} phrasings")
            return 0
        if args.family == "micro":
            rows = generate_problems(args.n + args.holdout, args.seed)
            train, heldout = rows[: args.n], rows[args.n :]
        else:
            held = tuple(k for k in args.holdout_kinds.split(",") if k.strip())
            try:
                train = broad_problems(args.n, seed=args.seed, split="train", holdout_kinds=held)
                heldout = broad_problems(args.holdout, seed=args.seed, split="heldout", holdout_kinds=held)
            except ValueError as exc:
                raise StartTuiError(f"{exc}.") from exc
        out = Path(args.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, part in (("train.jsonl", train), ("heldout.jsonl", heldout)):
            (out / name).write_text("".join(json.dumps(r) + "\n" for r in part), encoding="utf-8")
        print(f"{args.n} training and {args.holdout} held-out problems in {out}", file=sys.stderr)
        return 0
    if args.stage == "export":
        return run_export(args)
    if args.stage == "schema":
        from training.config import recipe_schema

        sys.stdout.write(recipe_schema())
        return 0
    try:
        from training.config import load_recipe
        from training.stages import (
            pipeline_origin,
            run_pipeline,
            stage_hint_infer,
            stage_hint_rft,
            stage_rft,
            stage_sft,
        )
    except ImportError as exc:
        raise StartTuiError(
            f"start-tui train needs the training extras: pip install 'start-tui[train]' ({exc})."
        ) from None
    recipe = load_recipe(args.recipe)
    console = Console(stderr=True)
    if args.stage == "inspect":
        return run_inspect(args, recipe)
    if args.stage == "status":
        print_status(recipe)
    elif args.stage == "pipeline" and args.print_only:
        from training.slurm import write_jobs

        order = check_stage_names(recipe, args.until, args.stage_only)
        stages = list(order[: order.index(args.until) + 1] if args.until else order)
        if args.stage_only:
            stages = [args.stage_only]
        submit = write_jobs(recipe, Path(args.recipe), stages)
        for stage in stages:
            print(submit.parent / f"{stage}.sbatch")
        console.print(f"submit them in order with: {submit}", markup=False)
    elif args.stage == "pipeline":
        run_pipeline(recipe, console, until=args.until, only=args.stage_only)
    elif args.stage == "hint-infer":
        from training.stages import parse_shard

        stage_hint_infer(recipe, console, parse_shard(args.shard) if args.shard else None)
    elif args.stage == "hint-rft":
        stage_hint_rft(recipe, console)
    elif args.stage == "sft":
        data = Path(args.data or pipeline_origin(recipe, "sft")["data"])
        stage_sft(recipe, console, data, print_only=args.print_only)
    elif args.stage == "rft":
        stage_rft(recipe, console, Path(args.model or pipeline_origin(recipe, "rft")["model"]))
    return 0


def run_inspect(args: argparse.Namespace, recipe: Any) -> int:
    from training.convert import base_tokenizer
    from training.inspect import inspect
    from training.stages import pipeline_origin

    if args.n < 1:
        raise StartTuiError(f"--n must be 1 or more, not {args.n}.")
    data = Path(args.data or pipeline_origin(recipe, "sft")["data"])
    if not data.is_file():
        given = "" if args.data else " (the recipe's D_seed: run `start-tui train hint-rft` first, or pass --data)"
        raise StartTuiError(f"The trace file {str(data)!r} does not exist{given}.")
    cfg = recipe.sft
    inspect(data, base_tokenizer(cfg.base_model), cfg.mask_hints, args.n, Console(highlight=False))
    return 0


def print_status(recipe: Any) -> None:
    """One line per stage; a done stage after one that will run again is stale too."""
    from training.stages import loop_stopped, stage_dir, stage_state

    earlier = ""
    for stage in stages_of(recipe):
        state, why = stage_state(recipe, stage)
        stopped = loop_stopped(recipe, stage) if state != "done" and not earlier else ""
        if stopped:  # the held-out figures ended the loop before this round
            print(f"{stage:12s} {'skipped':8s} {stopped}")
            continue
        if state == "done" and earlier:
            state, why = "stale", f"{earlier} before it will run again"
        elif state != "done" and not earlier:
            earlier = stage
        print(f"{stage:12s} {state:8s} {why or stage_dir(recipe, stage)}")


def run_export(args: argparse.Namespace) -> int:
    from training.export import export

    folder = Path(args.folder)
    is_adapter = (folder / "adapter_config.json").is_file()
    kw: dict[str, Any] = {"base": args.base, "base_gguf": args.base_gguf} if is_adapter else {}
    figures = export(folder, args.out, args.type or ("f32" if is_adapter else "f16"), **kw)
    print(json.dumps(figures))
    return 0
