"""Engine options shared by every front end (solve, the TUI): one place builds backend, sandbox, reasoner."""

from __future__ import annotations

from dataclasses import dataclass, replace

from start_tui.backends import SamplingParams, open_backend
from start_tui.engine import HintLibrary, HintPolicy, Reasoner, RunConfig, get_profile, select_profile
from start_tui.errors import StartTuiError
from start_tui.sandbox import Sandbox, SandboxConfig


@dataclass
class EngineOptions:
    model: str | None = None
    """A .gguf path (llama), a model folder (hf) or a served model name (openai); None: the embedded model."""
    backend: str = "llama"
    base_url: str | None = None
    """The OpenAI-compatible server, for backend 'openai'."""
    api_key_env: str | None = None
    """The environment variable holding the server's API key (default OPENAI_API_KEY)."""
    device: str | None = None
    dtype: str | None = None
    profile: str | None = None
    prompt_file: str | None = None
    """A plain-text prompt with a `{problem}` slot that replaces the profile's (few-shot prompts for base models)."""
    n_ctx: int = 8192
    max_tokens: int = 2048
    temperature: float | None = None
    top_p: float | None = None
    seed: int = 0
    hints_enabled: bool = True
    domain: str = "math"
    conjunctions: tuple[str, ...] = ("Wait", "Alternatively")
    rounds: int = 1
    max_tool_calls: int = 6
    fixed_category: str | None = None
    hints_dir: str | None = None
    timeout_s: float = 10.0
    persist: bool = True

    def policy(self) -> HintPolicy:
        return HintPolicy(
            enabled=self.hints_enabled,
            domain=self.domain,
            conjunctions=self.conjunctions,
            before_stop_rounds=self.rounds,
            max_tool_calls=self.max_tool_calls,
            fixed_category=self.fixed_category,
            seed=self.seed,
        )


def parse_conjunctions(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(",") if w.strip())


def read_prompt_file(path: str) -> str:
    """A prompt template the user wrote: its text without the trailing newline, checked for the `{problem}` slot."""
    from start_tui.userfiles import read_user_text

    text = read_user_text(path, "prompt file").rstrip("\n")
    if "{problem}" not in text:
        raise StartTuiError(
            f"The prompt file {path!r} has no {{problem}} slot; write {{problem}} where the problem goes."
        )
    return text


def build_reasoner(opts: EngineOptions) -> tuple[Reasoner, Sandbox]:
    """Backend, sandbox and reasoner for the options; the caller closes the sandbox (and the backend)."""
    if opts.max_tokens <= 0:
        raise StartTuiError("The token limit (--max-tokens) must be a positive number.")
    library = HintLibrary.load(opts.hints_dir)
    policy = opts.policy()
    policy.validate(library)
    if opts.profile:
        get_profile(opts.profile)  # fail before loading a model
    prompt = read_prompt_file(opts.prompt_file) if opts.prompt_file else None
    backend = open_backend(
        opts.model,
        n_ctx=opts.n_ctx,
        seed=opts.seed,
        kind=opts.backend,
        base_url=opts.base_url,
        api_key_env=opts.api_key_env,
        device=opts.device,
        dtype=opts.dtype,
    )
    profile = get_profile(opts.profile) if opts.profile else select_profile(backend.metadata())
    if prompt is not None:
        profile = replace(profile, few_shot=prompt)
    sampling = SamplingParams(
        max_tokens=opts.max_tokens,
        temperature=profile.temperature if opts.temperature is None else opts.temperature,
        top_p=profile.top_p if opts.top_p is None else opts.top_p,
        top_k=profile.top_k,
        repeat_penalty=profile.repeat_penalty,
        seed=opts.seed,
    )
    sandbox = Sandbox(SandboxConfig(timeout_s=opts.timeout_s, persist=opts.persist))
    config = RunConfig(max_tokens=opts.max_tokens, sampling=sampling)
    return Reasoner(backend, sandbox, profile, policy, config, library), sandbox
