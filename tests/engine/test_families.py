"""Where hints go for each family people run, on scripted models that write as the families do (fast layer).

An instruct model ends its turn (its end token, or the token as text from a server); QwQ-32B-Preview
thinks aloud without delimiters and ends its turn after **Final Answer**; an R1-style model thinks in
`<think>` for 20k tokens saying `Wait` 150 times and closes it, or never closes it. For each: the
profile comes from the model's own template, the before-stop hint fires where the family stops, the
conjunction hints leave the tool calls the before-stop rounds need, and the budget holds.
"""

from __future__ import annotations

import re

import pytest

from start_tui.engine import CodeFinished, Finished, HintInserted, HintPolicy, Reasoner, RunConfig, select_profile
from start_tui.engine.profiles import ANSWER_INSTRUCTION, get_profile
from start_tui.engine.reasoner import HINT_ROOM_TOKENS
from start_tui.errors import StartTuiError
from start_tui.sandbox import Sandbox
from tests.families import QWQ_PREVIEW_SYSTEM, REAL_QWEN25_TEMPLATE, TEMPLATES, WritingModel, long_think_trace

LCM = "What is the least common multiple of 907 and 811?"
BY_HAND = (
    "To find the least common multiple of 907 and 811, I first look for common factors. Both numbers are "
    "odd, and neither is divisible by 3. So the least common multiple is their product divided by their "
    "greatest common divisor, which is 1. The least common multiple is \\boxed{38280}."
)
CORRECTED = "\nThe code gives 735577, so my product was wrong: the answer is \\boxed{735577}."


def meta(template: str, **more: str) -> dict[str, str]:
    return {"tokenizer.chat_template": TEMPLATES.get(template, template), **more}


def named(template: str, name: str, arch: str = "") -> dict[str, str]:
    return meta(template, **{"general.name": name, **({"general.architecture": arch} if arch else {})})


SERVED = "http://gpu01:8000/v1"


@pytest.mark.parametrize(
    ("metadata", "family"),
    [
        (named("qwen2.5-instruct", "Qwen2.5 7B Instruct", "qwen2"), "chat"),
        (named("qwq-32b-preview", "QwQ 32B Preview", "qwen2"), "qwq-preview"),
        (named("qwq-32b-preview", "models/qwq-32b-preview-q4_k_m"), "qwq-preview"),
        (named("qwq-32b", "QwQ 32B", "qwen2"), "qwq"),
        (named("deepseek-r1-distill", "DeepSeek R1 Distill Qwen 7B", "qwen2"), "deepseek-r1"),
        (named("deepseek-r1-distill", "my-own-finetune"), "deepseek-r1"),
        (named("qwen3", "Qwen3 8B", "qwen3"), "qwen3"),
        (named("qwen3-instruct-2507", "Qwen3 4B Instruct 2507", "qwen3"), "chat"),
        (named("qwen3-instruct-2507", "my-served-copy", "qwen3"), "chat"),  # --tokenizer with its folder
        (named("qwen3-thinking-2507", "Qwen3 4B Thinking 2507", "qwen3"), "qwen3"),
        (named("deepseek-v3", "DeepSeek V3 0324", "deepseek2"), "chat"),
        (named("deepseek-v3.1", "DeepSeek V3.1", "deepseek2"), "chat"),  # its template closes the thinking
        (named("llama-3.1-instruct", "Meta Llama 3.1 8B Instruct", "llama"), "chat"),
        (named("mistral-instruct", "Mistral 7B Instruct v0.3", "llama"), "chat"),
        (named("gemma-3-it", "Gemma 3 4b It", "gemma3"), "chat"),
        (named("<|im_start|>{{ m }}<think>", "a-thinking-finetune"), "think"),
        ({"general.architecture": "gemma3", "general.name": "Gemma 3 270m"}, "gemma3-base"),
        ({"general.name": "Qwen/QwQ-32B-Preview", "start_tui.served_by": SERVED}, "qwq-preview"),
        ({"general.name": "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", "start_tui.served_by": SERVED}, "deepseek-r1"),
    ],
)
def test_each_family_gets_its_profile_from_its_own_template_and_metadata(metadata, family):
    assert select_profile(metadata).name == family


