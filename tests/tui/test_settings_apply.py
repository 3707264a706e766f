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
