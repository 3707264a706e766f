"""Parallel samples in the terminal: a live table of K rows, then the vote (`start-tui solve --samples K`)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from start_tui.engine.events import (
    AnswerFound,
    CodeFinished,
    CodeOpened,
    CodeStarted,
    Event,
    Finished,
    HintInserted,
    TextDelta,
)
from start_tui.engine.samples import SampleSet
from start_tui.engine.vote import Vote
from start_tui.visible import visible, visible_event


@dataclass
class _Row:
    status: str = "waiting"
    tools: int = 0
    failed: int = 0
    hints: str = ""
    tail: str = ""
    answer: str = ""


class SampleBoard:
    """One row per sample: status, tokens, tool calls, hints, the latest text, the answer so far."""

    def __init__(self, group: SampleSet, model: str) -> None:
        self.group = group
        self.model = model
        self.rows = [_Row() for _ in group.runs]

    def update(self, i: int, event: Event) -> None:
        row = self.rows[i]
        event = visible_event(event)  # what the model and its code wrote never drives the terminal
        if isinstance(event, TextDelta):
            row.status = "code" if event.kind == "code" else "thinking"
            row.tail = (row.tail + event.text)[-200:]
        elif isinstance(event, HintInserted):
            row.hints += ("," if row.hints else "") + event.category
            row.tail = ""
        elif isinstance(event, CodeOpened):
            row.status = "code"
        elif isinstance(event, CodeStarted):
            row.status = "running"
        elif isinstance(event, CodeFinished):
            row.tools += event.executed
            row.failed += event.executed and not event.ok
            row.status = "thinking"
            row.tail = ""
        elif isinstance(event, AnswerFound):
            row.answer = event.answer
        elif isinstance(event, Finished):
            row.status = event.reason

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        title = Text(f"{len(self.rows)} samples · {visible(self.model)}")
        table = Table(title=title, title_justify="left", expand=True)
        table.add_column("#", justify="right", width=2)
        table.add_column("status", width=11)
        table.add_column("tokens", justify="right", width=6)
        table.add_column("tools", justify="right", width=5)
        table.add_column("hints", max_width=22, overflow="ellipsis", no_wrap=True)
        table.add_column("latest", ratio=1, overflow="ellipsis", no_wrap=True)
        table.add_column("answer", max_width=24, overflow="ellipsis", no_wrap=True)
        for i, (row, run) in enumerate(zip(self.rows, self.group.runs, strict=True)):
            style = "green" if row.status == "eos" else ("dim" if run.finished else "")
            tools = f"{row.tools}" + (f" ({row.failed}!)" if row.failed else "")
            latest = " ".join(row.tail.split())[-80:]
            table.add_row(
                str(i + 1),
                Text(row.status, style=style),
                str(run.tokens_generated),
                tools,
                Text(row.hints),  # Text, not markup: the model's "[/x]" is text to show, not a tag
                Text(latest),
                Text(row.answer),
            )
        yield table


def print_vote(group: SampleSet, console: Console) -> Vote:
    """Each answer group with its count and members, then `Voted answer: ...`."""
    result = group.vote()
    console.print(f"[bold]Vote over {result.samples} samples[/]")
    for g in result.groups:
        members = ", ".join(str(m + 1) for m in g.members)
        label = "sample" if g.size == 1 else "samples"
        console.print(Text.assemble(f"  {g.size} × ", (visible(g.answer), "bold"), f"  ({label} {members})"))
    if result.unanswered:
        console.print(
            f"  [dim]no answer: sample{'s' if len(result.unanswered) > 1 else ''} "
            f"{', '.join(str(m + 1) for m in result.unanswered)}[/]"
        )
    if result.answer is not None:
        console.print(Text.assemble(("Voted answer: ", "bold"), (visible(result.answer), "bold green")))
    else:
        console.print(Text("Voted answer: (none found)", style="bold red"))
    return result
