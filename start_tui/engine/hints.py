"""The hint library (TOML files in `hints/`) and the hint policy: where hints go and which one.

This is the one place that decides hint insertion: `HintPolicy` says at which triggers a hint may
go (after a conjunction such as `Wait`, before the end-of-thinking stop, after a failed code
block) and `HintChooser` picks the hint text with a seeded generator.
"""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from start_tui.engine.scanner import FENCE_OPENERS
from start_tui.errors import StartTuiError

CODE_FENCE = "\n```python\n"
"""What follows a hint's text: an opened python fence, so the model writes code next."""


def split_at_fence(text: str) -> tuple[str, str | None]:
    """(what a hint says, the code it pre-writes after its opening fence), or (text, None) without a fence."""
    ends = [(text.rfind(f), f) for f in (CODE_FENCE, *FENCE_OPENERS) if f in text]
    if not ends:
        return text, None
    at, fence = max(ends, key=lambda e: (e[0] + len(e[1]), len(e[1])))
    return text[:at], text[at + len(fence) :]


ERROR_CATEGORY = "error_fix"


@dataclass(frozen=True)
class Hint:
    category: str
    text: str
    template: str = ""
    domain: str = "math"

    def render(self) -> str:
        """The exact text inserted into the trace: the hint, an opened fence, the code template."""
        return self.text + CODE_FENCE + self.template.lstrip("\n")


@dataclass
class HintLibrary:
    hints: list[Hint] = field(default_factory=list)

    def domain(self, name: str) -> list[Hint]:
        return [h for h in self.hints if h.domain == name]

    def categories(self, domain: str) -> list[str]:
        seen: list[str] = []
        for h in self.domain(domain):
            if h.category not in seen:
                seen.append(h.category)
        return seen

    def get(self, domain: str, category: str) -> Hint:
        for h in self.domain(domain):
            if h.category == category:
                return h
        known = ", ".join(self.categories(domain)) or "none"
        raise StartTuiError(f"There is no {category!r} hint in the {domain!r} library (known: {known}).")

    @classmethod
    def load(cls, folder: str | Path | None = None) -> HintLibrary:
        """Read every `*.toml` in the folder (default: the library shipped with the package)."""
        base = Path(folder) if folder is not None else default_hints_dir()
        if not base.is_dir():
            raise StartTuiError(f"The hint folder {str(base)!r} does not exist.")
        hints: list[Hint] = []
        for path in sorted(base.glob("*.toml")):
            hints.extend(_read_hint_file(path))
        if not hints:
            raise StartTuiError(f"The hint folder {str(base)!r} holds no hints (*.toml files with [[hint]] tables).")
        return cls(hints)


def _read_hint_file(path: Path) -> list[Hint]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StartTuiError(f"The hint file {str(path)!r} is not valid TOML ({exc}).") from None
    domain = data.get("domain", path.stem)
    out = []
    for i, entry in enumerate(data.get("hint", []), 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str) or not entry.get("category"):
            raise StartTuiError(f"Hint {i} of {str(path)!r} needs a `category` and a `text` string.")
        unknown = set(entry) - {"category", "text", "template"}
        if unknown:
            raise StartTuiError(f"Hint {i} of {str(path)!r} has unknown keys: {', '.join(sorted(unknown))}.")
        out.append(Hint(str(entry["category"]), entry["text"], entry.get("template", ""), str(domain)))
    return out


def default_hints_dir() -> Path:
    """The shipped library: inside the installed wheel, or `hints/` beside the package in a checkout."""
    packaged = Path(str(resources.files("start_tui"))) / "hints"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "hints"


@dataclass
class HintPolicy:
    """Where hints are inserted and how they are chosen (Hint-infer)."""

    enabled: bool = True
    """False gives the plain baseline: no hint is ever inserted (model-written code still runs)."""
    domain: str = "math"
    """Which part of the library to draw from: `math` or `code`."""
    conjunctions: tuple[str, ...] = ("Wait", "Alternatively")
    """Words after which a hint may go (they start a sentence in long chains of thought)."""
    conjunction_probability: float = 0.1
    """Chance that a conjunction gets a hint, while the tool-call budget lasts. A long chain of thought
    says `Wait` every few hundred tokens: taking each would spend the budget in its first pages."""
    min_chars_between: int = 4000
    """No conjunction hint within this many characters of the previous hint or code output."""
    before_stop_rounds: int = 1
    """Hints inserted before the stop, one per round (sequential test-time scaling): before the end of
    thinking, or where the model ends its turn when it has no end of thinking (or never wrote it)."""
    max_tool_calls: int = 6
    """Code executions per problem; no hint is inserted once they are used up."""
    reserve_calls: int | None = None
    """Tool calls that hints after a conjunction or an error leave for the before-stop rounds still to
    come (None: one per round; never more than the rounds left)."""
    categories: tuple[str, ...] = ()
    """Categories to draw from; empty means every category of the domain except `error_fix`."""
    fixed_category: str | None = None
    """Always use this category instead of a random choice."""
    cycle_from: int | None = None
    """Take the categories in turn, starting from this one (parallel samples that explore different tools)."""
    error_hint: bool = True
    """After a failed code block, insert the `error_fix` hint (it opens a new code block)."""
    seed: int = 0
    """Seed of the hint choice, so runs are reproducible."""

    def reserved(self, rounds_used: int) -> int:
        """Tool calls kept back for the before-stop rounds still to come."""
        left = max(0, self.before_stop_rounds - rounds_used) if self.enabled else 0
        return left if self.reserve_calls is None else min(left, self.reserve_calls)

    def validate(self, library: HintLibrary) -> None:
        if self.max_tool_calls < 0 or self.before_stop_rounds < 0 or (self.reserve_calls or 0) < 0:
            raise StartTuiError("Hint rounds, max tool calls and reserved calls must be 0 or more.")
        if self.min_chars_between < 0:
            raise StartTuiError("The minimum distance between hints must be 0 or more.")
        if not 0.0 <= self.conjunction_probability <= 1.0:
            raise StartTuiError("The conjunction probability must lie between 0 and 1.")
        if not library.domain(self.domain):
            raise StartTuiError(f"The hint library has no {self.domain!r} hints.")
        for category in (*self.categories, *((self.fixed_category,) if self.fixed_category else ())):
            library.get(self.domain, category)


class HintChooser:
    """Seeded choice of hints for one run: from the policy's seed and the problem, so that a run is
    reproducible and the problems of one evaluation draw different hints, as the paper's random choice does."""

    def __init__(self, library: HintLibrary, policy: HintPolicy, problem: str = "") -> None:
        self.library = library
        self.policy = policy
        self.rng = random.Random(f"{policy.seed}:{problem}" if problem else policy.seed)
        pool = policy.categories or tuple(c for c in library.categories(policy.domain) if c != ERROR_CATEGORY)
        self.pool = [library.get(policy.domain, c) for c in pool]
        self.chosen = 0

    def choose(self) -> Hint:
        if self.policy.fixed_category:
            return self.library.get(self.policy.domain, self.policy.fixed_category)
        if self.policy.cycle_from is not None:
            self.chosen += 1
            return self.pool[(self.policy.cycle_from + self.chosen - 1) % len(self.pool)]
        return self.rng.choice(self.pool)

    def error_hint(self) -> Hint | None:
        try:
            return self.library.get(self.policy.domain, ERROR_CATEGORY)
        except StartTuiError:
            return None

    def take_conjunction(self) -> bool:
        """Roll for a conjunction hint (always draws, so the sequence is seed-stable)."""
        return self.rng.random() < self.policy.conjunction_probability
