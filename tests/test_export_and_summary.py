"""Fast checks of what a user reads after a run: the Markdown export of a recorded trace, and the
evaluation's summary table and scaling points computed from rows."""

from __future__ import annotations

from markdown_it import MarkdownIt

from start_tui.engine import load_traces
from start_tui.eval.runner import pass_at_k, scaling_points, summarize
from start_tui.export import trace_to_markdown
from tests.conftest import DATA


def test_the_markdown_export_has_one_python_block_per_code_block_and_one_output_block_per_run():
    (trace,) = load_traces(DATA / "sum-of-squares.jsonl")[:1]
    md = trace_to_markdown(trace)
    fences = [t for t in MarkdownIt().parse(md) if t.type == "fence"]
    code_spans = [s for s in trace.spans if s.kind == "code"]
    output_spans = [s for s in trace.spans if s.kind == "output"]
    assert [t.info for t in fences] == ["python", "output"] * len(output_spans)
    assert len(code_spans) == len(output_spans) >= 1
    for fence, span in zip(fences[0::2], code_spans, strict=True):
        assert fence.content.strip() and fence.content.strip() in span.text  # the code that ran, whole
    for fence, span in zip(fences[1::2], output_spans, strict=True):
        assert fence.content.strip() in span.text
    hints = [s for s in trace.spans if s.kind == "hint"]
    assert md.count("> **Hint (") == len(hints) >= 1
    assert f"**Final answer:** {trace.answer}" in md and f"trace id: {trace.id}" in md


def row(bench: str, pid: str, hints: bool, rounds: int, sample: int, correct: bool, tokens: int = 100) -> dict:
    return {
        "benchmark": bench,
        "id": pid,
        "hints": hints,
        "round": rounds,
        "sample": sample,
        "correct": correct,
        "tokens": tokens,
    }


def test_summary_pass_at_1_is_the_mean_over_samples_and_pass_at_k_is_unbiased():
    rows = [
        row("aime24", "1", False, 0, 0, True, 10),
        row("aime24", "1", False, 0, 1, False, 30),
        row("aime24", "2", False, 0, 0, False),
        row("aime24", "2", False, 0, 1, False),
        row("aime24", "1", True, 1, 0, True),
        row("aime24", "1", True, 1, 1, True),
        row("aime24", "2", True, 1, 0, False),
        row("aime24", "2", True, 1, 1, True),
        row("aime24", "1", True, 2, 0, True),
        row("aime24", "2", True, 2, 0, True),
    ]
    table = summarize(rows, samples=2)["aime24"]
    off, one, two = table["no hints"], table["hints, 1 round"], table["hints, 2 rounds"]
    assert off["pass@1"] == 0.25 and off["pass@2"] == 0.5 and off["runs"] == 4 and off["problems"] == 2
    assert one["pass@1"] == 0.75 and one["pass@2"] == 1.0
    assert two["pass@1"] == 1.0 and two["runs"] == 2  # one sample each: pass@2 is computed at k = 1
    assert off["mean_tokens"] == (10 + 30 + 100 + 100) / 4
    assert scaling_points({"aime24": table}) == {"aime24": [(1, 0.75), (2, 1.0)]}
    assert pass_at_k(4, 1, 2) == 0.5 and pass_at_k(3, 0, 1) == 0.0


def test_scaling_points_leave_out_benchmarks_without_hint_settings():
    table = summarize([row("math500", "1", False, 0, 0, True)], samples=1)
    assert scaling_points(table) == {}
