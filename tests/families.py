"""Scripted models that write as real families do, for fast tests of where hints go: no weights, exact text.

A `WritingModel` has one reply it would write if left alone: an instruct model's answer that ends its
turn, QwQ-32B-Preview's long monologue ending in **Final Answer**, an R1-style `<think>` trace with a
`Wait` every few hundred characters. The engine cuts that reply (a hint after a conjunction, before
`</think>`, where the turn ends) and comes back with more text; the model then does what a real one
does: after an opened python fence it writes code and closes the block, after a code output it says
what the output shows (`after_output`) when it had finished, and otherwise it takes up its reply again
at the start of the sentence the engine cut.

The templates are the families' own chat templates as their tokenizer_config.json carries them, cut
to the parts that render a one-turn conversation (tool calls left out).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from start_tui.backends import BackendStats, SamplingParams
from start_tui.engine.hints import CODE_FENCE
from start_tui.engine.reasoner import OUTPUT_CLOSE

QWEN25_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
QWQ_PREVIEW_SYSTEM = (
    "You are a helpful and harmless assistant. You are Qwen developed by Alibaba. You should think step-by-step."
)

_QWEN25_FAMILY = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>system\\nSYSTEM<|im_end|>\\n' }}{%- endif %}"
    "{%- for message in messages %}"
    "{%- if (message.role == 'user') or (message.role == 'system' and not loop.first) "
    "or (message.role == 'assistant' and not message.tool_calls) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
    "{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
TEMPLATES: dict[str, str] = {
    "qwen2.5-instruct": _QWEN25_FAMILY.replace("SYSTEM", QWEN25_SYSTEM),
    "qwq-32b-preview": _QWEN25_FAMILY.replace("SYSTEM", QWQ_PREVIEW_SYSTEM),
    "qwq-32b": (
        "{%- if messages[0]['role'] == 'system' %}"
        "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}{%- endif %}"
        "{%- for message in messages %}"
        "{%- if (message.role == 'user') or (message.role == 'system' and not loop.first) %}"
        "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
        "{%- elif message.role == 'assistant' and not message.tool_calls %}"
        "{%- set content = message.content.split('</think>')[-1].lstrip('\\n') %}"
        "{{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>' + '\\n' }}"
        "{%- endif %}{%- endfor %}"
        "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n<think>\\n' }}{%- endif %}"
    ),
    "deepseek-r1-distill": (
        "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
        "{% set ns = namespace(is_first=false, is_tool=false, system_prompt='') %}"
        "{%- for message in messages %}{%- if message['role'] == 'system' %}"
        "{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}"
        "{{bos_token}}{{ns.system_prompt}}"
        "{%- for message in messages %}{%- if message['role'] == 'user' %}"
        "{{'<｜User｜>' + message['content']}}{%- endif %}"
        "{%- if message['role'] == 'assistant' and message['content'] is not none %}"
        "{% set content = message['content'] %}{% if '</think>' in content %}"
        "{% set content = content.split('</think>')[-1] %}{% endif %}"
        "{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor -%}"
        "{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜><think>\\n'}}{% endif %}"
    ),
    "qwen3": (
        "{%- for message in messages %}"
        "{%- if message.role == 'user' or message.role == 'system' %}"
        "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
        "{%- elif message.role == 'assistant' %}{%- set reasoning_content = '' %}"
        "{%- if '</think>' in message.content %}"
        "{%- set reasoning_content = message.content.split('</think>')[0].rstrip('\\n').split('<think>')[-1] %}"
        "{%- endif %}{{- '<|im_start|>' + message.role + '\\n' + message.content }}{{- '<|im_end|>\\n' }}"
        "{%- endif %}{%- endfor %}"
        "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
        "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}"
        "{%- endif %}{%- endif %}"
    ),
    "qwen3-instruct-2507": (
        "{%- for message in messages %}"
        "{%- if message.role == 'user' or message.role == 'system' %}"
        "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
        "{%- elif message.role == 'assistant' %}{%- set content = message.content %}"
        "{%- if '</think>' in content %}{%- set content = content.split('</think>')[-1].lstrip('\\n') %}{%- endif %}"
        "{{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' }}"
        "{%- endif %}{%- endfor %}"
        "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
    ),
    "qwen3-thinking-2507": (
        "{%- for message in messages %}"
        "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
        "{%- endfor %}"
        "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n<think>\\n' }}{%- endif %}"
    ),
    "deepseek-v3": (
        "{{ bos_token }}{%- for message in messages %}{%- if message['role'] == 'user' %}"
        "{{'<｜User｜>' + message['content']}}{%- endif %}{%- endfor %}"
        "{% if add_generation_prompt %}{{'<｜Assistant｜>'}}{% endif %}"
    ),
    "deepseek-v3.1": (
        "{% if not thinking is defined %}{% set thinking = false %}{% endif %}"
        "{{ bos_token }}{%- for message in messages %}{%- if message['role'] == 'user' %}"
        "{{'<｜User｜>' + message['content']}}{%- endif %}{%- endfor %}"
        "{% if add_generation_prompt %}{{'<｜Assistant｜>'}}"
        "{% if thinking %}{{'<think>'}}{% else %}{{'</think>'}}{% endif %}{% endif %}"
    ),
    "llama-3.1-instruct": (
        "{{- bos_token }}{%- set date_string = '26 Jul 2024' %}"
        "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}"
        "{{- 'Cutting Knowledge Date: December 2023\\n' }}{{- 'Today Date: ' + date_string + '\\n\\n' }}"
        "{{- '<|eot_id|>' }}"
        "{%- for message in messages %}"
        "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
        "+ message['content'] | trim + '<|eot_id|>' }}{%- endfor %}"
        "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
    ),
    "mistral-instruct": (
        "{{ bos_token }}{% for message in messages %}"
        "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
        "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}"
    ),
    "gemma-3-it": (
        "{{ bos_token }}{%- for message in messages -%}"
        "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}"
        "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}"
        "{%- endfor -%}{%- if add_generation_prompt -%}{{'<start_of_turn>model\\n'}}{%- endif -%}"
    ),
}
REAL_QWEN25_TEMPLATE = Path(__file__).resolve().parent / "data" / "qwen2.5-coder-1.5b-instruct.jinja"
"""The whole template of the embedded Qwen2.5-Coder-1.5B-Instruct GGUF, tool calls included."""

FENCES = ("```python\n", "```py\n")
_END_MARKERS = ("</think>", "<|im_end|>")


class WritingModel:
    """A backend that writes one reply as a model of a family does, and carries on after each insertion."""

    def __init__(
        self,
        reply: str,
        *,
        metadata: Mapping[str, str],
        code: str = "print(6 * 7)\n```",
        after_output: str = "",
        chunk: int = 4,
    ) -> None:
        self.reply = reply
        self.code = code
        self.after_output = after_output
        self.chunk = chunk
        self._metadata = dict(metadata)
        self.name = self._metadata.get("general.name", "scripted")
        self.stats = BackendStats()
        self.last_finish_reason = ""
        self.prompts: list[str] = []
        self.pos = 0
        """How much of the reply the trace holds."""
        # where the model takes up its reply after a cut: the start of each sentence, of each line, and
        # of each end marker (</think>, an end-of-turn token written as text)
        self._starts = sorted(
            {0, len(reply)}
            | {m.end() for m in re.finditer(r"(?<=[.!?])\s+|\n+", reply)}
            | {m.start() for m in re.finditer(r"</think>|<\|im_end\|>", reply)}
        )
        self._last: tuple[str, str, str | None] | None = None
        """(the text given, what was written, the words before the reply taken up; None: it wrote code)"""

    def metadata(self) -> Mapping[str, str]:
        return self._metadata

    def stream(self, text: str, params: SamplingParams) -> Iterator[str]:
        self.prompts.append(text)
        self._take_up(text)
        rest = self.reply[self.pos :]
        if text.endswith(FENCES) or text.endswith(CODE_FENCE):
            lead, out = None, self.code
        elif text.endswith(OUTPUT_CLOSE) and (not rest or rest.startswith(_END_MARKERS)):
            lead, out = self.after_output, self.after_output + rest  # it had finished: it says what the output shows
        elif text.endswith(OUTPUT_CLOSE) and "\\boxed{" in re.split(r"(?<=[.!?])\s", rest, maxsplit=1)[0]:
            lead, out = self.after_output, self.after_output  # it was stating its answer: it answers from the output
        else:
            lead, out = "", rest
        self._last = (text, "", lead)
        self.last_finish_reason = "stopped"
        written = ""
        for spent, i in enumerate(range(0, len(out), self.chunk)):
            if spent >= params.max_tokens:
                self.last_finish_reason = "length"
                return
            piece = out[i : i + self.chunk]
            self.stats.tokens_generated += 1
            written += piece
            self._last = (text, written, lead)
            yield piece
        self.last_finish_reason = "eos"

    def _take_up(self, text: str) -> None:
        """Advance through the reply by what the engine kept of the last call's text. A stream the engine
        closed before the reply's end was cut at a marker (whose last characters it may have read, as with
        `Wait,`): the model says that sentence again; a reply written to its end was kept whole."""
        if self._last is None:
            return
        before, written, lead = self._last
        if lead is None or not text.startswith(before):
            return  # it wrote code, not its reply
        new = text[len(before) :]
        same = (i for i, (a, b) in enumerate(zip(new, written, strict=False)) if a != b)
        kept = next(same, min(len(new), len(written)))
        if kept < len(lead):
            return  # cut before it took up its reply
        wrote = len(written) - len(lead)
        if kept == len(written) and self.pos + wrote >= len(self.reply):
            self.pos = len(self.reply)
            return
        cut = self.pos + kept - len(lead)
        self.pos = max(s for s in self._starts if s <= cut)

    def count_tokens(self, text: str) -> int:
        return len(text) // self.chunk

    def close(self) -> None:
        pass


def long_think_trace(tokens: int = 20_000, waits: int = 150, chunk: int = 4, close: bool = True) -> str:
    """An R1-style chain of thought of about `tokens` tokens (of `chunk` characters) that says `Wait` `waits`
    times, at sentence starts spread evenly through it; it closes `</think>` and answers when `close`."""
    body_chars = tokens * chunk - 200
    every = body_chars // (waits + 1)
    steps: list[str] = []
    length, said = 0, 0
    while length < body_chars or said < waits:
        k = len(steps)
        if said < waits and length >= (said + 1) * every:
            said += 1
            step = f"Wait, let me check step {k} again. "
        else:
            step = f"Step {k}: {k} times {k + 3} is {k * (k + 3)}, so the running total grows. "
        steps.append(step)
        length += len(step)
    think = "".join(steps).rstrip() + "\n"
    return think + "</think>\n\nSo the answer is \\boxed{41}." if close else think
