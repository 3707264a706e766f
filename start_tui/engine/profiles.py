"""Model profiles: how a model family is prompted, how it thinks, and where its thinking ends.

`select_profile(metadata)` picks one from GGUF metadata (`general.architecture`, `general.name`,
`tokenizer.chat_template`); a name given by the user overrides it. The GGUF's own chat template
renders the prompt where there is one; the Gemma 3 base model has none and gets a few-shot prompt
that shows the code / output format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from start_tui.errors import StartTuiError

ANSWER_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."

_GEMMA_BASE_FEW_SHOT = """\
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

_CHATML = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
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
            raise StartTuiError(f"The {self.name} profile needs a chat template and the model has none.")
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
            name="gemma3-base",
            description="Gemma 3 base model: few-shot prompt, thinking ends at 'Final answer:'",
            think_end=("Final answer:",),
            stop=("\nProblem:", "<end_of_turn>"),
            few_shot=_GEMMA_BASE_FEW_SHOT,
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
            description="Gemma 3 instruction-tuned: its chat template, no thinking delimiters",
            think_end=("Final answer:", "\\boxed{"),
            stop=("<end_of_turn>",),
            instruction=ANSWER_INSTRUCTION + " Write 'Final answer:' before it.",
            fallback_template=(
                "{{ bos_token }}{% for m in messages %}<start_of_turn>user\n{{ m.content }}<end_of_turn>\n"
                "{% endfor %}<start_of_turn>model\n"
            ),
        ),
        ModelProfile(
            name="qwq",
            description="QwQ-32B / QwQ-32B-Preview: ChatML, <think> ... </think>",
            think_start="<think>\n",
            think_end=("</think>",),
            stop=("<|im_end|>", "<|endoftext|>"),
            fallback_template=_CHATML,
            temperature=0.6,
            top_p=0.95,
            top_k=40,
        ),
        ModelProfile(
            name="deepseek-r1",
            description="DeepSeek-R1 and its distills: <think> ... </think>",
            think_start="<think>\n",
            think_end=("</think>",),
            stop=("<｜end▁of▁sentence｜>",),
            fallback_template=_DEEPSEEK,
            instruction=ANSWER_INSTRUCTION,
            temperature=0.6,
            top_p=0.95,
        ),
        ModelProfile(
            name="qwen3",
            description="Qwen3 in thinking mode: ChatML, <think> ... </think>",
            think_start="<think>\n",
            think_end=("</think>",),
            stop=("<|im_end|>", "<|endoftext|>"),
            fallback_template=_CHATML,
            temperature=0.6,
            top_p=0.95,
            top_k=20,
            template_kwargs={"enable_thinking": True},
        ),
    )
}


def get_profile(name: str) -> ModelProfile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise StartTuiError(f"There is no model profile {name!r} (known: {known}).") from None


def select_profile(metadata: Mapping[str, str]) -> ModelProfile:
    """The profile that fits a model, from its GGUF metadata."""
    arch = metadata.get("general.architecture", "").lower()
    name = " ".join(metadata.get(k, "") for k in ("general.name", "general.basename", "general.finetune")).lower()
    template = metadata.get("tokenizer.chat_template", "")
    if metadata.get("start_tui.profile") in PROFILES:  # an adapter trained under a profile of its own
        return PROFILES[metadata["start_tui.profile"]]
    if "qwq" in name:
        return PROFILES["qwq"]
    if ("deepseek" in name and "r1" in name) or "<｜Assistant｜>" in template:
        return PROFILES["deepseek-r1"]
    if arch == "qwen3" or "qwen3" in name:
        return PROFILES["qwen3"]
    if arch.startswith("gemma"):
        return PROFILES["gemma3-it"] if template else PROFILES["gemma3-base"]
    if "<think>" in template:
        return PROFILES["deepseek-r1"] if "<｜" in template else PROFILES["qwq"]
    if "<|im_start|>" in template:
        return PROFILES["qwq"]
    if not template:
        return PROFILES["gemma3-base"]
    return PROFILES["gemma3-it"]
