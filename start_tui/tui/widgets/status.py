"""One line of run facts: model, state, tokens, tokens/s, tool calls, hint rounds, elapsed time."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static


@dataclass
class RunFacts:
    model: str = ""
    state: str = "loading model…"
    tokens: int = 0
    tokens_per_s: float | None = None
    tool_calls: int = 0
    max_tool_calls: int = 0
    rounds: int = 0
    max_rounds: int = 0
    elapsed_s: float = 0.0
    branch: str = ""
    vote: str = ""
    """The live tally of parallel samples, when the run has several."""


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    """

    def show_facts(self, f: RunFacts) -> None:
        rate = f"{f.tokens_per_s:.1f} tok/s" if f.tokens_per_s else "- tok/s"
        minutes, seconds = divmod(int(f.elapsed_s), 60)
        parts = [
            (f" {f.state} ", "bold reverse"),
            (f"  {f.model}", "bold"),
            (f"  {f.branch}", ""),
            (f"  tokens {f.tokens}", ""),
            (f"  {rate}", ""),
            (f"  tools {f.tool_calls}/{f.max_tool_calls}", ""),
            (f"  rounds {f.rounds}/{f.max_rounds}", ""),
            (f"  {minutes:d}:{seconds:02d}", ""),
        ]
        if f.vote:
            parts.append((f"  {f.vote}", "bold green"))
        self.update(Text.assemble(*parts))
