"""Errors stay long enough to read, copy says where the text went, the theme is kept, files are named."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from start_tui.tui import app as app_module
from start_tui.tui.app import StartApp
from start_tui.tui.screens.prompt import PromptScreen
from start_tui.tui.settings import Settings
from tests.tui.test_conversation import long_trace, settle
from tests.tui.test_keys import until


async def test_an_error_notice_stays_long_enough_to_read():
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=(100, 30)):
        app.notify("The model could not be loaded [broken.gguf].", severity="error")
        app.notify("Saved.")
        assert await until(lambda: len(app._notifications) == 2)
        error, info = list(app._notifications)
        assert error.timeout >= 15 and info.timeout < error.timeout
        assert error.message == "The model could not be loaded [broken.gguf]." and not error.markup


async def test_copy_says_whether_the_system_clipboard_or_the_terminal_took_it(monkeypatch):
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.conversation.show_trace(long_trace(1))
        await settle(pilot, app.conversation)
        monkeypatch.setattr(app_module, "system_copy", lambda text: None)
        app.action_copy_code()
        monkeypatch.setattr(app_module, "system_copy", lambda text: "the system clipboard (xclip)")
        app.action_copy_code()
        assert await until(lambda: len(app._notifications) == 2)
        said = [n.message for n in app._notifications]
        assert "terminal's clipboard (OSC 52" in said[0] and "the system clipboard (xclip)" in said[1]


async def test_the_chosen_theme_is_kept_for_the_next_launch(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("START_TUI_CONFIG", str(tmp_path / "config.toml"))
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.theme = "nord"
        await pilot.pause()
    assert await until(lambda: (tmp_path / "ui.json").exists())
    again = StartApp(Settings(), load_engine=False)
    async with again.run_test(size=(100, 30)):
        assert again.theme == "nord"


async def test_save_and_export_name_the_folder_they_write_to(tmp_path: Path, monkeypatch, sessions: Path):
    monkeypatch.chdir(tmp_path)
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await app._open_traces(Path(__file__).resolve().parents[1] / "data" / "sum-of-squares.jsonl")
        for key in ("s", "e"):
            app.conversation.focus()
            await pilot.press(key)
            assert await until(lambda: isinstance(app.screen, PromptScreen))
            assert Path(app.screen.value).parent == tmp_path  # the full path, shown before it is written
            await pilot.press("escape")
            assert await until(lambda: not isinstance(app.screen, PromptScreen))


async def test_save_and_export_write_into_the_folder_the_settings_name(tmp_path: Path, monkeypatch, sessions: Path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("START_TUI_CONFIG", str(tmp_path / "config.toml"))
    folder = tmp_path / "kept" / "runs"  # not there yet: the first save makes it
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await app._open_traces(Path(__file__).resolve().parents[1] / "data" / "sum-of-squares.jsonl")
        app.apply_settings(replace(app.settings, save_dir=str(folder)))
        assert app.settings.save_dir == str(folder) and str(folder) in (tmp_path / "config.toml").read_text()
        for key, suffix in (("s", ".jsonl"), ("e", ".md")):
            app.conversation.focus()
            await pilot.press(key)
            assert await until(lambda: isinstance(app.screen, PromptScreen))
            offered = Path(app.screen.value)
            assert offered.parent == folder and offered.suffix == suffix
            await pilot.press("enter")
            assert await until(lambda p=offered: p.exists())
            assert await until(lambda p=offered: any(str(p) in n.message for n in app._notifications))

        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder")
        app.apply_settings(replace(app.settings, save_dir=str(blocker)))
        assert app.settings.save_dir == str(folder)  # refused, the folder in use stays
        assert await until(lambda: any("is a file, not a folder" in n.message for n in app._notifications))
