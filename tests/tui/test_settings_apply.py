"""Settings that do not work are neither used nor saved, and the app says what it has instead."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from start_tui.tui.app import StartApp
from start_tui.tui.settings import Settings
from tests.conftest import TEST_MODEL
from tests.tui.test_keys import until


def notices(app: StartApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_model_that_fails_to_load_is_not_saved_and_no_model_is_said_plainly(tmp_path: Path, monkeypatch):
    config = tmp_path / "config.toml"
    monkeypatch.setenv("START_TUI_CONFIG", str(config))
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=(100, 30)) as pilot:
        before = app.settings
        app.apply_settings(replace(before, model=str(tmp_path / "missing.gguf")))
        assert await until(lambda: not app._loading and any("missing.gguf" in m for m in notices(app)), 30)
        assert not config.exists() and app.settings == before
        app.editor.text = "What is 2 + 2?"
        await pilot.press("ctrl+r")
        assert await until(lambda: any("No model is loaded" in m for m in notices(app)))
        assert not any("still loading" in m for m in notices(app)) and app._current_run() is None


@pytest.mark.model
async def test_a_model_that_fails_to_load_leaves_the_one_in_use(tmp_path: Path, monkeypatch):
    config = tmp_path / "config.toml"
    monkeypatch.setenv("START_TUI_CONFIG", str(config))
    app = StartApp(Settings(model=TEST_MODEL, max_tokens=100))
    async with app.run_test(size=(100, 30)):
        assert await until(lambda: app.reasoner is not None and not app._loading, 120)
        backend, before = app.reasoner.backend, app.settings
        bad = tmp_path / "broken.gguf"
        bad.write_bytes(b"GGUF" + b"\0" * 64)
        app.apply_settings(replace(before, model=str(bad)))
        assert await until(lambda: not app._loading and any("broken.gguf" in m for m in notices(app)), 60)
        assert app.reasoner.backend is backend and app.settings == before and not config.exists()
        assert any("The model in use stays" in m for m in notices(app))
        assert app.facts.state == "ready"
        app.apply_settings(replace(before, max_tokens=60))  # a change that works is saved
        assert app.reasoner.config.max_tokens == 60 and "max_tokens = 60" in config.read_text()


async def test_a_folder_to_save_into_set_while_a_model_loads_is_kept_when_it_is_ready(tmp_path: Path, monkeypatch):
    """save_dir rebuilds nothing, so it is saved at once; the load that ends after it must not undo it."""
    from tests.scripted import ScriptedBackend

    config = tmp_path / "config.toml"
    monkeypatch.setenv("START_TUI_CONFIG", str(config))
    app = StartApp(Settings(profile="gemma3-base"), load_engine=False)
    async with app.run_test(size=(100, 30)):
        app._reload(replace(app.settings, max_tokens=77), backend=ScriptedBackend("Final answer: 1"), save=True)
        assert app._loading
        app.apply_settings(replace(app.settings, save_dir=str(tmp_path / "out")))
        assert app._loading and app.settings.save_dir == str(tmp_path / "out")
        assert await until(lambda: not app._loading and app.reasoner is not None, 60)
        assert app.settings.save_dir == str(tmp_path / "out") and app.settings.max_tokens == 77
        text = config.read_text()
        assert "max_tokens = 77" in text and str(tmp_path / "out") in text


def test_a_folder_to_save_into_never_keeps_a_model_from_loading(tmp_path: Path):
    from start_tui.tui.session import open_engine
    from tests.scripted import ScriptedBackend

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings = Settings(profile="gemma3-base", save_dir=str(blocker))
    reasoner, sandbox = open_engine(settings, ScriptedBackend())
    sandbox.close()
    assert reasoner is not None
