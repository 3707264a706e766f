"""A local Hugging Face causal LM (transformers), continuing text through a kept KV cache.

Reuse works in token space: each call tokenizes the whole text the way a fresh run would, keeps
the longest prefix of tokens the cache already holds (`DynamicCache.crop`), and feeds only the
rest. A continuation therefore sees exactly the tokens a full re-run would see, and costs only the
new tokens (plus a token or two where the inserted text re-tokenizes the end of the generated one).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from start_tui.backends.base import BackendStats, SamplingParams
from start_tui.backends.compute import compute
from start_tui.backends.learned import in_job
from start_tui.errors import StartTuiError

if TYPE_CHECKING:
    from start_tui.backends.hf_batch import HFBatch


NO_HUB_KERNELS: dict[str, Any] = {"use_kernels": False}
"""Keyword arguments of every `from_pretrained` of a model here. transformers 5.2x loads with `use_kernels`
on by default: on a GPU the model's layers are swapped for kernels fetched from the Hugging Face Hub when
it loads or trains, which stops a run on a machine without the Hub (and on one with it, at the Hub's
publisher-trust check). A run uses the code that is installed, as on the CPU."""


def _pick_device(device: str | None, dtype: str | None) -> tuple[str, Any]:
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if dtype is None:
        dtype = "bfloat16" if device.startswith("cuda") and torch.cuda.is_bf16_supported() else "float32"
    try:
        torch_dtype = getattr(torch, dtype)
        if not isinstance(torch_dtype, torch.dtype):
            raise AttributeError(dtype)
    except AttributeError:
        raise StartTuiError(f"{dtype!r} is not a torch dtype (try bfloat16, float16 or float32).") from None
    return device, torch_dtype


def adds_bos(tokenizer: Any) -> bool:
    """Whether a transformers tokenizer starts a text with its BOS, as llama.cpp starts the model's prompts
    (Gemma and Llama do; Qwen, whose GGUF says add_bos false, does not). Probed: `add_bos_token` is not
    reliable across tokenizer classes."""
    bos = tokenizer.bos_token_id
    if bos is None:
        return False
    probe = tokenizer("a")["input_ids"]
    return bool(probe) and probe[0] == bos


def _quiet_gguf_conversion() -> None:
    """transformers' GGUF loader draws its own tqdm bar (over the TUI); give it a silent one."""
    try:
        import transformers.modeling_gguf_pytorch_utils as gguf_utils
        from tqdm.auto import tqdm
    except ImportError:
        return
    gguf_utils.tqdm = functools.partial(tqdm, disable=True)


def _merge_adapter(model: Any, folder: Path) -> Any:
    """A peft LoRA adapter folder merged into the loaded weights (decoding then costs what the base costs)."""
    if not (folder / "adapter_config.json").is_file():
        raise StartTuiError(f"{str(folder)!r} is not a peft adapter folder (no adapter_config.json), for --adapter.")
    try:
        from peft import PeftModel
    except ImportError:
        raise StartTuiError("--adapter with --backend hf needs peft: pip install 'start-tui[train]'.") from None
    try:
        return PeftModel.from_pretrained(model, folder).merge_and_unload()
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StartTuiError(f"The adapter {str(folder)!r} does not go on this model ({first}).") from None


