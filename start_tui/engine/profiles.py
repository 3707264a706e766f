"""Model profiles: how a model family is prompted, how it thinks, and where its thinking ends.

`select_profile(metadata)` picks one from the model itself (its chat template, `general.architecture`,
`general.name`); a name given by the user overrides it, and a model whose family cannot be told is
refused rather than given another family's prompt. The model's own chat template renders the prompt
where there is one; the Gemma 3 base model has none and gets a few-shot prompt that shows the code /
output format.

Where the thinking ends decides where the before-stop hint goes: before `think_end` for a model that
thinks inside `<think> ... </think>`, and where the model ends its turn for one without thinking
delimiters (an instruct model, QwQ-32B-Preview) or one that never closes its thinking. The engine
withholds that stop, inserts the hint and lets the model go on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from start_tui.errors import StartTuiError

ANSWER_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."

_BASE_FEW_SHOT = """\
Solve each problem. Think step by step. Use Python when a calculation helps: write the code in a \
```python block, and its result appears in an ```output block. End with the final answer in \\boxed{}.

Problem: What is the product of the first 10 prime numbers?
Solution: The first 10 primes are 2, 3, 5, 7, 11, 13, 17, 19, 23 and 29. Multiplying them by hand \
is slow. Wait, I can use Python to perform complex calculations for this problem.
```python
import sympy
primes = list(sympy.primerange(2, 30))
product = 1
for p in primes:
    product *= p
print(len(primes), product)
```
```output
10 6469693230
```
There are 10 primes and their product is 6469693230.
Final answer: \\boxed{6469693230}

Problem: How many positive divisors does 360 have?
Solution: 360 = 2^3 * 3^2 * 5, so the count is (3+1)(2+1)(1+1) = 24. Wait, I can use Python to \
check if my approach is correct and refine it, if necessary.
```python
print(sum(1 for d in range(1, 361) if 360 % d == 0))
```
```output
24
```
The count matches.
Final answer: \\boxed{24}

Problem: {problem}
Solution:"""

SELF_TAUGHT_PROMPT = Path(__file__).with_name("prompts") / "self-taught.txt"
"""The direct prompt the shipped self-taught adapter was trained under (the self-taught recipe's
`prompt_file` is a link to it): worked examples, each a few lines of Python and its output."""

END_OF_TURN = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|endoftext|>", "<|end|>", "<｜end▁of▁sentence｜>")
"""End-of-turn markers of the common chat families, as text: a served model that streams its end token
as text, or a model that writes one, ends its turn there (llama.cpp and transformers stop at the token)."""

_CHATML = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
QWQ_PREVIEW_SYSTEM = (
    "You are a helpful and harmless assistant. You are Qwen developed by Alibaba. You should think step-by-step."
)
"""QwQ-32B-Preview's own system prompt: its template puts it first when a conversation has none."""
_CHATML_QWQ_PREVIEW = (
    "{% if messages[0].role != 'system' %}<|im_start|>system\n"
    + QWQ_PREVIEW_SYSTEM
    + "<|im_end|>\n{% endif %}"
    + _CHATML
)
_DEEPSEEK = (
    "{{ bos_token }}{% for m in messages %}{% if m.role == 'user' %}<｜User｜>{{ m.content }}"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<｜Assistant｜>{% endif %}"
)


