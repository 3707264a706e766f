"""An execution panel's title tells the truth: a block that never ran, an output the model read cut."""

from __future__ import annotations

from start_tui.engine import Finished
from start_tui.engine.events import CodeClosed, CodeFinished, CodeOpened, CodeStarted, Started, TextDelta
from start_tui.engine.reasoner import OMITTED, format_output
from start_tui.sandbox.client import ExecResult
from start_tui.tui.app import StartApp
from start_tui.tui.settings import Settings
from start_tui.tui.widgets.items import ExecutionItem


def executions(app: StartApp) -> list[ExecutionItem]:
    return [i for i in app.conversation.segments if isinstance(i, ExecutionItem)]


async def test_a_block_the_run_ended_in_says_it_never_ran():
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=(100, 30)):
        await app.conversation.show(
            [
                Started("t", "p", []),
                TextDelta("Let me compute.\n"),
                CodeOpened("```python\n"),
                TextDelta("x = 1\n", "code"),
            ]
        )
        assert executions(app)[0].status == "writing"
        await app.conversation.show([Finished("stopped")])
        [item] = executions(app)
        assert item.status == "not run" and "writing" not in item.title and "stopped" in item.title


async def test_an_output_cut_for_the_model_says_so_in_the_title():
    long = ExecResult(
        ok=True, stdout="".join(f"{i}\n" for i in range(3000)), error=None, timed_out=False, duration_s=0.1
    )
    text = format_output(long, 2000, 5)
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=(100, 30)):
        await app.conversation.show(
            [
                Started("t", "p", []),
                CodeOpened("```python\n"),
                TextDelta("for i in range(3000): print(i)\n", "code"),
                CodeClosed(),
                CodeStarted(1, "for i in range(3000): print(i)\n"),
                CodeFinished(
                    index=1, ok=True, stdout=long.stdout, error=None, timed_out=False, duration_s=0.1, output_text=text
                ),
            ]
        )
        [item] = executions(app)
        cut = OMITTED.search(text)
        assert cut is not None and f"the model read it cut ({int(cut.group(1)):,} characters left out)" in item.title


async def test_a_figure_line_shows_where_the_figure_was_saved():
    text = "\n```output\nok\n[figure 1: 640x480, saved]\n```\n"
    figure = {"number": 1, "width": 640, "height": 480, "path": "/tmp/run.figures/abc-1.png"}
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=(100, 30)):
        await app.conversation.show(
            [
                Started("t", "p", []),
                CodeOpened("```python\n"),
                TextDelta("plt.plot([1])\n", "code"),
                CodeClosed(),
                CodeStarted(1, "plt.plot([1])\n"),
                CodeFinished(
                    index=1,
                    ok=True,
                    stdout="ok\n",
                    error=None,
                    timed_out=False,
                    duration_s=0.1,
                    output_text=text,
                    figures=[figure],
                ),
            ]
        )
        [item] = executions(app)
        assert item.output == "ok\n[figure 1: 640x480, saved] /tmp/run.figures/abc-1.png"
