"""A tiny random causal LM with a locally trained byte-level BPE tokenizer: no hub, a few seconds to build."""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "Let me compute the sum of the squares of the integers from 1 to 50.",
    "Wait, I should check this with Python.",
    "```python\nprint(sum(i * i for i in range(1, 51)))\n```\n```output\n42925\n```",
    "Alternatively, the formula n(n+1)(2n+1)/6 gives the same answer.",
    "Final answer: 42925",
] * 20


def build_tiny_lm(folder: Path, seed: int = 0, layers: int = 2, arch: str = "llama") -> Path:
    """Save a random model and its tokenizer in `folder` (a transformers model folder): Llama-style, or
    `arch="gemma3"` with sliding-window layers (a window of 4 tokens) between full-attention ones."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import AutoModelForCausalLM, Gemma3TextConfig, LlamaConfig, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<pad>", "<bos>", "<eos>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>")
    torch.manual_seed(seed)
    common = {
        "vocab_size": len(fast),
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": layers,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 2048,
        "bos_token_id": fast.bos_token_id,
        "eos_token_id": fast.eos_token_id,
        "pad_token_id": fast.pad_token_id,
        "tie_word_embeddings": True,
    }
    if arch == "gemma3":
        kinds = ["sliding_attention", "full_attention"]
        config: LlamaConfig | Gemma3TextConfig = Gemma3TextConfig(
            **common,
            head_dim=16,
            query_pre_attn_scalar=16,  # as llama.cpp computes it: an export runs the same model
            sliding_window=4,
            layer_types=[kinds[i % 2] for i in range(layers)],
        )
    else:
        config = LlamaConfig(**common)
    model = AutoModelForCausalLM.from_config(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder
