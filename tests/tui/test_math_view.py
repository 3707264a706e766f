"""Math in the view reads as math: while it streams, once its segment is finished, and in the answer box."""

from __future__ import annotations

import re

from start_tui.engine import Finished
from start_tui.engine.events import AnswerFound, Started, TextDelta
from start_tui.tui.app import StartApp
from start_tui.tui.settings import Settings
from start_tui.tui.widgets.segments import AnswerPanel, FrozenThinking, ThinkingSegment
from tests.tui.test_conversation import settle

THINKING = (
    "The product is \\( 10! = 2^8 \\times 3^4 \\times 5^2 \\times 7 \\), so\n\n"
    "\\[ \\sum_{i=1}^{n} i^2 = \\frac{n(n+1)(2n+1)}{6} \\]\n\n"
    "and `\\(code\\)` stays as written.\n\n"
)


def screen_text(app: StartApp) -> str:
    svg = app.export_screenshot()
    return "".join(re.findall(r">([^<]*)</text>", svg)).replace("&#160;", " ").replace("&amp;", "&")


async def test_latex_streams_and_stays_readable_and_the_answer_box_too():
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=(100, 30)) as pilot:
        conversation = app.conversation
        await conversation.show([Started("t", "p", [])])
        for i in range(0, len(THINKING), 9):  # a formula arrives in pieces, as tokens do
            await conversation.show([TextDelta(THINKING[i : i + 9])])
        await settle(pilot, conversation)
        assert conversation.query(ThinkingSegment)
        live = screen_text(app)
        assert "2⁸ × 3⁴ × 5² × 7" in live and "∑ᵢ₌₁ⁿ i² = n(n+1)(2n+1)/6" in live, live
        assert "\\times" not in live and "[ " not in live and "\\(code\\)" in live
        await conversation.show([AnswerFound("\\frac{1}{2}"), Finished("eos")])
        await settle(pilot, conversation)
        assert conversation.query(FrozenThinking) and not conversation.query(ThinkingSegment)
        done = screen_text(app)
        assert "2⁸ × 3⁴ × 5² × 7" in done and "∑ᵢ₌₁ⁿ i² = n(n+1)(2n+1)/6" in done, done
        assert "Final answer: 1/2" in done and app.query_one(AnswerPanel).answer == "\\frac{1}{2}"
