"""The conversation as data: one item per segment (thinking, hint, execution, answer).

The view (`conversation.py`) mounts widgets only for the items near its viewport; branching,
search, copy and export read these items, so they work over the whole trace whatever is on
screen. A widget built for an item shows it and writes back what a person changes (a panel
collapsed). An item keeps the box height its widget has at each width, measured or worked out
from the lines it renders, so that the view knows where every item lies without mounting it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from start_tui.engine.hints import split_at_fence


@dataclass(eq=False)
class Item:
    start_offset: int
    end_offset: int
    collapsed: bool = False
    heights: dict[int, int] = field(default_factory=dict, repr=False)
    """The widget's box height (border and padding in, margins out) at each width of the view."""
    measured: set[int] = field(default_factory=set, repr=False)
    """The widths whose height was measured on a laid-out widget (the others are estimates)."""

    margin: ClassVar[tuple[int, int]] = (0, 0)
    """Top and bottom margin of the item's widget, as its CSS has them (the view adds them up)."""

    def label(self) -> str:
        raise NotImplementedError

    def searchable(self) -> str:
        """The text a search in the trace looks through."""
        raise NotImplementedError

    def forget_heights(self) -> None:
        """Its content changed: what was measured no longer holds."""
        self.heights.clear()
        self.measured.clear()


@dataclass(eq=False)
class ThinkingItem(Item):
    text: str = ""
    margin: ClassVar[tuple[int, int]] = (0, 1)

    def label(self) -> str:
        return "thinking"

    def searchable(self) -> str:
        return self.text


@dataclass(eq=False)
class HintItem(Item):
    text: str = ""
    source: str = "auto"
    category: str = ""
    trigger: str = ""
    margin: ClassVar[tuple[int, int]] = (1, 0)

    @property
    def title(self) -> str:
        who = "you" if self.source == "user" else "policy"
        where = self.trigger.replace("conjunction:", "after ") if self.trigger and self.source != "user" else "by hand"
        return f"hint · {who} · {where}" + (f" · {self.category}" if self.category and self.source != "user" else "")

    @property
    def shown(self) -> str:
        """The hint as a person reads it: the text before its opened fence."""
        return split_at_fence(self.text)[0].rstrip()

    def label(self) -> str:
        return self.title

    def searchable(self) -> str:
        return self.text


@dataclass(eq=False)
class ExecutionItem(Item):
    code: str = ""
    index: int = 0
    status: str = "writing"
    title: str = "python · writing…"
    output: str = ""
    user_hints: int = 0
    figures: list[str] = field(default_factory=list)
    """The saved PNG of each figure the code drew that the terminal can draw (`graphics.drawable`)."""
    margin: ClassVar[tuple[int, int]] = (1, 0)

    def label(self) -> str:
        return self.title

    def searchable(self) -> str:
        return f"{self.code}\n{self.output}"


@dataclass(eq=False)
class AnswerItem(Item):
    answer: str = ""
    margin: ClassVar[tuple[int, int]] = (1, 1)

    def label(self) -> str:
        return f"answer {self.answer}"

    def searchable(self) -> str:
        return f"Final answer: {self.answer}"


def segment_preview(item: Item, width: int = 72) -> str:
    """One line for a list of segments: what it is and, for text, how it ends (a branch starts there)."""
    if isinstance(item, ThinkingItem):
        text = " ".join(item.text.split())
        return "thinking · " + (text if len(text) <= width else "…" + text[-width + 1 :])
    if isinstance(item, ExecutionItem):
        first = next((line.strip() for line in item.code.splitlines() if line.strip()), "")
        return f"{item.title} · {first[:width]}"
    if isinstance(item, HintItem):
        return f"{item.label()} · {' '.join(item.text.split())[:width]}"
    return item.label()
