"""Options declared once: the flags, the app's settings and config file, and the recipe's [generate] table."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import fields, replace
from pathlib import Path

import pytest

from start_tui.cli import build_parser
from start_tui.errors import StartTuiError
from start_tui.options import (
    EngineOptions,
    check_options,
    front_defaults,
    option_fields,
    options_from_args,
    spec,
)
from start_tui.tui.settings import load_settings, save_settings, settings_from_dict, settings_to_toml
from training.config import GenerateConfig, Recipe, _build, load_recipe, recipe_schema
from training.stages import engine_options

ROOT = Path(__file__).resolve().parents[1]


def flags_of(command: str) -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]  # type: ignore[union-attr]
    return {flag for action in sub._actions for flag in action.option_strings}


def test_every_option_is_declared_with_a_help_a_flag_and_a_front_end():
    names = [f.name for f in option_fields()]
    assert names == [f.name for f in fields(EngineOptions)]  # nothing is an option by accident
    flags = [spec(f).flag for f in option_fields()]
    assert len(set(flags)) == len(flags)
    for f in option_fields():
        assert spec(f).help and spec(f).fronts, f.name


@pytest.mark.parametrize("command", ["solve", "batch", "eval", "exec"])
def test_each_command_offers_exactly_the_options_of_its_front_end(command: str):
    flags = flags_of(command) - ({"--rounds"} if command == "eval" else set())  # eval: its own --rounds list
    for f in option_fields():
        assert (spec(f).flag in flags) == (command in spec(f).fronts), (command, f.name)


def test_eval_does_not_offer_switches_it_would_ignore():
    # eval compares hints on and off itself and takes a list of round counts
    flags = flags_of("eval")
    assert "--no-hints" not in flags and "--hints" in flags and "--rounds" in flags
    args = build_parser().parse_args(["eval", "--benchmark", "math500", "--rounds", "0,2", "--top-p", "0.9"])
    opts = options_from_args(args, "eval")
    assert opts.top_p == 0.9 and args.rounds == "0,2"


def test_flags_set_the_options_they_name():
    args = build_parser().parse_args(
        [
            "solve",
            "x",
            "--no-hints",
            "--no-persist",
            "--hint",
            "verify",
            "--conjunctions",
            "Wait, Hmm",
            "--timeout",
            "3",
        ]
    )
    opts = options_from_args(args, "solve")
    assert (opts.hints_enabled, opts.persist, opts.fixed_category) == (False, False, "verify")
    assert opts.conjunctions == ("Wait", "Hmm") and opts.timeout_s == 3.0
    assert options_from_args(build_parser().parse_args(["solve", "x"]), "solve") == EngineOptions()


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--max-tokens", "0", "must be 1 or more"),
        ("--backend", "vllm", "must be one of llama, hf, openai"),
        ("--top-p", "high", "must be a float"),
        ("--timeout", "0", "must be more than 0"),
        ("--domain", "chemistry", "must be one of math, code"),
    ],
)
def test_a_bad_flag_value_gets_one_sentence(flag: str, value: str, words: str):
    proc = subprocess.run(
        [sys.executable, "-m", "start_tui.cli", "solve", "x", flag, value], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert words in last and flag in last and "Traceback" not in proc.stderr


def test_options_a_model_cannot_use_are_refused_before_it_loads(tmp_path: Path):
    with pytest.raises(StartTuiError, match=r"no \{problem\} slot"):
        (tmp_path / "p.txt").write_text("Solve it.\n")
        check_options(EngineOptions(prompt_file=str(tmp_path / "p.txt")))
    with pytest.raises(StartTuiError, match="max_tokens"):
        check_options(EngineOptions(max_tokens=0))


def test_what_a_change_rebuilds():
    base = EngineOptions()
    assert base.rebuilds(replace(base, timeout_s=3.0)) == {"sandbox"}
    assert base.rebuilds(replace(base, persist=False)) == {"sandbox"}
    assert base.rebuilds(replace(base, model="other.gguf")) == {"model"}
    assert base.rebuilds(replace(base, max_tokens=50, rounds=2, seed=3)) == {"reasoner"}
    assert base.rebuilds(replace(base)) == set()


# --- the app's settings and config file -----------------------------------------------------------


def test_the_app_shows_every_option_solve_offers():
    solve = {f.name for f in option_fields("solve")}
    tui = {f.name for f in option_fields("tui")}
    assert solve <= tui


def test_settings_survive_a_save_and_a_load(tmp_path: Path):
    path = tmp_path / "config.toml"
    settings = replace(
        front_defaults("tui"),
        model="m.gguf",
        temperature=0.25,
        top_p=0.9,
        conjunctions=("Wait", 'Say "hmm"'),
        fixed_category="general",
        persist=False,
        timeout_s=2.5,
    )
    save_settings(settings, path)
    assert load_settings(path) == settings
    text = path.read_text()
    assert "# base_url =" in text and "# wall-clock seconds per code execution" in text
    assert load_settings(tmp_path / "absent.toml") == EngineOptions()


def test_a_config_file_written_by_an_older_version_still_loads(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('model = ""\nprofile = ""\ntemperature = -1.0\nconjunctions = "Wait,Alternatively"\nn_ctx = 4096\n')
    assert load_settings(path) == replace(EngineOptions(), n_ctx=4096)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("colour = 3\n", "Unknown keys in"),
        ("max_tokens = 'many'\n", "max_tokens in"),
        ("hints_enabled = 1\n", "must be true or false"),
        ("backend = 'vllm'\n", "must be one of llama, hf, openai"),
        ("max_tokens = \n", "is not valid TOML"),
    ],
)
def test_a_bad_config_file_gets_one_sentence_and_is_left_alone(tmp_path: Path, text: str, words: str):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(StartTuiError, match=words) as info:
        load_settings(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert path.read_text() == text


def test_the_settings_file_is_valid_toml_for_every_default():
    assert tomllib.loads(settings_to_toml(EngineOptions())) == {
        "backend": "llama",
        "shipped_adapter": True,
        "api_key_env": "OPENAI_API_KEY",
        "n_ctx": 8192,
        "flash_attn": False,
        "max_tokens": 2048,
        "seed": 0,
        "loop_chars": 400,
        "samples": 1,
        "hints_enabled": True,
        "domain": "math",
        "conjunctions": ["Wait", "Alternatively"],
        "conjunction_probability": 0.1,
        "hint_gap": 4000,
        "rounds": 1,
        "max_tool_calls": 6,
        "diverse_hints": True,
        "timeout_s": 10.0,
        "persist": True,
    }
    assert settings_from_dict({}) == EngineOptions()


# --- the recipe ----------------------------------------------------------------------------------


def test_the_recipe_generate_table_is_the_recipe_options_plus_how_they_are_served():
    keys = [f.name for f in fields(GenerateConfig)]
    serving = ["concurrency", "serve_command", "base_urls", "serve_timeout_s"]
    assert keys == [f.name for f in option_fields("recipe")] + serving
    assert "temperature" not in keys and "hints_enabled" not in keys  # greedy, and both runs are made
    assert GenerateConfig().max_tokens == 16384  # the recipe's own default


def test_a_recipe_generate_table_becomes_engine_options(tmp_path: Path):
    path = tmp_path / "r.toml"
    path.write_text('[generate]\nmax_tokens = 300\nconjunctions = ["Hmm"]\ntimeout_s = 4\npersist = false\n')
    opts = engine_options(load_recipe(path))
    assert (opts.max_tokens, opts.conjunctions, opts.timeout_s, opts.persist) == (300, ("Hmm",), 4.0, False)
    assert opts.temperature == 0.0
    path.write_text("[generate]\ntemperature = 0.7\n")
    with pytest.raises(StartTuiError, match="Unknown keys in \\[generate\\]: temperature"):
        load_recipe(path)
    path.write_text("[generate]\nrounds = -1\n")
    with pytest.raises(StartTuiError, match="rounds in \\[generate\\] must be 0 or more"):
        load_recipe(path)


def test_the_recipe_schema_is_a_recipe_with_every_default():
    schema = recipe_schema()
    assert _build(Recipe, tomllib.loads(schema), "schema") == Recipe()
    assert "timeout_s = 10.0  # wall-clock seconds per code execution" in schema


# --- a new option, added in one place ------------------------------------------------------------

NEW_OPTION = """
    frobnicate_level: int = option(3, "a test-only option", flag="--frobnicate-level", minimum=0)
