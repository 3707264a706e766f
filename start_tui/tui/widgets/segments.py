"""The pieces of a conversation: streamed thinking, hint panels, execution panels, the final answer.

Each piece knows the trace offset where it ends, so a person can branch from it.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markdown import Markdown as RichMarkdown
from rich.padding import Padding
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text
from textual.widgets import Collapsible, Markdown, Static

from start_tui.engine.hints import split_at_fence
from start_tui.engine.reasoner import output_body
from start_tui.tui.widgets.cached import CachedRenderable


class ThinkingSegment(Markdown):
    """Model thinking, streamed with Textual's MarkdownStream; a new one starts after each panel."""

    DEFAULT_CSS = """
    ThinkingSegment {
        margin: 0 1 0 1;
        padding: 0;
        background: transparent;
    }
    """

    def __init__(self, start: int) -> None:
        super().__init__("", classes="thinking")
        self.start_offset = start
        self.end_offset = start
        self.chars = 0

    def label(self) -> str:
        return "thinking"


class FrozenThinking(CachedRenderable):
    """A finished thinking segment: its Markdown rendered once, as one widget.

    Textual's Markdown keeps a widget per block and re-measures them at every layout; a long chain
    of thought has hundreds of short paragraphs. Only the live segment streams as a Markdown widget.
    """

    DEFAULT_CSS = """
    FrozenThinking {
        margin: 0 1 1 1;
        padding: 0;
    }
    """

    def __init__(self, text: str, start: int, end: int) -> None:
        super().__init__(RichMarkdown(text, code_theme="ansi_dark"), classes="thinking")
        self.text = text
        self.start_offset = start
        self.end_offset = end

    def label(self) -> str:
        return "thinking"

    def clone(self) -> FrozenThinking:
        copy = FrozenThinking(self.text, self.start_offset, self.end_offset)
        copy.adopt_cache(self)
        return copy

    def folded(self) -> RenderableType:
        return Padding(self.renderable, (0, 1, 1, 1))


class HintPanel(Collapsible):
    """One hint insertion: its text and where it came from (the policy or a person)."""

    DEFAULT_CSS = """
    HintPanel {
        margin: 1 1 0 1;
        border-top: none;
        padding-bottom: 0;
        border-left: thick $warning;
        background: $warning 8%;
    }
    HintPanel.-user {
        border-left: thick $accent;
        background: $accent 10%;
    }
    HintPanel .hint-text { color: $text; }
    """

    def __init__(self, text: str, source: str, category: str, trigger: str, start: int) -> None:
        who = "you" if source == "user" else "policy"
        where = trigger.replace("conjunction:", "after ") if trigger and source != "user" else "by hand"
        title = f"hint · {who} · {where}" + (f" · {category}" if category and source != "user" else "")
        shown, _ = split_at_fence(text)
        self.body = CachedRenderable(Text(shown.rstrip()), classes="hint-text")
        super().__init__(self.body, title=title, collapsed=False, classes="-user" if source == "user" else "")
        self.text = text
        self.source = source
        self.start_offset = start
        self.end_offset = start + len(text)
        self._args = (text, source, category, trigger, start)
        self._shown = shown.rstrip()

    def label(self) -> str:
        return self.title

    def clone(self) -> HintPanel:
        panel = HintPanel(*self._args)
        panel.collapsed = self.collapsed
        return panel

    def folded(self) -> RenderableType:
        colour = "magenta" if self.source == "user" else "yellow"
        body = Panel(Text(self._shown), title=f"▼ {self.title}", title_align="left", border_style=colour)
        return Padding(body, (1, 1, 0, 1))


class ExecutionPanel(Collapsible):
    """One sandboxed execution: the code (highlighted), its output, status and duration."""

    DEFAULT_CSS = """
    ExecutionPanel {
        margin: 1 1 0 1;
        border-top: none;
        padding-bottom: 0;
        border-left: thick $primary;
        background: $primary 6%;
    }
    ExecutionPanel.-error { border-left: thick $error; }
    ExecutionPanel.-ok { border-left: thick $success; }
    ExecutionPanel .exec-output { margin-top: 1; color: $text-muted; }
    ExecutionPanel.-error .exec-output { color: $text-error; }
    """

    def __init__(self, start: int, code: str = "") -> None:
        self.code = code
        self.code_view = CachedRenderable(self._syntax(), classes="exec-code")
        self.output_view = CachedRenderable("", classes="exec-output")
        super().__init__(self.code_view, self.output_view, title="python · writing…", collapsed=False)
        self.start_offset = start
        self.end_offset = start
        self.index = 0
        self.status = "writing"
        self.user_hints = 0
        self.output = ""

    def _set_title(self, base: str) -> None:
        self.title = base + (" · hint by hand" if self.user_hints else "")

    def add_user_hint(self, comment: str) -> None:
        """A hint typed while the model wrote this block: it is a comment of the code."""
        self.user_hints += 1
        self.append_code(comment)
        self._set_title(str(self.title).removesuffix(" · hint by hand"))

    def _syntax(self) -> Syntax:
        return Syntax(self.code.rstrip("\n") or " ", "python", theme="ansi_dark", background_color="default")

    def append_code(self, text: str) -> None:
        self.code += text
        self.code_view.update(self._syntax())

    def set_running(self, index: int) -> None:
        self.index = index
        self.status = "running"
        self._set_title(f"python · run {index} · running…")

    def set_result(self, index: int, ok: bool, timed_out: bool, executed: bool, duration_s: float, output: str) -> None:
        self.index = index
        self.status = "not run" if not executed else "timeout" if timed_out else "ok" if ok else "error"
        self._set_title(f"python · run {index} · {self.status} · {duration_s * 1000:.0f} ms")
        self.add_class("-ok" if ok else "-error")
        body = output_body(output)
        self.output = body
        self.output_view.update(Text(body))

    def label(self) -> str:
        return self.title

    def clone(self) -> ExecutionPanel:
        panel = ExecutionPanel(self.start_offset, self.code)
        panel.end_offset, panel.index, panel.status = self.end_offset, self.index, self.status
        panel.user_hints, panel.output, panel.title = self.user_hints, self.output, self.title
        panel.collapsed = self.collapsed
        panel.output_view.update(Text(self.output))
        for name in ("-ok", "-error"):
            if self.has_class(name):
                panel.add_class(name)
        return panel

    def folded(self) -> RenderableType:
        colour = "green" if self.status == "ok" else "red" if self.status in ("error", "timeout") else "blue"
        parts: list[RenderableType] = [self._syntax()]
        if self.output:
            parts += [Text(""), Text(self.output, style="dim" if self.status == "ok" else "red")]
        body = Panel(Group(*parts), title=f"▼ {self.title}", title_align="left", border_style=colour)
        return Padding(body, (1, 1, 0, 1))


class AnswerPanel(Static):
    DEFAULT_CSS = """
    AnswerPanel {
        margin: 1 1;
        padding: 0 1;
        border: round $success;
        color: $text-success;
        text-style: bold;
    }
    """

    def __init__(self, answer: str, start: int) -> None:
        super().__init__(Text(f"Final answer: {answer}"))
        self.answer = answer
        self.start_offset = self.end_offset = start

    def label(self) -> str:
        return f"answer {self.answer}"

    def clone(self) -> AnswerPanel:
        return AnswerPanel(self.answer, self.start_offset)

    def folded(self) -> RenderableType:
        body = Panel(Text(f"Final answer: {self.answer}", style="bold green"), border_style="green")
        return Padding(body, (1, 1, 1, 1))
