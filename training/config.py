"""The recipe: one typed dataclass per stage, every number a field with the paper's value as default.

Recipes are TOML (or YAML) files with one table per stage; unknown keys are refused with one
sentence, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields, is_dataclass, make_dataclass
from pathlib import Path
from typing import Any

from start_tui.errors import StartTuiError
from start_tui.options import coerce

STAGES = ("hint-infer", "hint-rft", "sft", "rft", "sft-start")
"""The paper's stages, in order; each writes `workdir/STAGE/`. Further RFT rounds add `rft-N` and
`sft-start-N` (N = 2, 3, ...; see `stages_of`)."""


def stages_of(recipe: Recipe) -> tuple[str, ...]:
    """The recipe's stages in order: the paper's five, then a sampling and a fine-tuning stage per
    further RFT round (`[rft] iterations`)."""
    more = [f"{kind}-{n}" for n in range(2, recipe.rft.iterations + 1) for kind in ("rft", "sft-start")]
    return (*STAGES, *more)


def _split_stage(stage: str) -> tuple[str, int]:
    head, _, tail = stage.rpartition("-")
    return (head, int(tail)) if tail.isdigit() and head in ("rft", "sft-start") else (stage, 1)


def stage_kind(stage: str) -> str:
    """The paper's stage that `stage` repeats: `rft-3` -> `rft`, `sft-start-2` -> `sft-start`."""
    return _split_stage(stage)[0]


def stage_round(stage: str) -> int:
    """The RFT round a stage belongs to (1 for the paper's stages)."""
    return _split_stage(stage)[1]


def check_stage_names(recipe: Recipe, *names: str | None) -> tuple[str, ...]:
    """The recipe's stages in order; a name given that is not one of them is one sentence."""
    order = stages_of(recipe)
    for name in names:
        if name is not None and name not in order:
            raise StartTuiError(f"There is no stage {name!r} in this recipe; its stages are {', '.join(order)}.")
    return order


@dataclass
class DataConfig:
    problems: list[str] = field(default_factory=lambda: ["broad:2000"])
    """JSONL files (fields problem, answer, id), or generated problems: "broad:N" or "micro:N" (the
    training split of `start-tui train problems`). Benchmark names load too, and are then refused as
    overlapping the benchmarks unless allow_overlap is set."""
    limit: int | None = None
    """The first N problems of each source."""
    holdout: int = 0
    """The last N problems of each source are kept out of training (for a before/after score)."""
    allow_overlap: bool = False
    """Train on problems that overlap a benchmark `start-tui eval` scores (refused by default)."""
    overlap_ngram: int = 8
    """Words in a run that counts as shared text (open-r1 uses 8)."""
    overlap_share: float = 0.5
    """A training problem overlaps a benchmark problem when the runs they share cover this share of
    the benchmark problem's words; 0 flags any shared run (open-r1's rule)."""


def _serving_fields(model: str) -> list[tuple[str, Any, Any]]:
    """The keys of a stage that samples from servers it may start itself (see `training.serving`)."""
    return [
        ("serve_command", "str | None", field(default=None, metadata={"help": (
            "start a server per base URL for the stage and stop it after: a /bin/sh template of {model} "
            f"({model}), {{port}}, {{index}}, {{python}}"
        )})),
        ("base_urls", "list[str]", field(default_factory=list, metadata={"help": (
            "servers to sample from, the problems shared among them (default: base_url, or one free local port)"
        )})),
        ("serve_timeout_s", "float", field(default=600.0, metadata={"help": "seconds to wait for /v1/models"})),
    ]  # fmt: skip


def _generate_config() -> type:
    """The `[generate]` table: every engine option a recipe can honour (declared in `start_tui.options`,
    with the recipe's own defaults), plus how many runs go at once."""
    from start_tui.options import option_fields, spec

    specs: list[tuple[str, Any, Any]] = [
        (f.name, f.type, field(default=spec(f).default_for("recipe", f.default), metadata=f.metadata))
        for f in option_fields("recipe")
    ]
    specs.append(
        (
            "concurrency",
            "int",
            field(
                default=1, metadata={"help": "runs in flight per server, or lanes decoded together on a local model"}
            ),
        )
    )
    specs += _serving_fields("the model in [generate] model (a GGUF for llama_cpp.server)")
    doc = (
        "Hint-infer data generation (stage 1): greedy and Hint-infer on every problem; "
        "sampling is greedy (temperature 0) and both runs are made, so there is no temperature or hints switch."
    )
    return make_dataclass("GenerateConfig", specs, namespace={"__doc__": doc})


