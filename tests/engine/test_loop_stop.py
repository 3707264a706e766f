"""A model caught repeating itself ends the run (`loop`) instead of spending the token budget there."""

from __future__ import annotations

import random

from start_tui.engine import HintPolicy, Reasoner, RunConfig, TextDelta
from start_tui.engine.events import Finished
from start_tui.engine.reasoner import loop_period
from tests.scripted import PROFILE, ScriptedBackend


def test_the_shortest_repeated_unit_is_found_once_it_covers_enough_text():
    assert loop_period("Let me see.\n" + "```\n" * 100, 400) == 4
    assert loop_period("So " + "I am stuck. " * 40, 400) == 12
    assert loop_period("x" * 399, 400) is None  # not yet long enough
    assert loop_period("abab" * 200, 400) == 2  # the shortest unit, not a multiple of it
    rng = random.Random(0)
    paragraph = "".join(rng.choice("abcdefgh ") for _ in range(300))
    assert loop_period("start " + paragraph * 3, 400) is None  # 900 characters but 3 units: a quote, maybe
    assert loop_period("start " + paragraph * 4, 400) == 300
    assert loop_period(paragraph * 4 + "and then something new.", 400) is None  # it left the loop
    assert loop_period("y" * 5000, 0) is None  # 0: never


def test_a_counting_or_tabulating_text_is_not_a_loop():
    counting = "".join(f"n = {i}: {i * i}\n" for i in range(200))
    table = "| a | b |\n|---|---|\n" + "".join(f"| {i} | {i % 7} |\n" for i in range(150))
    digits = "The digits of 1/7 are 0." + "142857" * 10 + ", and so on."
    for text in (counting, table, digits):
        assert loop_period(text, 400) is None


def run(reply: str, **config: object) -> tuple[list, ScriptedBackend, object]:
    backend = ScriptedBackend(reply, chunk=4)
    reasoner = Reasoner(backend, None, PROFILE, HintPolicy(enabled=False), RunConfig(max_tokens=100_000, **config))  # type: ignore[arg-type]
    r = reasoner.start("What is 2 + 2?")
    events = list(r.events())
    return events, backend, r


def test_a_run_that_repeats_itself_ends_as_a_loop_with_the_unit_in_its_stats():
    reply = "Two and two.\n" + "I think it is four. " * 300 + "Final answer: 4<|end|>"
    events, backend, r = run(reply)
    end = events[-1]
    assert isinstance(end, Finished) and end.reason == "loop"
    assert end.stats["loop_period_chars"] == len("I think it is four. ")
    said = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert said.startswith("Two and two.\nI think it is four. ") and len(said) < 600  # stopped soon after 400
    assert r.trace.meta["finish_reason"] == "loop" and r.trace.text.endswith(said)
    assert backend.stats.tokens_generated < len(reply) // 4  # the stream was closed, not drained


def test_the_stop_can_be_turned_off_and_a_varied_long_text_runs_to_its_end():
    reply = "Two and two.\n" + "I think it is four. " * 300 + "Final answer: 4<|end|>"
    events, _, _ = run(reply, loop_chars=0)
    assert events[-1].reason == "stop"
    varied = "".join(f"Step {i}: {i} plus {i} is {2 * i}.\n" for i in range(300)) + "Final answer: 4<|end|>"
    events, _, _ = run(varied)
    assert events[-1].reason == "stop" and "Step 299" in "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_the_app_says_a_run_ended_in_a_loop_and_a_normal_end_says_only_finished(tmp_path):
    from start_tui.engine.trace import save_traces
    from start_tui.tui.app import StartApp, ended
    from start_tui.tui.settings import Settings

    _, _, looped = run("Two and two.\n" + "I think it is four. " * 300)
    _, _, normal = run("Two and two make 4.\nFinal answer: 4<|end|>")
    assert ended(normal.trace) == "finished" and ended(looped.trace) == "finished · loop"
    path = tmp_path / "looped.jsonl"
    save_traces(path, [looped.trace])
    app = StartApp(Settings(), load_engine=False, open_path=path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.facts.state == "opened · finished · loop"
