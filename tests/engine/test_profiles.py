import pytest

from start_tui.engine.profiles import ANSWER_INSTRUCTION, get_profile, select_profile
from start_tui.errors import StartTuiError

CHATML_THINK = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n<think>\n{% endif %}"
)


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"general.architecture": "gemma3", "general.name": "Gemma 3 270m"}, "gemma3-base"),
        ({"general.architecture": "gemma3", "tokenizer.chat_template": "<start_of_turn>"}, "chat"),
        ({"general.architecture": "qwen2", "general.name": "QwQ 32B", "tokenizer.chat_template": CHATML_THINK}, "qwq"),
        ({"general.architecture": "qwen2", "general.name": "DeepSeek R1 Distill Qwen 7B"}, "deepseek-r1"),
        ({"general.architecture": "qwen3", "general.name": "Qwen3 8B"}, "qwen3"),
        ({"general.architecture": "llama", "tokenizer.chat_template": "<|im_start|>{{x}}"}, "chat"),
    ],
)
def test_profiles_are_chosen_from_gguf_metadata(metadata, expected):
    assert select_profile(metadata).name == expected


def test_the_base_profile_builds_a_few_shot_prompt_with_the_code_format():
    prompt = get_profile("gemma3-base").build_prompt("  What is 1+1?  ", {})
    assert prompt.endswith("Problem: What is 1+1?\nSolution:")
    assert "```python\n" in prompt and "```output\n" in prompt and "Final answer:" in prompt


def test_chat_profiles_use_the_models_template_and_open_thinking_once():
    prompt = get_profile("qwq").build_prompt("Find x.", {"tokenizer.chat_template": CHATML_THINK})
    assert prompt.startswith("<|im_start|>user\nFind x.\n\n" + ANSWER_INSTRUCTION)
    assert prompt.endswith("<|im_start|>assistant\n<think>\n") and prompt.count("<think>") == 1


def test_a_missing_template_falls_back_and_thinking_is_opened():
    prompt = get_profile("deepseek-r1").build_prompt("Find x.", {"start_tui.bos_token": "<bos>"})
    assert prompt.startswith("<bos><｜User｜>Find x.") and prompt.endswith("<｜Assistant｜><think>\n")


def test_unknown_profile_and_broken_template():
    with pytest.raises(StartTuiError, match="no model profile 'nope'"):
        get_profile("nope")
    with pytest.raises(StartTuiError, match="cannot be rendered"):
        get_profile("qwq").build_prompt("x", {"tokenizer.chat_template": "{% if %}"})
