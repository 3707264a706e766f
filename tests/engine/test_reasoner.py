"""The Hint-infer loop on the real embedded model (Gemma 3 270M through llama.cpp, greedy)."""

import threading

from start_tui.engine import (
    CodeFinished,
    Finished,
    HintInserted,
    Paused,
    Span,
    TextDelta,
    Trace,
    format_output,
)
from start_tui.engine.hints import CODE_FENCE
from start_tui.sandbox import ExecResult
from tests.conftest import SUM_OF_SQUARES, make_reasoner


def drain(run):
    return list(run.events())


def test_a_run_inserts_a_hint_runs_the_code_and_continues(backend, sandbox):
    run = make_reasoner(backend, sandbox, conjunctions=(), before_stop_rounds=1).start(SUM_OF_SQUARES)
    events = drain(run)
    hints = [e for e in events if isinstance(e, HintInserted)]
    outputs = [e for e in events if isinstance(e, CodeFinished)]
    assert hints and hints[0].source == "auto" and hints[0].trigger == "before_stop"
    assert outputs and all(o.executed for o in outputs)
    kinds = [s.kind for s in run.trace.spans]
    hint_at = kinds.index("hint")
    # after the hint: the model's code, the closing fence, the real output, then the model goes on
    assert kinds[hint_at : hint_at + 4] == ["hint", "code", "model", "output"]
    assert kinds[hint_at + 4] == "model"
    assert isinstance(events[-1], Finished) and run.trace.status == "finished"
    assert run.trace.text == "".join(s.text for s in run.trace.spans)


def test_outputs_come_from_the_sandbox_not_from_the_model(backend, sandbox):
    run = make_reasoner(backend, sandbox, conjunctions=()).start(SUM_OF_SQUARES)
    drain(run)
    spans = run.trace.spans
    text = run.trace.text
    outputs = [s for s in spans if s.kind == "output" and s.meta["executed"]]
    assert outputs, "no code ran: nothing to check"
    for span in outputs:
        code = text[span.meta["code_start"] : span.meta["code_end"]]
        again = sandbox.run(code)
        assert span.text == format_output(again, 2000, 4)
        # the model wrote neither the output's text nor its fence: the span is the engine's
        assert span.text.startswith("\n```output\n") and span.meta["index"] >= 1


def test_a_run_that_fills_the_context_window_says_so(model_path, sandbox):
    from start_tui.backends.llama_cpp import LlamaCppBackend

    small = LlamaCppBackend(model_path, n_ctx=320)
    try:
        # the window fills whatever the model writes, a loop included (that stop is tested on its own)
        run = make_reasoner(small, sandbox, enabled=False, max_tokens=4000, loop_chars=0).start(SUM_OF_SQUARES)
        events = drain(run)
    finally:
        small.close()
    assert isinstance(events[-1], Finished) and events[-1].reason == "context_full"
    assert run.trace.meta["finish_reason"] == "context_full" and run.trace.stats["tokens_generated"] < 4000


def test_no_hints_is_the_plain_baseline(backend, sandbox):
    run = make_reasoner(backend, sandbox, enabled=False).start(SUM_OF_SQUARES)
    drain(run)
    assert not [s for s in run.trace.spans if s.kind == "hint"]
    assert run.trace.stats["hints_auto"] == 0


def test_the_tool_call_budget_holds(backend, sandbox):
    run = make_reasoner(backend, sandbox, conjunctions=(), before_stop_rounds=4, max_tool_calls=1).start(SUM_OF_SQUARES)
    drain(run)
    executed = [s for s in run.trace.spans if s.kind == "output" and s.meta["executed"]]
    assert len(executed) == 1 and run.trace.stats["tool_calls"] == 1


def test_evaluated_tokens_stay_close_to_the_trace_length(fresh_backend, sandbox):
    """KV reuse: continuing after each insertion evaluates only the new tokens."""
    run = make_reasoner(fresh_backend, sandbox, conjunctions=(), before_stop_rounds=3).start(SUM_OF_SQUARES)
    drain(run)
    stats = run.trace.stats
    assert stats["tool_calls"] >= 3
    assert stats["tokens_evaluated"] <= 1.05 * stats["tokens_in_trace"], stats
    # a naive backend would re-evaluate the whole text at every continuation
    continuations = stats["tool_calls"] + 1
    assert stats["tokens_evaluated"] < continuations * 0.5 * stats["tokens_in_trace"]


def test_pause_inject_resume_puts_the_hint_exactly_where_it_was_typed(backend, sandbox):
    run = make_reasoner(backend, sandbox, conjunctions=(), before_stop_rounds=0).start(SUM_OF_SQUARES)
    seen = 0
    for event in run.events():
        if isinstance(event, TextDelta):
            seen += 1
            if seen == 8:
                run.pause()
    assert run.status == "paused" and isinstance(event, Paused)
    at = run.trace.length
    before = run.trace.text
    hint = "Let me verify this with Python." + CODE_FENCE
    run.inject_hint(hint)
    run.resume()
    rest = drain(run)
    assert isinstance(rest[0], HintInserted) and rest[0].source == "user"
    text = run.trace.text
    assert text.startswith(before) and text[at : at + len(hint)] == hint
    [user_span] = [s for s in run.trace.spans if s.kind == "hint" and s.meta["source"] == "user"]
    start = run.trace.offsets()[run.trace.spans.index(user_span)][0]
    assert start == at
    assert run.trace.stats["hints_user"] == 1 and run.finished


