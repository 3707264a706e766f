"""One line of run facts: model, state, tokens, tokens/s, tool calls, hint rounds, elapsed time."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static


@dataclass
class RunFacts:
    model: str = ""
    state: str = "loading model…"
    tokens: int | None = 0
    """None: not known (a trace cut off, opened without the model that wrote it)."""
    tokens_per_s: float | None = None
    tool_calls: int = 0
    max_tool_calls: int = 0
    rounds: int = 0
    max_rounds: int = 0
    elapsed_s: float | None = 0.0
    """None: not known (a trace cut off before its run closed)."""
    branch: str = ""
    vote: str = ""
    """The live tally of parallel samples, when the run has several."""


class StatusLine(Static):
    """The facts in one line; where the terminal is narrow the least needed go first, and the model's name
    is shortened last."""

    DEFAULT_CSS = """
    StatusLine { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    """

    _facts: RunFacts | None = None

    def show_facts(self, f: RunFacts) -> None:
        self._facts = f
        self.update(self.line(f, self.size.width - 2 if self.size.width else 10_000))

    def on_resize(self) -> None:
        if self._facts is not None:
            self.show_facts(self._facts)

    @staticmethod
    def line(f: RunFacts, width: int) -> Text:
        rate = f"{f.tokens_per_s:.1f} tok/s" if f.tokens_per_s else "- tok/s"
        minutes, seconds = divmod(int(f.elapsed_s or 0), 60)
        # (text, style, how much it is needed: lower stays longer)
        parts = [
            (f" {f.state} ", "bold reverse", 0),
            (f"  {f.model}", "bold", 1),
            (f"  {f.branch}" if f.branch else "", "", 5),
            (f"  tokens {'?' if f.tokens is None else f.tokens}", "", 2),
            (f"  {rate}", "", 8),
            (f"  tools {f.tool_calls}/{f.max_tool_calls}", "", 6),
            (f"  rounds {f.rounds}/{f.max_rounds}", "", 7),
            (f"  {minutes:d}:{seconds:02d}" if f.elapsed_s is not None else "", "", 3),
            (f"  {f.vote}" if f.vote else "", "bold green", 4),
        ]
        parts = [p for p in parts if p[0]]
        while sum(len(t) for t, _, _ in parts) > width and len(parts) > 2:
            parts.remove(max(parts, key=lambda p: p[2]))
        over = sum(len(t) for t, _, _ in parts) - width
        if over > 0:  # the model's name, shortened
            model = parts[1][0]
            parts[1] = (model[: max(4, len(model) - over - 1)] + "…", parts[1][1], 1)
        return Text.assemble(*((t, style) for t, style, _ in parts))
