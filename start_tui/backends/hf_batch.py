"""K sequences of one transformers model decoded together: one forward over a padded batch per step.

The cache (`DynamicCache`, batch K) holds one slot row per sequence; every step appends the same
number of slots to each row: a sequence's new tokens, right-aligned, and padding elsewhere. Which
slots a query sees is decided by an explicit mask built from each slot's position in its own
sequence, not from its slot index, so padding, a sequence cut back to an earlier point (its later
slots are masked out) and sliding-window layers (a second mask with the window) are all exact.
A slot once masked stays in the cache: memory grows with padding, which suits the short K-sample
batches of RFT and evaluation; at scale a served engine (vLLM, SGLang) is the better tool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from start_tui.backends.batching import BatchedDecoder, Lane, SeqState, Work, common_prefix

if TYPE_CHECKING:
    from start_tui.backends.hf import TransformersBackend


class HFBatch(BatchedDecoder):
    """K lanes over one transformers model; close it to drop the batch's cache."""

    label = "transformers"

    def __init__(self, backend: TransformersBackend, k: int, **kw: Any) -> None:
        import torch

        super().__init__(k, backend.n_ctx, **kw)
        self.backend = backend
        self._torch = torch
        model = backend.model
        text_config = model.config.get_text_config(decoder=True)
        types = list(getattr(text_config, "layer_types", None) or [])
        self._window = getattr(text_config, "sliding_window", None) if "sliding_attention" in types else None
        self._dict_masks = bool(types)  # models that name their layer types take one mask per type
        self._cache: Any = None
        self._pos = torch.zeros((k, 0), dtype=torch.long)
        """Each slot's position within its own sequence; -1 for padding and cut slots."""
        self._start([self._lane(i) for i in range(k)])

    def _lane(self, seq: int) -> Lane:
        b = self.backend

        def detokenizer(tokens: list[int]) -> Callable[[int], str]:
            ids = list(tokens)
            at = [max(0, len(ids) - 5), len(ids)]  # incremental detokenization over a short window

            def text_of(tok: int) -> str:
                ids.append(tok)
                before = str(b.tokenizer.decode(ids[at[0] : at[1]], skip_special_tokens=False))
                after = str(b.tokenizer.decode(ids[at[0] :], skip_special_tokens=False))
                if len(after) > len(before) and not after.endswith("\ufffd"):
                    at[0], at[1] = at[1], len(ids)
                    return after[len(before) :]
                return ""

            return text_of

        return Lane(
            self,
            seq,
            name=b.name,
            metadata=b.metadata,
            count_tokens=b.count_tokens,
            encode=b.tokenize,
            detokenizer=detokenizer,
        )

    def is_eog(self, token: int) -> bool:
        return token in self.backend._eos

    def _reconcile(self, pending: list[SeqState]) -> None:
        for state in pending:
            target = state.request
            assert target is not None
            keep = min(common_prefix(state.kv, target), len(target) - 1)
            row = self._pos[state.seq]
            row[row >= keep] = -1  # what lies past the common prefix is masked out for good
            state.kv, state.todo, state.request = target[:keep], target[keep:], None

    def _decode(self, work: Work) -> list[np.ndarray]:
        # on the process's one compute thread, as every model call (see `compute`: torch's OpenMP
        # workers stop spinning too once a second thread has computed; a K = 4 batch took 1.2x as long)
        return self.backend.call(self._decode_here, work)

    def _decode_here(self, work: Work) -> list[np.ndarray]:
        torch, model = self._torch, self.backend.model
        k, width = self.k, max(len(chunk) for _, _, chunk, _ in work)
        ids = torch.zeros((k, width), dtype=torch.long)
        new_pos = torch.full((k, width), -1, dtype=torch.long)
        for state, _, chunk, _ in work:
            start = len(state.kv)
            ids[state.seq, width - len(chunk) :] = torch.tensor(chunk)
            new_pos[state.seq, width - len(chunk) :] = torch.arange(start, start + len(chunk))
        pos = torch.cat([self._pos, new_pos], dim=1)  # (k, slots)
        query = new_pos.clamp(min=0)
        seen = (pos[:, None, :] >= 0) & (pos[:, None, :] <= query[:, :, None])  # (k, width, slots)
        dtype = model.dtype
        low = torch.finfo(dtype).min

        def additive(allowed: Any) -> Any:
            return torch.where(allowed, 0.0, low).to(dtype)[:, None, :, :]

        mask: Any = additive(seen)
        if self._dict_masks:
            window = self._window
            sliding = seen & (query[:, :, None] - pos[:, None, :] < window) if window else seen
            mask = {"full_attention": mask, "sliding_attention": additive(sliding)}
        if self._cache is None:
            from transformers import DynamicCache

            self._cache = DynamicCache()  # full layers: the masks, not the cache, apply any window
        device = self.backend.device
        mask = {key: m.to(device) for key, m in mask.items()} if isinstance(mask, dict) else mask.to(device)
        with torch.inference_mode():
            out = model(
                input_ids=ids.to(device),
                position_ids=query.to(device),
                attention_mask=mask,
                past_key_values=self._cache,
                use_cache=True,
                logits_to_keep=1,
            )
        self._cache = out.past_key_values
        self._pos = pos
        last = out.logits[:, -1].float().cpu().numpy()
        return [last[state.seq] for state, _, _, sample in work if sample]

    def _free(self) -> None:
        self._cache = None