def test_steering_from_another_thread(backend, sandbox):
    run = make_reasoner(backend, sandbox, conjunctions=(), before_stop_rounds=0).start(SUM_OF_SQUARES)
    first_text = threading.Event()
    collected = []

    def worker():
        for event in run.events():
            collected.append(event)
            if isinstance(event, TextDelta):
                first_text.set()

    t = threading.Thread(target=worker)
    t.start()
    assert first_text.wait(60)
    run.pause()
    t.join(60)
    assert isinstance(collected[-1], Paused)
    run.stop()
    tail = drain(run)
    assert isinstance(tail[-1], Finished) and tail[-1].reason == "stopped"
    assert run.trace.status == "stopped"


def test_a_branch_keeps_the_prefix_and_leaves_the_original_alone(backend, sandbox):
    reasoner = make_reasoner(backend, sandbox, conjunctions=(), before_stop_rounds=1)
    run = reasoner.start(SUM_OF_SQUARES)
    drain(run)
    original = run.trace.to_json()
    offsets = run.trace.offsets()
    first_output = next(i for i, s in enumerate(run.trace.spans) if s.kind == "output")
    cut = offsets[first_output][1]
    branch = run.branch(cut)
    events = drain(branch)
    assert branch.trace.text[:cut] == run.trace.text[:cut]
    assert branch.trace.meta["parent"] == {"trace_id": run.trace.id, "offset": cut}
    assert branch.trace.id != run.trace.id
    assert run.trace.to_json() == original
    assert isinstance(events[-1], Finished)
    assert branch.trace.stats["tool_calls"] >= 1  # the kept execution counts toward the budget


def test_a_branch_restores_the_notebook_state_of_its_prefix(backend, sandbox):
    """Variables defined by code before the branch point exist in the branch's sandbox session."""
    reasoner = make_reasoner(backend, sandbox)
    prompt = reasoner.profile.build_prompt(SUM_OF_SQUARES, backend.metadata())
    code = "total = sum(k * k for k in range(1, 51))\nprint(total)\n"
    spans = [
        Span("prompt", prompt),
        Span("model", " Let me compute.\n```python\n"),
        Span("code", code),
        Span("model", "```"),
    ]
    start = len(prompt) + len(spans[1].text)
    spans.append(
        Span(
            "output",
            "\n```output\n42925\n```\n",
            {"executed": True, "code_start": start, "code_end": start + len(code), "ok": True},
        )
    )
    trace = Trace(id="handmade", problem=SUM_OF_SQUARES, spans=spans)
    branch = reasoner.branch(trace, len(trace.text))
    branch.inject_hint("Let me print it again." + CODE_FENCE)
    branch.pause()
    drain(branch)  # Started, the replay, the hint, then the pause
    assert branch.state.tool_calls == 1 and branch.state.mode == "code"
    assert branch._session is not None
    assert branch._session.run("print(total)").stdout == "42925\n"
    branch.stop()
    drain(branch)


def test_format_output_truncates_the_middle_and_reduces_errors():
    long = ExecResult(ok=True, stdout="a" * 5000 + "\n", error=None, timed_out=False, duration_s=0.1)
    text = format_output(long, 100, 4)
    assert text.startswith("\n```output\n" + "a" * 50) and "characters omitted" in text and len(text) < 200
    err = ExecResult(
        ok=False,
        stdout="partial\n",
        timed_out=False,
        duration_s=0.1,
        error='Traceback (most recent call last):\n  File "<cell 1>", line 9, in f\n    x = 1/0\n'
        "ZeroDivisionError: division by zero",
    )
    assert format_output(err, 100, 2) == "\n```output\npartial\n    x = 1/0\nZeroDivisionError: division by zero\n```\n"
    warned = ExecResult(ok=True, stdout="1\n", error=None, timed_out=False, duration_s=0.0, stderr="Warning: w\n")
    assert format_output(warned, 100, 2) == "\n```output\n1\nWarning: w\n```\n"
    empty = ExecResult(ok=True, stdout="", error=None, timed_out=False, duration_s=0.0)
    assert format_output(empty, 100, 2) == "\n```output\n(no output)\n```\n"


def test_a_hint_typed_inside_a_code_block_becomes_a_comment_of_the_block(backend, sandbox):
    run = make_reasoner(backend, sandbox, conjunctions=(), before_stop_rounds=1).start(SUM_OF_SQUARES)
    for event in run.events():
        if isinstance(event, TextDelta) and event.kind == "code":
            run.pause()
    assert run.state.mode == "code"
    run.inject_hint("Use the formula n(n+1)(2n+1)/6." + CODE_FENCE)
    run.resume()
    events = drain(run)
    hint = next(e for e in events if isinstance(e, HintInserted))
    assert hint.text.lstrip("\n") == "# Use the formula n(n+1)(2n+1)/6.\n" and not hint.opens_code
    first = next(e for e in events if isinstance(e, CodeFinished))
    code = run.trace.text[first.code_start : first.code_end]
    assert "# Use the formula n(n+1)(2n+1)/6.\n" in code
    assert "```" not in code