@dataclass(frozen=True)
class ModelProfile:
    name: str
    description: str
    think_start: str = ""
    """Text that opens the thinking; appended to the prompt when the template does not end with it."""
    think_end: tuple[str, ...] = ()
    """Markers of the end of thinking; a before-stop hint goes just before the first one."""
    stop: tuple[str, ...] = ()
    """Strings that end generation (the end of the answer)."""
    few_shot: str = ""
    """A plain-text prompt with a `{problem}` slot, for base models without a chat template."""
    fallback_template: str = ""
    """A Jinja chat template used when the GGUF carries none."""
    instruction: str = ANSWER_INSTRUCTION
    answer_prefixes: tuple[str, ...] = ("Final answer:", "The final answer is", "The answer is", "**Answer:**")
    temperature: float = 0.0
    top_p: float = 0.95
    top_k: int = 40
    repeat_penalty: float = 1.0
    sample_temperature: float = 0.6
    """Temperature of parallel samples after the first (the paper samples at 0.6)."""
    sample_top_p: float = 0.95
    template_kwargs: Mapping[str, object] = field(default_factory=dict)

    def build_prompt(self, problem: str, metadata: Mapping[str, str]) -> str:
        if self.few_shot:
            return self.few_shot.replace("{problem}", problem.strip())
        template = metadata.get("tokenizer.chat_template") or self.fallback_template
        if not template:
            raise StartTuiError(
                f"The {self.name} profile needs a chat template and the model has none; pass --tokenizer with "
                "the model's tokenizer folder or GGUF, or another --profile."
            )
        content = problem.strip()
        if self.instruction and self.instruction not in content:
            content = f"{content}\n\n{self.instruction}"
        prompt = _render_chat(template, content, metadata, self.template_kwargs)
        if self.think_start and not prompt.rstrip().endswith(self.think_start.strip()):
            prompt += self.think_start
        return prompt


def _render_chat(template: str, content: str, metadata: Mapping[str, str], extra: Mapping[str, object]) -> str:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise jinja2.TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    try:
        compiled = env.from_string(template)
        return compiled.render(
            messages=[{"role": "user", "content": content}],
            add_generation_prompt=True,
            bos_token=metadata.get("start_tui.bos_token", ""),
            eos_token=metadata.get("start_tui.eos_token", ""),
            raise_exception=raise_exception,
            **extra,
        )
    except jinja2.TemplateError as exc:
        raise StartTuiError(f"The model's chat template cannot be rendered ({exc}).") from None


PROFILES: dict[str, ModelProfile] = {
    p.name: p
    for p in (
        ModelProfile(
            name="chat",
            description="an instruct model without thinking delimiters (Qwen2.5, Llama 3, Gemma 3 it, Mistral): "
            "its chat template; its thinking ends where it states its answer (a 'Final answer:' line, or "
            "\\boxed{), or where it ends its turn",
            think_end=("Final answer:", "\\boxed{"),
            stop=END_OF_TURN,
            instruction=ANSWER_INSTRUCTION + " Write 'Final answer:' before it.",
        ),
        ModelProfile(
            name="qwq-preview",
            description="QwQ-32B-Preview, the START paper's base model: ChatML with its own system prompt, no "
            "thinking delimiters; the before-stop hint goes where it ends its turn",
            stop=END_OF_TURN,
            fallback_template=_CHATML_QWQ_PREVIEW,
            temperature=0.6,
            top_p=0.95,
        ),
        ModelProfile(
            name="qwq",
            description="QwQ-32B: ChatML, <think> ... </think>",
            think_start="<think>\n",
            think_end=("</think>",),
            stop=END_OF_TURN,
            fallback_template=_CHATML,
            temperature=0.6,
            top_p=0.95,
        ),
        ModelProfile(
            name="deepseek-r1",
            description="DeepSeek-R1 and its distills: <think> ... </think>",
            think_start="<think>\n",
            think_end=("</think>",),
            stop=END_OF_TURN,
            fallback_template=_DEEPSEEK,
            temperature=0.6,
            top_p=0.95,
        ),
        ModelProfile(
            name="qwen3",
            description="Qwen3 in thinking mode: ChatML, <think> ... </think>",
            think_start="<think>\n",
            think_end=("</think>",),
            stop=END_OF_TURN,
            fallback_template=_CHATML,
            temperature=0.6,
            top_p=0.95,
            top_k=20,
            template_kwargs={"enable_thinking": True},
        ),
        ModelProfile(
            name="think",
            description="any other model that thinks inside <think> ... </think>: its own chat template",
            think_start="<think>\n",
            think_end=("</think>",),
            stop=END_OF_TURN,
            temperature=0.6,
            top_p=0.95,
        ),
        ModelProfile(
            name="base",
            description="any base model without a chat template: a few-shot prompt that shows the code / output "
            "format, thinking ends at 'Final answer:'",
            think_end=("Final answer:",),
            stop=("\nProblem:",),
            few_shot=_BASE_FEW_SHOT,
        ),
        ModelProfile(
            name="gemma3-base",
            description="Gemma 3 base model: few-shot prompt, thinking ends at 'Final answer:'",
            think_end=("Final answer:",),
            stop=("\nProblem:", "<end_of_turn>"),
            few_shot=_BASE_FEW_SHOT,
        ),
        ModelProfile(
            name="gemma3-self-taught",
            description="the embedded Gemma 3 270M with its shipped self-taught LoRA: the direct prompt it was "
            "trained under (a short Python program per problem, its output, the answer)",
            think_end=("Final answer:",),
            stop=("\nProblem:", "<end_of_turn>"),
            few_shot=SELF_TAUGHT_PROMPT.read_text(encoding="utf-8").rstrip("\n"),  # as --prompt-file reads it
        ),
        ModelProfile(
            name="gemma3-it",
            description="Gemma 3 instruction-tuned, thinking read as ending at 'Final answer:' or \\boxed{ "
            "(the before-stop hint goes before the answer, not after it)",
            think_end=("Final answer:", "\\boxed{"),
            stop=("<end_of_turn>",),
            instruction=ANSWER_INSTRUCTION + " Write 'Final answer:' before it.",
            fallback_template=(
                "{{ bos_token }}{% for m in messages %}<start_of_turn>user\n{{ m.content }}<end_of_turn>\n"
                "{% endfor %}<start_of_turn>model\n"
            ),
        ),
    )
}