"""

PROBE = r"""
import asyncio, sys, tomllib
from pathlib import Path
from start_tui.cli import main
from start_tui.options import EngineOptions
from start_tui.tui.settings import load_settings, save_settings
from training.config import load_recipe, recipe_schema
from training.stages import engine_options

print("schema", "frobnicate_level = 3" in recipe_schema())
recipe = Path(sys.argv[1]) / "r.toml"
recipe.write_text("[generate]\nfrobnicate_level = 5\n")
print("recipe", engine_options(load_recipe(recipe)).frobnicate_level)
config = Path(sys.argv[1]) / "config.toml"
save_settings(EngineOptions(frobnicate_level=7), config)
print("config", load_settings(config).frobnicate_level)

from textual.app import App
from textual.widgets import Input
from start_tui.tui.screens.settings import SettingsScreen

class Probe(App):
    async def on_mount(self):
        await self.push_screen(SettingsScreen(EngineOptions()))

async def screen():
    app = Probe()
    async with app.run_test() as pilot:
        await pilot.pause()
        field = app.screen.query_one("#set-frobnicate_level", Input)
        field.value = "9"
        print("screen", field.value, app.screen.values()["frobnicate_level"])

asyncio.run(screen())
"""


def test_a_new_option_reaches_every_front_end_from_one_declaration(tmp_path: Path):
    """Patch a copy of the package: one field in options.py, nothing else touched."""
    for package in ("start_tui", "training"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    options = tmp_path / "start_tui" / "options.py"
    text = options.read_text()
    anchor = '    title: ClassVar[str] = "sandbox"\n'
    assert anchor in text
    options.write_text(text.replace(anchor, anchor + NEW_OPTION))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}

    def run(*args: str) -> str:
        proc = subprocess.run(
            [sys.executable, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout

    for command in ("solve", "batch", "eval"):
        assert "--frobnicate-level" in run("-m", "start_tui.cli", command, "--help"), command
    out = run("-c", PROBE, str(tmp_path)).splitlines()
    assert out == ["schema True", "recipe 5", "config 7", "screen 9 9"]
