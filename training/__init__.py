"""`start-tui train`: Hint-infer data generation, Hint-RFT, RFT and full-parameter SFT (DeepSpeed ZeRO-3).

Stages, each resumable and each writing its outputs plus a `manifest.json` (counts, config, input
hashes, timings) into its own folder under the recipe's `workdir`:

1. `hint-infer`  greedy and Hint-infer runs over a problem set, graded        -> runs.jsonl
2. `hint-rft`    keep Hint-infer-right/greedy-wrong traces, drop repetitive, edit -> d_seed.jsonl
3. `sft`         full-parameter SFT on a trace set (output spans masked)       -> a model folder
4. `rft`         sample K times with the fine-tuned model, keep correct, dedup -> d_start.jsonl
5. `pipeline`    all of it from one recipe, skipping stages whose outputs exist
"""