def test_the_real_qwen_template_is_a_chat_model_whose_thinking_ends_at_its_answer():
    template = REAL_QWEN25_TEMPLATE.read_text(encoding="utf-8")
    profile = select_profile({"general.architecture": "qwen2", "tokenizer.chat_template": template})
    assert profile.name == "chat" and profile.think_end == ("Final answer:", "\\boxed{") and not profile.think_start
    prompt = profile.build_prompt("What is 2+2?", {"tokenizer.chat_template": template})
    assert prompt == (
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
        f"<|im_start|>user\nWhat is 2+2?\n\n{ANSWER_INSTRUCTION} Write 'Final answer:' before it.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


@pytest.mark.parametrize(
    "metadata",
    [
        {"general.name": "my-finetune", "start_tui.served_by": SERVED},
        {"general.architecture": "llama", "general.name": "checkpoint-400"},
        {"general.name": "Qwen3 4B Instruct 2507"},
        {"general.name": "Qwen/Qwen3-Coder-30B-A3B-Instruct", "start_tui.served_by": SERVED},
        {"general.name": "Qwen3-8B-Base", "general.architecture": "qwen3"},
    ],
)
def test_a_model_whose_family_cannot_be_told_is_refused_in_one_sentence_naming_profile(metadata):
    with pytest.raises(StartTuiError, match=r"cannot tell which family .* pass --profile") as info:
        select_profile(metadata)
    assert "\n" not in str(info.value) and "--tokenizer" in str(info.value)


def test_qwq_preview_is_prompted_with_its_system_prompt_and_no_think_tags():
    profile = get_profile("qwq-preview")
    for metadata in (meta("qwq-32b-preview"), {}):  # its own template, or the fallback over a server
        prompt = profile.build_prompt("Find x.", metadata)
        assert prompt.startswith(f"<|im_start|>system\n{QWQ_PREVIEW_SYSTEM}<|im_end|>\n<|im_start|>user\nFind x.")
        assert prompt.endswith("<|im_start|>assistant\n") and "<think>" not in prompt
    assert profile.think_end == () and "<|im_end|>" in profile.stop


def test_think_tag_families_open_thinking_once():
    r1 = get_profile("deepseek-r1").build_prompt("Find x.", meta("deepseek-r1-distill"))
    assert r1 == "<｜User｜>Find x.\n\n" + ANSWER_INSTRUCTION + "<｜Assistant｜><think>\n"
    qwen3 = get_profile("qwen3").build_prompt("Find x.", meta("qwen3"))
    assert qwen3.endswith("<|im_start|>assistant\n<think>\n") and qwen3.count("<think>") == 1


# --- where the hints go ----------------------------------------------------------------------------


def solve(model: WritingModel, sandbox: Sandbox, problem: str = LCM, max_tokens: int = 4096, **policy: object):
    reasoner = Reasoner(
        model,
        sandbox,
        select_profile(model.metadata()),
        HintPolicy(**policy),  # type: ignore[arg-type]
        RunConfig(max_tokens=max_tokens, loop_chars=0),
    )
    run = reasoner.start(problem)
    events = list(run.events())
    return run, events


def hints(events, trigger: str | None = None) -> list[HintInserted]:
    return [e for e in events if isinstance(e, HintInserted) and (trigger is None or e.trigger == trigger)]


def placed(run, kind: str, trigger: str = "") -> list[int]:
    """Where the spans of `kind` start in the trace text (hints: those whose trigger starts with `trigger`)."""
    return [
        start
        for span, (start, _) in zip(run.trace.spans, run.trace.offsets(), strict=True)
        if span.kind == kind and str(span.meta.get("trigger", "")).startswith(trigger)
    ]


def ran(events) -> list[CodeFinished]:
    return [e for e in events if isinstance(e, CodeFinished) and e.executed]


def instruct(reply: str = BY_HAND, template: str = "qwen2.5-instruct") -> WritingModel:
    return WritingModel(reply, metadata=meta(template, **{"general.name": "instruct"}), after_output=CORRECTED)


def test_an_instruct_model_gets_the_before_stop_hint_where_it_states_its_answer(sandbox: Sandbox):
    run, events = solve(instruct(), sandbox)
    (hint,) = hints(events)
    assert hint.trigger == "before_stop" and hint.text.startswith("\n\n")  # a paragraph of its own
    kinds = [s.kind for s in run.trace.spans]
    assert kinds == ["prompt", "model", "hint", "code", "model", "output", "model"]
    # its working is kept whole; the box it was opening is withheld, and it answers from the output
    assert run.trace.spans[1].text == BY_HAND[: BY_HAND.index("\\boxed{")]
    assert len(ran(events)) == 1 and ran(events)[0].stdout == "42\n"
    assert run.trace.answer == "735577" and isinstance(events[-1], Finished) and events[-1].reason == "eos"


def test_an_instruct_model_that_writes_a_final_answer_line_gets_the_hint_before_it(sandbox: Sandbox):
    worked = BY_HAND[: BY_HAND.index("The least common multiple is")]
    run, events = solve(instruct(worked + "\n\nFinal answer: \\boxed{38280}"), sandbox)
    (hint,) = hints(events)
    assert hint.trigger == "before_stop" and run.trace.spans[1].text == worked + "\n\n"  # the line is withheld
    assert run.trace.answer == "735577" and events[-1].reason == "eos"


def test_an_instruct_model_that_ends_its_turn_without_a_box_gets_the_hint_there(sandbox: Sandbox):
    reply = BY_HAND.replace("\\boxed{38280}", "38280")
    run, events = solve(instruct(reply), sandbox)
    (hint,) = hints(events)
    assert hint.trigger == "before_stop" and run.trace.spans[1].text == reply  # after all it wrote
    assert run.trace.answer == "735577" and events[-1].reason == "eos"


def test_a_served_model_that_writes_its_end_token_as_text_gets_the_hint_in_its_place(sandbox: Sandbox):
    reply = BY_HAND.replace("\\boxed{38280}", "38280") + "<|im_end|>\n<|im_start|>user\nThanks!"
    run, events = solve(instruct(reply), sandbox)
    assert [h.trigger for h in hints(events)] == ["before_stop"]
    assert "<|im_end|>" not in run.trace.text[len(run.trace.spans[0].text) :]  # withheld, both times
    assert run.trace.answer == "735577" and events[-1].reason == "stop"


@pytest.mark.parametrize("template", ["llama-3.1-instruct", "mistral-instruct", "gemma-3-it"])
def test_other_instruct_families_are_hinted_the_same_way(sandbox: Sandbox, template: str):
    run, events = solve(instruct(template=template), sandbox)
    assert run.profile.name == "chat" and [h.trigger for h in hints(events)] == ["before_stop"]
    assert run.trace.answer == "735577"


def test_no_hint_goes_into_an_open_code_block_or_past_the_token_budget(sandbox: Sandbox):
    opened = "Let me compute it.\n```python\nprint(907 * 811)"  # its turn ends inside the block
    run, events = solve(instruct(opened), sandbox)
    assert not hints(events) and events[-1].reason == "eos"
    reply = BY_HAND.replace("\\boxed{38280}", "38280")
    tokens = len(reply) // 4 + 1  # the reply in full, and less than a code block's room after it
    run, events = solve(instruct(reply), sandbox, max_tokens=tokens + HINT_ROOM_TOKENS - 1)
    assert not hints(events) and run.trace.spans[-1].kind == "model"  # no hint left dangling at the end
    run, events = solve(instruct(reply), sandbox, max_tokens=tokens + HINT_ROOM_TOKENS + 40)
    assert [h.trigger for h in hints(events)] == ["before_stop"]


def test_a_full_context_is_no_end_of_turn(sandbox: Sandbox):
    class FullAt(WritingModel):
        def stream(self, text, params):  # a server that says `length` when its window is full
            yield from super().stream(text, params)
            self.last_finish_reason = "length"

    model = FullAt(BY_HAND.replace("\\boxed{38280}", "38280"), metadata=meta("qwen2.5-instruct"))
    _, events = solve(model, sandbox)
    assert not hints(events) and events[-1].reason == "context_full"


def test_a_branch_after_a_turn_end_hint_counts_its_round_and_gets_a_fresh_budget(sandbox: Sandbox):
    run, _ = solve(instruct(BY_HAND.replace("\\boxed{38280}", "38280")), sandbox)
    (hint_at,) = placed(run, "hint", "before_stop")
    later = run.branch(len(run.trace.text))
    assert later.state.rounds_used == 1 and later.state.tool_calls == 1
    assert later.state.rounds_spent == 0 and later.state.calls_spent == 0  # a new attempt's budget
    kept = run.branch(len(run.trace.text), fresh_budget=False)
    assert kept.state.rounds_spent == 1 and kept.state.calls_spent == 1
    earlier = run.branch(hint_at)
    assert earlier.state.rounds_used == 0 and earlier.state.tool_calls == 0


def test_qwq_preview_thinks_aloud_and_gets_the_hint_after_its_final_answer(sandbox: Sandbox):
    reply = (
        "Alright, I've got this problem: the least common multiple of 907 and 811. Hmm, let me think. "
        "First, are they prime? 907 is not divisible by 2, 3, 5, 7, 11, 13, 17, 19, 23 or 29. Wait, 30 "
        "squared is 900, and 31 squared is 961, so those primes are enough. So 907 is prime, and so is 811. "
        "Wait, then the LCM is just the product. 907 times 811 is 907 times 800 plus 907 times 11, which is "
        "725600 plus 9977, so 735577.\n\n**Final Answer**\n\n\\[ \\boxed{735577} \\]"
    )
    model = WritingModel(
        reply,
        metadata=meta("qwq-32b-preview", **{"general.name": "QwQ 32B Preview"}),
        code="print(907 * 811)\n```",
        after_output="\nThe product checks out.\n\n**Final Answer**\n\n\\[ \\boxed{735577} \\]",
    )
    run, events = solve(model, sandbox)
    assert run.profile.name == "qwq-preview" and QWQ_PREVIEW_SYSTEM in model.prompts[0]
    assert "<think>" not in model.prompts[0]
    # its two Waits come well within the hint gap of the start: only the before-stop hint goes in
    (hint,) = hints(events)
    assert hint.trigger == "before_stop" and run.trace.spans[1].text == reply
    assert ran(events)[0].stdout == "735577\n" and run.trace.answer == "735577"


def test_an_r1_trace_of_20k_tokens_and_150_waits_keeps_its_tool_calls_for_the_end(sandbox: Sandbox):
    trace = long_think_trace(tokens=20_000, waits=150)
    assert trace.count("Wait,") == 150
    model = WritingModel(trace, metadata=meta("deepseek-r1-distill", **{"general.name": "R1 distill"}))
    policy = HintPolicy()
    run, events = solve(model, sandbox, max_tokens=32_768)
    assert run.profile.name == "deepseek-r1"
    conj, before = hints(events, "conjunction:Wait"), hints(events, "before_stop")
    # the budget: six calls; the conjunction hints leave one for the round before </think>
    assert 1 <= len(conj) <= policy.max_tool_calls - 1 and len(before) == 1
    assert len(ran(events)) <= policy.max_tool_calls and run.trace.stats["tool_calls"] == len(ran(events))
    # the conjunction hints are spread: each one at least the hint gap after the previous code output
    text = run.trace.text
    ends = [end for (_, end), span in zip(run.trace.offsets(), run.trace.spans, strict=True) if span.kind == "output"]
    for at in placed(run, "hint", "conjunction"):
        previous = max([e for e in ends if e <= at], default=len(run.trace.spans[0].text))
        assert at - previous >= policy.min_chars_between
    # nothing the model wrote was lost: every sentence of its thinking is in the trace (a cut one said again)
    said = "".join(s.text for s in run.trace.spans if s.kind == "model")
    sentences = re.split(r"(?<=\.) ", trace[: trace.index("</think>")].strip())
    assert [x for x in sentences if x not in said] == []
    # the before-stop hint went just before </think>: the model closed its thinking once, after that code ran
    (hint_at,) = placed(run, "hint", "before_stop")
    assert "</think>" not in text[:hint_at] and text.count("</think>") == 1
    assert text[max(ends) :].startswith("</think>") and max(ends) > hint_at
    assert run.trace.answer == "41" and events[-1].reason == "eos"


def test_an_r1_trace_that_never_closes_think_gets_the_hint_where_the_turn_ends(sandbox: Sandbox):
    trace = long_think_trace(tokens=3_000, waits=20, close=False)
    model = WritingModel(
        trace, metadata=meta("qwq-32b", **{"general.name": "QwQ 32B"}), after_output="\n</think>\n\n\\boxed{42}"
    )
    run, events = solve(model, sandbox, max_tokens=8192)
    before = hints(events, "before_stop")
    assert run.profile.name == "qwq" and len(before) == 1
    (hint_at,) = placed(run, "hint", "before_stop")
    assert run.trace.text[:hint_at].endswith(trace.rstrip("\n").rsplit(". ", 1)[-1] + "\n")  # after all it thought
    assert run.trace.answer == "42" and events[-1].reason == "eos"


@pytest.mark.parametrize(("rounds", "max_calls", "expected"), [(3, 6, 3), (4, 2, 2), (0, 6, 0)])
def test_rounds_repeat_the_before_stop_hint_each_time_the_turn_ends_within_the_budget(
    sandbox: Sandbox, rounds: int, max_calls: int, expected: int
):
    run, events = solve(instruct(), sandbox, before_stop_rounds=rounds, max_tool_calls=max_calls)
    before = hints(events, "before_stop")
    assert len(before) == expected and len(ran(events)) == expected <= max_calls
    assert run.trace.stats["hint_rounds"] == expected and events[-1].reason == "eos"


def test_conjunction_hints_leave_a_call_for_every_round_to_come(sandbox: Sandbox):
    trace = long_think_trace(tokens=20_000, waits=150)
    model = WritingModel(trace, metadata=meta("deepseek-r1-distill", **{"general.name": "R1 distill"}))
    _, events = solve(model, sandbox, max_tokens=32_768, before_stop_rounds=2, conjunction_probability=1.0)
    conj, before = hints(events, "conjunction:Wait"), hints(events, "before_stop")
    assert len(conj) == 4 and len(before) == 2 and len(ran(events)) == 6
    _, events = solve(
        WritingModel(trace, metadata=model.metadata()),
        sandbox,
        max_tokens=32_768,
        before_stop_rounds=2,
        conjunction_probability=1.0,
        reserve_calls=0,
    )
    assert len(hints(events, "conjunction:Wait")) == 6 and not hints(events, "before_stop")
