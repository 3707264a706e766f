"""SFT step time: the LM head on labelled positions only vs the full logits, side by side.

Gemma 3 270M (the embedded GGUF converted to a transformers folder, CPU float32 here) on a batch
shaped like START traces: a long prompt and interpreter outputs carry no loss, the model's own
text does. Each variant runs forward + backward of `compute_loss` on the same batch, alternated,
and the script prints the median seconds per step of each and their ratio.

    python bench/sft_step.py [--length 768] [--labelled 160] [--reps 4] [--model DIR]
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=768, help="tokens per sequence")
    parser.add_argument("--labelled", type=int, default=160, help="tokens with a label (the end of the sequence)")
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--model", default="embedded", help="a transformers folder (default: the embedded model)")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

    from training.convert import base_model_dir
    from training.sft import labelled_logits_trainer

    folder = base_model_dir(args.model)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(10, model.config.vocab_size - 10, (1, args.length), generator=gen)
    labels = ids.clone()
    labels[:, : args.length - args.labelled] = -100
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
    targs = TrainingArguments(output_dir="/tmp/sft-step-bench", use_cpu=True, report_to=[])
    trainers = {
        "full logits": Trainer(model=model, args=targs),
        "labelled only": labelled_logits_trainer()(model=model, args=targs),
    }
    times: dict[str, list[float]] = {name: [] for name in trainers}
    losses: dict[str, float] = {}
    for rep in range(args.reps + 1):
        for name, trainer in trainers.items():
            model.zero_grad(set_to_none=True)
            t0 = time.perf_counter()
            loss = trainer.compute_loss(model, dict(batch), num_items_in_batch=torch.tensor(args.labelled - 1))
            loss.backward()
            if rep:  # the first round warms up
                times[name].append(time.perf_counter() - t0)
            losses[name] = loss.item()
    print(f"{folder.name}: {args.length} tokens, {args.labelled} labelled, forward + backward, {args.reps} reps each")
    for name, ts in times.items():
        print(f"  {name:14s} median {statistics.median(ts):6.2f} s   loss {losses[name]:.5f}")
    full, kept = (statistics.median(times[n]) for n in trainers)
    print(f"  labelled only / full logits = {kept / full:.3f}")


if __name__ == "__main__":
    main()