def _in_place(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


class TransformersBackend:
    """Any local causal-LM folder (config.json + weights + tokenizer), or a GGUF file transformers can read."""

    def __init__(
        self,
        model_dir: str | Path,
        device: str | None = None,
        dtype: str | None = None,
        n_ctx: int | None = None,
        seed: int = 0,
        adapter: str | Path | None = None,
    ) -> None:
        path = Path(model_dir).expanduser()
        if not path.exists():
            raise StartTuiError(f"There is no model folder at {str(path)!r} (--model for --backend hf).")
        gguf_file = None
        if path.is_file():
            if path.suffix != ".gguf":
                raise StartTuiError(f"{str(path)!r} is a file; --backend hf needs a model folder (or a .gguf file).")
            path, gguf_file = path.parent, path.name
        elif not (path / "config.json").is_file():
            raise StartTuiError(f"{str(path)!r} has no config.json, so it is not a transformers model folder.")
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()  # it would draw over the TUI
        if gguf_file:
            _quiet_gguf_conversion()

        self.device, torch_dtype = _pick_device(device, dtype)
        kw: dict[str, Any] = {"gguf_file": gguf_file} if gguf_file else {}
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, **kw)
            self._adds_bos = adds_bos(self.tokenizer)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype, **kw, **NO_HUB_KERNELS)
        except (OSError, ValueError, KeyError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StartTuiError(f"transformers could not load {str(path)!r} ({first}).") from None
        loaded: Any = model
        if adapter:
            loaded = _merge_adapter(loaded, Path(adapter).expanduser())
        name = (gguf_file or path.name) + (f" + {Path(adapter).name}" if adapter else "")
        self._setup(loaded.to(self.device).eval(), path, name, n_ctx, seed)
        # a folder start-tui fine-tuned runs under the profile and prompt it learned under
        folder = Path(adapter).expanduser() if adapter else None if gguf_file else path
        self._metadata.update((in_job(folder) if folder else None) or {})

    @classmethod
    def from_model(
        cls, model: Any, tokenizer: Any, name: str, n_ctx: int | None = None, learned: Mapping[str, str] | None = None
    ) -> TransformersBackend:
        """A backend over a model already in memory (the one being trained), left on its device; put it in
        eval mode before solving and back in train mode after. `learned`: what its training job records of
        the profile and prompt it is taught under (`in_job`), as a folder it trained would carry."""
        backend = cls.__new__(cls)
        backend.tokenizer = tokenizer
        backend._adds_bos = adds_bos(tokenizer)
        backend.device = str(next(model.parameters()).device)
        backend._setup(model, Path(name), name, n_ctx, 0)
        backend._metadata.update(learned or {})
        # the training computes on its own thread: a persistent second one would slow it for the rest of the
        # run (see `compute`), so this backend computes on the thread that asks, which ends with the solve
        backend.call = _in_place
        return backend

    def _setup(self, model: Any, path: Path, name: str, n_ctx: int | None, seed: int) -> None:
        import torch

        self.model = model
        self.path = path
        self.name = name
        config = self.model.config
        limit = getattr(config, "max_position_embeddings", None) or 8192
        self.n_ctx = min(n_ctx, limit) if n_ctx else limit
        self.stats = BackendStats()
        self.last_finish_reason = ""
        eos = getattr(self.model.generation_config, "eos_token_id", None) or self.tokenizer.eos_token_id
        self._eos = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        self._seed = seed
        self._cache: Any = None
        self._held: list[int] = []  # the tokens whose keys and values the cache holds
        self._sliding = False
        self._since_cut = 0
        self._torch = torch
        self.call: Callable[..., Any] = compute.call
        """Runs the model calls: on the process's compute thread (see `compute`)."""
        template = getattr(self.tokenizer, "chat_template", None) or ""
        self._metadata = {
            "general.architecture": str(getattr(config, "model_type", "")),
            "general.name": self.name,
            "tokenizer.chat_template": template if isinstance(template, str) else "",
            "start_tui.bos_token": self.tokenizer.bos_token or "",
            "start_tui.eos_token": self.tokenizer.eos_token or "",
        }

    def metadata(self) -> Mapping[str, str]:
        return self._metadata

    def tokenize(self, text: str) -> list[int]:
        """Token ids as a fresh run would see them: the BOS token where the tokenizer starts a text with
        one (not Qwen's), then the text; a text that begins with its BOS gets no second."""
        ids: list[int] = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        bos = self.tokenizer.bos_token_id
        if self._adds_bos and not (ids and ids[0] == bos):
            ids = [bos, *ids]
        return ids

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def _reuse(self, ids: list[int]) -> int:
        """Drop what the cache holds past the common prefix with `ids`; return the prefix length."""
        held = self._held
        n = 0
        limit = min(len(held), len(ids) - 1)  # always feed at least one token to get logits
        while n < limit and held[n] == ids[n]:
            n += 1
        remove = len(held) - n
        if self._cache is not None and remove:
            # sliding-window layers record their past only since the last cut; further back, start again
            if n == 0 or (self._sliding and remove > self._since_cut):
                self._cache, n = None, 0
            else:
                try:
                    self._cache.crop(-remove)
                except (RuntimeError, ValueError, NotImplementedError):
                    self._cache, n = None, 0
            self._since_cut = 0
        self._held = held[:n]
        return n

    def _forward(self, ids: list[int]) -> Any:
        from transformers import DynamicCache

        torch = self._torch
        if self._cache is None:
            self._cache = DynamicCache(config=self.model.config)
            self._cache.activate_past_recording()  # sliding-window layers keep what a cut may need
            self._sliding = any(getattr(layer, "is_sliding", False) for layer in self._cache.layers)
            self._since_cut = 0
        inp = torch.tensor([ids], device=self.device)
        with torch.inference_mode():
            out = self.model(input_ids=inp, past_key_values=self._cache, use_cache=True, logits_to_keep=1)
        self._cache = out.past_key_values
        self._held.extend(ids)
        self._since_cut += len(ids)
        self.stats.tokens_evaluated += len(ids)
        return out.logits[0, -1].float()

    def _step(self, ids: list[int], params: SamplingParams, gen: Any) -> int:
        return self._sample(self._forward(ids), params, gen)

    def _sample(self, logits: Any, params: SamplingParams, gen: Any) -> int:
        torch = self._torch
        if params.repeat_penalty != 1.0 and self._held:
            seen = torch.tensor(sorted(set(self._held[-256:])), device=logits.device)
            vals = logits[seen]
            logits[seen] = torch.where(vals > 0, vals / params.repeat_penalty, vals * params.repeat_penalty)
        if params.temperature <= 0:
            return int(torch.argmax(logits))
        logits = logits / params.temperature
        if params.top_k > 0:
            kth = torch.topk(logits, min(params.top_k, logits.numel())).values[-1]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = torch.softmax(logits, dim=-1)
        if 0 < params.top_p < 1:
            sorted_p, order = torch.sort(probs, descending=True)
            cut = torch.cumsum(sorted_p, dim=-1) - sorted_p > params.top_p
            sorted_p[cut] = 0
            probs = torch.zeros_like(probs).scatter(0, order, sorted_p)
        return int(torch.multinomial(probs.cpu(), 1, generator=gen))

    def stream(self, text: str, params: SamplingParams) -> Iterator[str]:
        ids = self.tokenize(text)
        budget = min(params.max_tokens, self.n_ctx - len(ids))
        if budget <= 0:
            self.last_finish_reason = "context"
            return
        gen = self._torch.Generator().manual_seed(params.seed if params.seed is not None else self._seed)
        kept = self.call(self._reuse, ids)
        pending = ids[kept:]
        all_ids = list(ids)
        # incremental detokenization: decode a window that starts a few tokens back, emit what is new
        prefix_at, read_at = max(0, len(all_ids) - 5), len(all_ids)
        self.last_finish_reason = "stopped"
        produced = 0
        while True:
            t0 = time.perf_counter()
            tok = self.call(self._step, pending, params, gen)
            self.stats.decode_seconds += time.perf_counter() - t0
            if tok in self._eos:
                self.last_finish_reason = "eos"
                return
            self.stats.tokens_generated += 1
            produced += 1
            all_ids.append(tok)
            pending = [tok]
            before = str(self.tokenizer.decode(all_ids[prefix_at:read_at], skip_special_tokens=False))
            after = str(self.tokenizer.decode(all_ids[prefix_at:], skip_special_tokens=False))
            if len(after) > len(before) and not after.endswith("\ufffd"):
                prefix_at, read_at = read_at, len(all_ids)
                yield after[len(before) :]
            if produced >= budget:
                self.last_finish_reason = "length" if budget == params.max_tokens else "context"
                return

    def batch(self, k: int) -> HFBatch:
        """`k` lanes decoded together, one forward per step over a padded batch (see `hf_batch`)."""
        from start_tui.backends.hf_batch import HFBatch

        return HFBatch(self, k)

    def close(self) -> None:
        self._cache = None
        self._held = []
