"""The widgets of a conversation: streamed thinking, hint panels, execution panels, the final answer.

Each widget shows one item (`items.py`) and is made when the item comes near the viewport; what a
person changes on it (a panel collapsed) is written back to the item, so a widget made again later
shows the item as it was left.
"""

from __future__ import annotations

from typing import Any, ClassVar

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments.lexers.python import PythonLexer
from rich.console import RenderableType
from rich.markdown import Markdown as RichMarkdown
from rich.syntax import Syntax
from rich.text import Text
from textual.geometry import Offset
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Collapsible, Markdown, Static
from textual.widgets._markdown import MarkdownBlock, MarkdownParagraph

from start_tui.mathtext import latex_to_unicode, markdown_with_math
from start_tui.tui import graphics
from start_tui.tui.widgets.cached import CachedRenderable
from start_tui.tui.widgets.items import AnswerItem, ExecutionItem, HintItem, ThinkingItem

PYTHON = PythonLexer()
"""One lexer for every panel: looking it up by name costs about as much as highlighting a short block."""


def thinking_renderable(text: str) -> RenderableType:
    """How a finished thinking segment is drawn (also what the line renderer renders off the UI thread)."""
    return RichMarkdown(markdown_with_math(text), code_theme="ansi_dark")


class StreamParagraph(MarkdownParagraph):
    """A paragraph of the live segment, whose inline styles (em, strong, s, code_inline) are its segment's.

    Textual styles a node's component classes through a virtual DOMNode per class, made anew each time
    the node is styled: four per paragraph block, and a streamed paragraph is styled about three times
    (mounted, then each time it stops or starts being the last child). At about sixty objects each, they
    were 85% of what a finished segment left to the garbage collector, and a full collection of it took
    35-75 ms, in the middle of a key's answer as often as not. Held once by the segment instead.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = set()


StreamParagraph._inherit_component_classes = False  # Widget.__init_subclass__ takes no inherit_component_classes


class MathParser:
    """Markdown with its LaTeX math made readable Unicode first, line for line (Textual maps a streamed
    block back to its source lines). A span still open shows as written until it closes."""

    def __init__(self) -> None:
        self.markdown = MarkdownIt("gfm-like")

    def parse(self, src: str, env: Any = None) -> list[Token]:
        return self.markdown.parse(markdown_with_math(src), env)


PARSER = MathParser()
"""The parser of every live segment. Textual's Markdown makes a new one (and its linkifier) for each piece
appended, which streaming does every few tokens: 0.3 ms and over a hundred objects left to the garbage
collector each time. Parsing runs on the event loop and never awaits, so one is enough."""


class ThinkingSegment(Markdown):
    """Model thinking, streamed with Textual's MarkdownStream; a new one starts after each panel.

    Its paragraphs' inline styles are its own component classes (`StreamParagraph`), with the rules
    Textual gives `MarkdownBlock`; it parses with the one shared `PARSER`.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = set(MarkdownBlock.COMPONENT_CLASSES)
    BLOCKS = {**Markdown.BLOCKS, "paragraph_open": StreamParagraph}  # noqa: RUF012 - Textual declares it so

    DEFAULT_CSS = """
    ThinkingSegment {
        margin: 0 1 0 1;
        padding: 0;
        background: transparent;

        &:dark > .code_inline {
            background: $warning 10%;
            color: $text-warning 95%;
        }
        &:light > .code_inline {
            background: $error 5%;
            color: $text-error 95%;
        }
        &:ansi > .code_inline {
            background: ansi_default !important;
        }
        & > .em {
            text-style: italic;
        }
        & > .strong {
            text-style: bold;
        }
        & > .s {
            text-style: strike;
        }
    }
    """

    def __init__(self, item: ThinkingItem) -> None:
        super().__init__("", classes="thinking", parser_factory=lambda: PARSER)  # type: ignore[arg-type,return-value]
        self.item = item


class FrozenThinking(CachedRenderable):
    """A finished thinking segment: its Markdown rendered once, as one widget.

    Textual's Markdown keeps a widget per block and re-measures them at every layout; a long chain
    of thought has hundreds of short paragraphs. Only the live segment streams as a Markdown widget.
    The lines usually come from the line renderer, made off the UI thread (`LineCache`).
    """

    DEFAULT_CSS = """
    FrozenThinking {
        margin: 0 1 1 1;
        padding: 0;
    }
    """

    def __init__(self, item: ThinkingItem, lines: dict[int, list[Strip]] | None = None) -> None:
        super().__init__(thinking_renderable(item.text), classes="thinking")
        self.item = item
        self.ready = lines if lines is not None else {}
        """Unstyled lines per width, rendered elsewhere (the view's line cache)."""

    def lines_for(self, width: int) -> list[Strip] | None:
        return self.ready.get(width)


class Panel(Collapsible):
    """A collapsible panel of the conversation.

    Textual's `Collapsible` scrolls itself into view (animated) a frame after every toggle. In a view
    that mounts only what is near the viewport that scroll can come after the reader has jumped away
    (Home, a search match) and carry the view back. A panel here brings its body into view when it
    is expanded, and only if the view has not moved meanwhile.
    """

    def _watch_collapsed(self, collapsed: bool) -> None:
        self._update_collapsed(collapsed)
        self.post_message(self.Collapsed(self) if collapsed else self.Expanded(self))
        if self.is_mounted and not collapsed and isinstance(self.parent, Widget):
            self.call_after_refresh(self._reveal, self.parent.scroll_offset)

    def _reveal(self, offset: Offset) -> None:
        if self.is_attached and isinstance(self.parent, Widget) and self.parent.scroll_offset == offset:
            self.scroll_visible()


class HintPanel(Panel):
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

    def __init__(self, item: HintItem) -> None:
        self.item = item
        self.body = CachedRenderable(Text(item.shown), classes="hint-text")
        user = item.source == "user"
        super().__init__(self.body, title=item.title, collapsed=item.collapsed, classes="-user" if user else "")
        self.source = item.source

    def set_highlight(self, term: str) -> None:
        self.body.set_highlight(term)


class ExecutionPanel(Panel):
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
    ExecutionPanel .exec-figure { margin-top: 1; }
    ExecutionPanel.-error .exec-output { color: $text-error; }
    """

    def __init__(self, item: ExecutionItem) -> None:
        self.item = item
        self.code_view = CachedRenderable(self._syntax(), classes="exec-code")
        self.output_view = CachedRenderable(Text(item.output), classes="exec-output")
        self.pictures: list[str] = []  # the figures drawn in the panel, in order
        widgets = self._new_pictures()
        super().__init__(self.code_view, self.output_view, *widgets, title=item.title, collapsed=item.collapsed)
        self._show_status()

    def _new_pictures(self) -> list[Widget]:
        """A widget for each figure not drawn yet (none where the terminal draws no pictures)."""
        made = []
        for path in self.item.figures[len(self.pictures) :]:
            widget = graphics.figure_widget(path)
            self.pictures.append(path)
            if widget is not None:
                made.append(widget)
        return made

    # the item's fields, as the panel shows them
    @property
    def code(self) -> str:
        return self.item.code

    @property
    def index(self) -> int:
        return self.item.index

    @property
    def status(self) -> str:
        return self.item.status

    @property
    def output(self) -> str:
        return self.item.output

    @property
    def user_hints(self) -> int:
        return self.item.user_hints

    def _syntax(self) -> Syntax:
        code = self.item.code.rstrip("\n") or " "
        return Syntax(code, PYTHON, theme="ansi_dark", background_color="default")

    def _show_status(self) -> None:
        self.title = self.item.title
        status = self.item.status
        if status not in ("writing", "running"):
            self.add_class("-ok" if status == "ok" else "-error")

    def refresh_item(self) -> None:
        """Show what changed in the item (code written, a run started or finished)."""
        self.code_view.update(self._syntax())
        self.output_view.update(Text(self.item.output))
        if widgets := self._new_pictures():
            self.query_one(Collapsible.Contents).mount_all(widgets)
        self._show_status()

    def set_highlight(self, term: str) -> None:
        self.code_view.set_highlight(term)
        self.output_view.set_highlight(term)


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

    def __init__(self, item: AnswerItem) -> None:
        super().__init__(Text(f"Final answer: {latex_to_unicode(item.answer)}"))
        self.item = item
        self.answer = item.answer