GenerateConfig: Any = _generate_config()


@dataclass
class FilterConfig:
    """Hint-RFT scoring, filtering and editing (stage 2)."""

    require_correct: bool = True
    """Keep only traces whose Hint-infer answer is right. Off only for smoke runs of the machinery."""
    require_greedy_wrong: bool = True
    """Keep problems Hint-infer solves and plain greedy decoding does not (the paper's D_seed)."""
    repetition_ngram: int = 8
    """n of the word n-grams counted for the repetition score."""
    max_repetition: float = 0.3
    """Drop traces whose share of repeated n-grams is above this."""
    require_tool_call: bool = True
    """Drop traces in which no code ran."""
    drop_timeouts: bool = True
    """Drop traces with a code execution that timed out."""
    max_tool_calls: int = 6
    truncate_after_answer: bool = True
    """Cut whatever the model wrote after its final answer line."""


@dataclass
class SFTConfig:
    """Full-parameter SFT (stage 3). Paper: lr 7e-6, global batch 128, cosine, 3% warm-up, 3 epochs, ZeRO-3."""

    base_model: str = "embedded"
    """A transformers folder, or an embedded model's name ("embedded": gemma3-270m), its GGUF converted
    once (cached)."""
    learning_rate: float = 7e-6
    epochs: float = 3.0
    global_batch: int = 128
    """Sequences per optimizer step over all GPUs (reached by gradient accumulation)."""
    micro_batch: int = 1
    """Sequences per GPU per forward pass."""
    warmup_ratio: float = 0.03
    scheduler: str = "cosine"
    weight_decay: float = 0.0
    max_length: int = 16384
    overlength: str = "drop"
    """A trace longer than max_length: drop (counted in the manifest), truncate (keep its start, end it
    with EOS; it then teaches stopping where it was cut) or error."""
    packing: bool = False
    """Concatenate examples up to max_length; each keeps its own positions and attends only to itself."""
    mask_hints: bool = True
    """A hint's sentence carries no loss; the code fence a hint opens and the code it pre-writes always
    do, and interpreter outputs never do (`start-tui train inspect` shows each token's label)."""
    bf16: bool = True
    """bf16 mixed precision on CUDA; ignored on CPU."""
    gradient_checkpointing: bool = True
    deepspeed: str = "zero3"
    """zero3, zero3-offload, a JSON path, or none."""
    save_steps: float = 0.1
    """Optimizer steps between checkpoints; below 1, a share of the run's steps (0.1: ten checkpoints)."""
    save_total_limit: int = 2
    """Checkpoints kept (the oldest are deleted); 0 keeps them all. SIGTERM (preemption) always saves one."""
    eval_share: float = 0.0
    """Share of the examples held out of training to compute an eval loss on (0: none)."""
    eval_steps: float = 0.1
    """Optimizer steps between evaluations (with eval_share); below 1, a share of the run's steps."""
    report_to: list[str] = field(default_factory=list)
    """Where the Trainer logs: tensorboard (installed with the train extra), wandb, mlflow, ...; [] for none."""
    attn_implementation: str = "auto"
    """transformers' attention: auto (its own choice), sdpa, eager, flash_attention_2, ..."""
    loss_chunk: int = 0
    """Tokens per chunk of the LM head and loss, each recomputed in the backward pass, so that the
    [tokens x vocabulary] logits of a long trace never exist whole (0: off; e.g. 4096 for 16k-32k tokens)."""
    liger: bool = False
    """Liger's fused Triton kernels (RMSNorm, RoPE, SwiGLU, fused linear cross-entropy): a CUDA GPU and
    the liger-kernel package."""
    sequence_parallel: int = 1
    """Ranks that share one sequence (DeepSpeed Ulysses through accelerate's ParallelismConfig): long
    traces on GPUs; needs ZeRO-3 and a world size it divides."""
    engine_eval: list[str] = field(default_factory=list)
    """Problem sources (as in [data] problems: files, benchmarks, "broad:N") that the project's own engine
    solves with the model being trained, greedily and without hints, every eval_steps and at the end:
    pass@1 and the share of runs calling the tool go to the logs (report_to) and sft_figures.json."""
    engine_eval_limit: int = 8
    """Problems taken from engine_eval (the first ones)."""
    engine_eval_max_tokens: int = 512
    engine_eval_backend: str = "hf"
    """hf: the model being trained, in place (transformers); llama: the model at that step saved and
    exported to GGUF (a LoRA as an adapter over its base's GGUF) and run by llama.cpp, as the app runs
    it: its figures are those of what a user runs, and on a CPU it is faster (the self-taught recipe's
    60 held-out problems: 204 s here, against 511 s in transformers)."""
    max_steps: int = -1
    """Stop after this many optimizer steps (-1: run the epochs)."""
    logging_steps: int = 1
    seed: int = 42
    adapter: str = "none"
    """none (full-parameter, the paper's recipe), lora, or qlora (LoRA over 4-bit base weights: a CUDA GPU
    and bitsandbytes). With an adapter the output folder holds the adapter and the tokenizer."""
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )
    """The linear layers that get an adapter (the attention and MLP projections of Llama, Qwen and Gemma)."""


