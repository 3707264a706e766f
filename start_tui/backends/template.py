"""A chat template from outside the model (`--tokenizer`): a transformers tokenizer folder or a GGUF file.

A served model's `/v1/completions` takes raw text, so start-tui renders the chat template itself, and a
server seldom says which template it holds (llama.cpp's server does, at `/props`; vLLM and SGLang do
not). The user names the model's tokenizer instead: its folder (`tokenizer_config.json`,
`chat_template.jinja` or `chat_template.json`, as transformers writes them) or any GGUF of the model.
What is read becomes the model's metadata keys, so the profile is chosen and the prompt rendered as
for a local model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from start_tui.backends.gguf import read_gguf
from start_tui.backends.learned import in_gguf, in_job
from start_tui.errors import StartTuiError

TEMPLATE_KEY = "tokenizer.chat_template"
BOS_KEY, EOS_KEY = "start_tui.bos_token", "start_tui.eos_token"
SOURCE_KEY = "start_tui.template_from"


def read_template(path: str | Path) -> dict[str, str]:
    """What a tokenizer folder or GGUF says of its model, as metadata keys: the chat template, the BOS and
    EOS token texts, the architecture and name, and the profile start-tui trained it under. A model
    without a template (a base model) is left to the profile's choice, which refuses what it cannot tell."""
    p = Path(path).expanduser()
    if not p.exists():
        raise StartTuiError(f"The tokenizer {str(p)!r} (--tokenizer) does not exist.")
    found = _from_gguf(p) if p.is_file() else _from_folder(p)
    found[SOURCE_KEY] = str(p)
    return {k: v for k, v in found.items() if v}


def _from_gguf(p: Path) -> dict[str, str]:
    info = read_gguf(p, what="tokenizer", keep=frozenset({"tokenizer.ggml.tokens"}))
    meta, tokens = info.metadata, info.metadata.get("tokenizer.ggml.tokens") or []
    out = {TEMPLATE_KEY: str(meta.get(TEMPLATE_KEY) or "")}
    for key, id_key in ((BOS_KEY, "tokenizer.ggml.bos_token_id"), (EOS_KEY, "tokenizer.ggml.eos_token_id")):
        token_id = meta.get(id_key)
        if isinstance(token_id, int) and 0 <= token_id < len(tokens):
            out[key] = str(tokens[token_id])
    for key in ("general.architecture", "general.name", "general.basename", "general.finetune"):
        if meta.get(key):
            out[key] = str(meta[key])
    return out | in_gguf(info)


def _from_folder(p: Path) -> dict[str, str]:
    config = _read_json(p / "tokenizer_config.json")
    template: Any = config.get("chat_template")
    if (p / "chat_template.jinja").is_file():
        template = (p / "chat_template.jinja").read_text(encoding="utf-8")
    elif (p / "chat_template.json").is_file():
        template = _read_json(p / "chat_template.json").get("chat_template")
    if isinstance(template, list):  # named templates: the default one renders conversations
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default") or next(iter(named.values()), None)
    out = {TEMPLATE_KEY: template if isinstance(template, str) else ""}
    for key, name in ((BOS_KEY, "bos_token"), (EOS_KEY, "eos_token")):
        token = config.get(name)
        token = token.get("content") if isinstance(token, dict) else token
        if isinstance(token, str):
            out[key] = token
    model_config = _read_json(p / "config.json")
    if isinstance(model_config.get("model_type"), str):
        out["general.architecture"] = model_config["model_type"]
    if not (p / "tokenizer_config.json").is_file() and not out[TEMPLATE_KEY]:
        raise StartTuiError(
            f"The tokenizer folder {str(p)!r} (--tokenizer) has no tokenizer_config.json or chat_template.jinja."
        )
    return out | (in_job(p) or {})


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StartTuiError(f"The tokenizer file {str(path)!r} cannot be read as JSON ({exc}).") from None
    return data if isinstance(data, dict) else {}
