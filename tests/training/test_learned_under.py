"""A fine-tuned model runs under the profile and prompt it learned under, with no flags: the SFT stage
records them from its traces, export writes them into the GGUF, and the reasoner takes them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from start_tui.backends.learned import PROFILE_KEY, PROMPT_KEY, in_job
from start_tui.engine import HintLibrary, Span, Trace
from start_tui.options import EngineOptions, make_reasoner
from tests.scripted import ScriptedBackend
from training.dataset import learned_prompt

TEMPLATE = "Solve it with Python.\n\nProblem: 2+2?\nSolution: 4\n\nProblem: {problem}\nSolution:"


def write_traces(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """(profile, prompt template, problem) per trace."""
    with path.open("w", encoding="utf-8") as f:
        for number, (profile, template, problem) in enumerate(rows):
            prompt = template.replace("{problem}", problem)
            spans = [Span("prompt", prompt), Span("model", " print(1)\nFinal answer: 1\n")]
            trace = Trace(id=f"t{number}", problem=problem, spans=spans, meta={"profile": profile})
            f.write(json.dumps({"trace": trace.to_json()}) + "\n")
    return path


def test_the_prompt_a_trace_set_was_made_under_is_recovered_only_when_every_trace_agrees(tmp_path: Path):
    problems = ["How many primes are below 30?", "What is 7! / 5!?", "Sum the digits of 2^15."]
    same = write_traces(tmp_path / "same.jsonl", [("gemma3-base", TEMPLATE, p) for p in problems])
    assert learned_prompt(same) == {PROFILE_KEY: "gemma3-base", PROMPT_KEY: TEMPLATE}

    other = TEMPLATE.replace("Solve it", "Answer it")
    mixed = write_traces(
        tmp_path / "mixed.jsonl", [("gemma3-base", TEMPLATE, problems[0]), ("gemma3-base", other, problems[1])]
    )
    assert learned_prompt(mixed) == {PROFILE_KEY: "gemma3-base"}  # the profile holds, no one prompt
    profiles = write_traces(
        tmp_path / "profiles.jsonl", [("gemma3-base", TEMPLATE, problems[0]), ("qwq", TEMPLATE, problems[1])]
    )
    assert learned_prompt(profiles) == {}
    chat = write_traces(tmp_path / "chat.jsonl", [("gemma3-it", TEMPLATE, p) for p in problems])
    assert learned_prompt(chat) == {PROFILE_KEY: "gemma3-it"}  # a chat profile's prompt is its template's
    unknown = write_traces(tmp_path / "unknown.jsonl", [("a-profile-from-elsewhere", TEMPLATE, problems[0])])
    assert learned_prompt(unknown) == {}


class Learned(ScriptedBackend):
    def __init__(self, meta: Mapping[str, str]) -> None:
        super().__init__("")
        self.meta = dict(meta)

    def metadata(self) -> Mapping[str, str]:
        return {"general.name": "a fine-tuned model", **self.meta}


def test_the_reasoner_prompts_as_the_model_learned_unless_told_otherwise(tmp_path: Path):
    library = HintLibrary.load()
    learned = Learned({PROFILE_KEY: "gemma3-base", PROMPT_KEY: TEMPLATE})
    problem = "How many primes are below 30?"

    def prompt(opts: EngineOptions, backend: ScriptedBackend) -> str:
        reasoner = make_reasoner(opts, backend, None, library)  # type: ignore[arg-type]  # no code runs
        return reasoner.profile.build_prompt(problem, backend.metadata())

    assert prompt(EngineOptions(), learned) == TEMPLATE.replace("{problem}", problem)
    named = prompt(EngineOptions(profile="gemma3-base"), learned)  # a profile given by name: its own prompt
    assert "Solve it with Python." not in named and named.rstrip().endswith(f"Problem: {problem}\nSolution:")
    own = tmp_path / "prompt.txt"
    own.write_text("Q: {problem}\nA:\n", encoding="utf-8")
    assert prompt(EngineOptions(prompt_file=str(own)), learned) == f"Q: {problem}\nA:"
    slotless = Learned({PROFILE_KEY: "gemma3-base", PROMPT_KEY: "no slot here"})
    assert "no slot here" not in prompt(EngineOptions(), slotless)


def test_a_job_record_is_read_from_the_run_folder_or_a_checkpoint_inside_it(tmp_path: Path):
    run = tmp_path / "sft" / "model"
    (run / "checkpoint-9").mkdir(parents=True)
    assert in_job(run) is None
    record = {PROFILE_KEY: "gemma3-base", PROMPT_KEY: TEMPLATE, "other": "dropped"}
    (run / "job.json").write_text(json.dumps({"stage": {"learned_under": record}}), encoding="utf-8")
    assert in_job(run) == in_job(run / "checkpoint-9") == {PROFILE_KEY: "gemma3-base", PROMPT_KEY: TEMPLATE}
    (run / "job.json").write_text("{not json", encoding="utf-8")
    assert in_job(run) is None