@dataclass
class LaunchConfig:
    """How `sft` runs: in this process, or through torchrun / deepspeed / accelerate on many GPUs and nodes."""

    launcher: str = "none"
    """none, torchrun, deepspeed or accelerate."""
    nproc_per_node: int = 1
    nnodes: int = 1
    node_rank: int = 0
    master_addr: str = "127.0.0.1"
    master_port: int = 29500
    hostfile: str | None = None
    """deepspeed launcher: a hostfile (`host slots=8` per line) for many nodes."""
    rdzv_id: str = "start-tui"
    """torchrun on many nodes: the c10d rendezvous id (under Slurm: the job id)."""
    cpu: bool = False
    """Run the distributed path on CPU with gloo (tests, smoke runs)."""


@dataclass
class SlurmConfig:
    """The job scripts `start-tui train pipeline --print-only` writes, one per stage, chained by submit.sh."""

    partition: str | None = None
    account: str | None = None
    time: str = "48:00:00"
    """Each job's time limit."""
    generate_gpus: int = 0
    """GPUs per generation job (hint-infer, rft) for the model its serve_command starts; 0: none asked."""
    cpus_per_task: int | None = None
    mem: str | None = None
    """Memory per node, e.g. "512G"."""
    python: str | None = None
    """The interpreter each job runs start-tui with (default: the one that wrote the jobs)."""
    setup: list[str] = field(default_factory=list)
    """Shell lines each job runs first: module load, activating the environment."""
    sbatch: list[str] = field(default_factory=list)
    """More sbatch options for every job, e.g. ["--qos=high", "--exclusive"]."""


@dataclass
class RFTConfig:
    """RFT (stage 4): sample each problem K times with the fine-tuned model, keep the correct traces."""

    samples: int = 16
    temperature: float = 0.6
    top_p: float = 0.95
    backend: str = "hf"
    """hf: the stage-3 folder here; llama: the stage-3 folder exported to GGUF (a LoRA folder as an adapter over
    its base), decoded K sequences at a time in this process; openai: a server (vLLM) serving it at base_url."""
    base_url: str | None = None
    model: str | None = None
    """openai: the served model name."""
    max_tokens: int = 16384
    concurrency: int = 1
    """Runs in flight per server."""
    hints: bool = False
    """START samples without hints: it learned to call the tool itself."""
    serve_command: str | None = None
    """Start a server per base URL for this stage and stop it after: a /bin/sh template of {model} (the
    fine-tuned folder), {gguf} (that folder exported to an f16 GGUF once, for llama_cpp.server), {port},
    {index} and {python}."""
    base_urls: list[str] = field(default_factory=list)
    """Servers to sample from, the problems shared among them (default: base_url, or one free local port)."""
    serve_timeout_s: float = 600.0
    """Seconds to wait for a started server's /v1/models."""
    max_per_problem: int = 4
    """Right traces kept per problem, so that easy problems do not fill D_START with near-copies."""
    near_duplicate: float = 0.9
    """A trace whose word 5-grams overlap a kept trace of its problem this much (Jaccard) is left out."""
    iterations: int = 1
    """RFT rounds. Round 1 is the paper's (rft, sft-start); round N samples with the model of round N-1
    and fine-tunes the base model again on what it got right (rft-N, sft-start-N). A round runs only
    while the held-out pass@1 rises: the last SFT's engine_eval ([second_sft], else [sft]) after round
    N-1 must be above that after round N-2 (after round 1: above the Hint-RFT model's)."""