def get_profile(name: str) -> ModelProfile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise StartTuiError(f"There is no model profile {name!r} (known: {known}).") from None


def family_of(metadata: Mapping[str, str]) -> str | None:
    """The name of the profile a model's family takes: from its chat template where it has one, else from
    its name and architecture; None when they do not tell."""
    name = " ".join(metadata.get(k, "") for k in ("general.name", "general.basename", "general.finetune"))
    name = name.lower().replace("_", "-")
    template = metadata.get("tokenizer.chat_template", "")
    if metadata.get("start_tui.profile") in PROFILES:  # a model or adapter trained under a profile of its own
        return metadata["start_tui.profile"]
    if template:
        return _family_of_template(template, name, metadata)
    if "qwq" in name:
        return "qwq-preview" if "preview" in name else "qwq"
    if ("deepseek" in name and "r1" in name) or "r1-distill" in name:
        return "deepseek-r1"
    if "qwen3" in name and not any(w in name for w in ("instruct", "coder", "base", "-vl")):
        return "qwen3"  # Qwen3's hybrid models think unless told not to; its instruct and coder models do not
    if metadata.get("general.architecture", "").lower().startswith("gemma"):
        return "gemma3-base"  # a Gemma 3 without a chat template is the base model: its few-shot prompt
    return None


def _family_of_template(template: str, name: str, metadata: Mapping[str, str]) -> str:
    """A family read from a chat template: whether the model thinks is what its generation prompt opens."""
    if QWQ_PREVIEW_SYSTEM in template:
        return "qwq-preview"
    if not any(t in template for t in ("<think>", "</think>", "enable_thinking")):
        return "chat"
    try:
        opened = _render_chat(template, "x", metadata, {}).rstrip()
    except StartTuiError:
        opened = ""
    if opened.endswith("</think>"):
        return "chat"  # the template closes the thinking for the model (DeepSeek-V3.1's default mode)
    if "enable_thinking" in template:
        return "qwen3"
    if "<｜Assistant｜>" in template:
        return "deepseek-r1"
    if opened.endswith("<think>"):
        return "qwq" if "qwq" in name else "qwen3" if "qwen3" in name else "think"
    return "chat"  # think tags only where past turns are shown (Qwen3-Instruct-2507): it does not think


def select_profile(metadata: Mapping[str, str]) -> ModelProfile:
    """The profile that fits a model, from its metadata; one sentence naming --profile when it cannot be told."""
    family = family_of(metadata)
    if family is not None:
        return PROFILES[family]
    model = metadata.get("general.name") or "this model"
    served = metadata.get("start_tui.served_by")
    where = (
        f"the server at {served} reports no chat template for it"
        if served
        else "it has no chat template and its name and architecture are not of a known family"
    )
    raise StartTuiError(
        f"start-tui cannot tell which family {model!r} belongs to ({where}); pass --profile "
        f"({', '.join(PROFILES)}), or --tokenizer with its tokenizer folder or GGUF so its chat template is read."
    )