@dataclass
class Recipe:
    name: str = "recipe"
    workdir: str = "runs/recipe"
    data: DataConfig = field(default_factory=DataConfig)
    generate: Any = field(default_factory=GenerateConfig)
    """A `GenerateConfig`."""
    filter: FilterConfig = field(default_factory=FilterConfig)
    sft: SFTConfig = field(default_factory=SFTConfig)
    launch: LaunchConfig = field(default_factory=LaunchConfig)
    rft: RFTConfig = field(default_factory=RFTConfig)
    second_sft: SFTConfig | None = None
    """SFT settings for the last stage (D_START); None: the same as `sft`."""
    slurm: SlurmConfig = field(default_factory=SlurmConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


TABLES: dict[str, type] = {
    "data": DataConfig,
    "generate": GenerateConfig,
    "filter": FilterConfig,
    "sft": SFTConfig,
    "launch": LaunchConfig,
    "rft": RFTConfig,
    "second_sft": SFTConfig,
    "slurm": SlurmConfig,
}
"""The recipe's tables and the dataclass each is read into."""


def _field_docs(cls: type) -> dict[str, str]:
    """The docstrings written under a dataclass's fields (attribute docstrings), by field name."""
    import ast
    import inspect
    import itertools
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):
        return {}
    docs: dict[str, str] = {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def _toml_value(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def recipe_schema() -> str:
    """Every table and key a recipe takes, with its default and help, as a commented TOML recipe."""
    lines = [f"# start-tui training recipe: every key with its default. Stages: {', '.join(STAGES)}."]
    top = _field_docs(Recipe)
    for f in fields(Recipe):
        if f.name not in TABLES:
            lines.append(f"{f.name} = {_toml_value(f.default)}" + (f"  # {top[f.name]}" if f.name in top else ""))
    for name, cls in TABLES.items():
        if name == "second_sft":
            lines += ["", "# [second_sft]: optional, the keys of [sft] for the last stage (absent: [sft] is used)"]
            continue
        lines += ["", f"[{name}]"]
        doc = " ".join((cls.__doc__ or "").split())
        if doc and not doc.startswith(cls.__name__ + "("):
            lines.append(f"# {doc}")
        docs = _field_docs(cls)
        instance = cls()
        for f in fields(cls):
            help = f.metadata["option"].help if "option" in f.metadata else f.metadata.get("help", docs.get(f.name, ""))
            value = getattr(instance, f.name)
            line = f"{f.name} = {_toml_value(value)}" if value is not None else f"# {f.name} = (unset)"
            lines.append(line + (f"  # {help}" if help else ""))
    return "\n".join(lines) + "\n"


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise StartTuiError(f"{where} must be a table, not {type(data).__name__}.")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise StartTuiError(f"Unknown keys in {where}: {', '.join(unknown)} (known: {', '.join(known)}).")
    values = {}
    defaults = cls()
    for key, value in data.items():
        default = getattr(defaults, key)
        if cls is GenerateConfig and "option" in known[key].metadata:
            values[key] = coerce(key, value, where)
            continue
        if cls is Recipe and key in TABLES:
            values[key] = _build(TABLES[key], value, f"[{key}]")
            continue
        if is_dataclass(default):
            values[key] = _build(type(default), value, f"{where}.{key}")
            continue
        if isinstance(default, bool) and not isinstance(value, bool):
            raise StartTuiError(f"{key} in {where} must be true or false, not {value!r}.")
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if (
            isinstance(default, int | float | str | list)
            and default is not None
            and not isinstance(value, type(default))
        ):
            raise StartTuiError(f"{key} in {where} must be a {type(default).__name__}, not {type(value).__name__}.")
        values[key] = value
    return cls(**values)


def recipe_from_dict(data: dict[str, Any], where: str = "the recipe") -> Recipe:
    """A recipe again from `Recipe.to_dict()` (what a job file carries)."""
    built: Recipe = _build(Recipe, {k: v for k, v in data.items() if v is not None}, where)
    return built


def load_recipe(path: str | Path) -> Recipe:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StartTuiError(f"The recipe {str(p)!r} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StartTuiError(f"The recipe {str(p)!r} cannot be read ({exc}).") from None
    try:
        if p.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = tomllib.loads(text)
    except Exception as exc:  # tomllib / yaml parse errors
        raise StartTuiError(f"The recipe {str(p)!r} is not valid {p.suffix.lstrip('.').upper()} ({exc}).") from None
    recipe: Recipe = _build(Recipe, data, str(p))
    # a problem file named relative to the recipe is found next to it
    recipe.data.problems = [
        str(p.parent / src) if not Path(src).is_absolute() and (p.parent / src).is_file() else src
        for src in recipe.data.problems
    ]
    if recipe.launch.launcher not in ("none", "torchrun", "deepspeed", "accelerate"):
        raise StartTuiError(f"launcher in {p} must be none, torchrun, deepspeed or accelerate.")
    if recipe.rft.iterations < 1:
        raise StartTuiError(f"iterations in [rft] of {p} must be at least 1.")
    if recipe.rft.iterations > 1:
        last = recipe.second_sft or recipe.sft
        held_out = [
            (c.engine_eval, c.engine_eval_limit, c.engine_eval_max_tokens, c.engine_eval_backend)
            for c in (recipe.sft, last)
        ]
        if not recipe.sft.engine_eval or held_out[0] != held_out[1]:
            raise StartTuiError(
                f"iterations > 1 in [rft] of {p} needs the same engine_eval (its limit, max tokens and backend) in "
                "[sft] and [second_sft]: a further round runs only while the held-out pass@1 they measure rises."
            )
    for table, sft in (("sft", recipe.sft), ("second_sft", recipe.second_sft)):
        if sft is not None and sft.engine_eval_backend not in ("hf", "llama"):
            raise StartTuiError(
                f"engine_eval_backend in [{table}] of {p} must be hf or llama, not {sft.engine_eval_backend!r}."
            )
    if recipe.sft.adapter not in ("none", "lora", "qlora"):
        raise StartTuiError(f"adapter in [sft] of {p} must be none, lora or qlora, not {recipe.sft.adapter!r}.")
    if recipe.sft.adapter != "none" and (recipe.sft.lora_rank < 1 or not recipe.sft.lora_target_modules):
        raise StartTuiError(f"An adapter in [sft] of {p} needs lora_rank >= 1 and at least one lora_target_modules.")
    for table, sft in (("sft", recipe.sft), ("second_sft", recipe.second_sft)):
        if sft is not None and sft.overlength not in ("drop", "truncate", "error"):
            raise StartTuiError(
                f"overlength in [{table}] of {p} must be drop, truncate or error, not {sft.overlength!r}."
            )
    for table, sft in (("sft", recipe.sft), ("second_sft", recipe.second_sft)):
        if sft is not None and (sft.save_steps <= 0 or sft.eval_steps <= 0 or not 0 <= sft.eval_share < 1):
            raise StartTuiError(f"[{table}] of {p} needs save_steps > 0, eval_steps > 0 and eval_share in [0, 1).")
        if sft is not None and (sft.loss_chunk < 0 or sft.sequence_parallel < 1):
            raise StartTuiError(f"[{table}] of {p} needs loss_chunk >= 0 and sequence_parallel >= 1.")
        if sft is not None and sft.loss_chunk and sft.liger:
            raise StartTuiError(
                f"[{table}] of {p} sets both loss_chunk and liger; Liger's fused loss chunks itself, keep one."
            )
        if sft is not None and sft.packing and sft.micro_batch > 1 and sft.attn_implementation.startswith("flash"):
            raise StartTuiError(  # transformers finds flash-attention's sequence boundaries in one row only
                f"packing with {sft.attn_implementation} in [{table}] of {p} needs micro_batch = 1 (pack longer rows)."
            )
    slurm = recipe.slurm
    if not all(isinstance(line, str) for line in (*slurm.setup, *slurm.sbatch)) or slurm.generate_gpus < 0:
        raise StartTuiError(f"[slurm] of {p} needs setup and sbatch as lists of strings and generate_gpus >= 0.")
    if recipe.launch.nnodes < 1 or recipe.launch.nproc_per_node < 1:
        raise StartTuiError(f"[launch] of {p} needs nnodes >= 1 and nproc_per_node >= 1.")
    if recipe.rft.max_per_problem < 1 or not 0 < recipe.rft.near_duplicate <= 1:
        raise StartTuiError(f"[rft] of {p} needs max_per_problem >= 1 and near_duplicate in (0, 1].")
    if recipe.data.overlap_ngram < 1 or not 0 <= recipe.data.overlap_share <= 1:
        raise StartTuiError(f"[data] of {p} needs overlap_ngram >= 1 and overlap_share between 0 and 1.")
    return recipe
