"""The settings screen: grouped as the command-line help groups them, searchable as you type."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Input, Static

from start_tui.options import EngineOptions
from start_tui.tui.screens.settings import SettingRow, SettingsScreen
from tests.tui.test_keys import until


class Probe(App[None]):
    async def on_mount(self) -> None:
        await self.push_screen(SettingsScreen(EngineOptions(temperature=0.3)))


def shown(screen: SettingsScreen) -> tuple[list[str], list[str]]:
    rows = [r.query_one(Input if r.query(Input) else "Switch").id or "" for r in screen.query(SettingRow) if r.display]
    groups = [g.id or "" for g in screen.query(".group").results(Static) if g.display]
    return [r.removeprefix("set-") for r in rows], [g.removeprefix("group-") for g in groups]


async def opened(app: Probe) -> SettingsScreen:
    assert await until(lambda: isinstance(app.screen, SettingsScreen))
    screen = app.screen
    assert isinstance(screen, SettingsScreen)
    return screen


async def test_typing_in_the_settings_keeps_the_matching_rows_and_their_groups():
    app = Probe()
    async with app.run_test(size=(110, 40)) as pilot:
        screen = await opened(app)
        every, groups = shown(screen)
        assert len(every) > 20 and groups == ["model", "generation", "hints", "sandbox", "files"]

        await pilot.press(*"temper")  # the search field has the focus when the screen opens
        assert await until(lambda: "temperature" in shown(screen)[0])
        assert len(shown(screen)[0]) < 4 and shown(screen)[1] == ["generation"]
        assert all("temper" in r.words for r in screen.query(SettingRow) if r.display)

        screen.query_one("#settings-search", Input).value = "code seconds"  # words of the help, in any order
        assert await until(lambda: shown(screen)[0] == ["timeout_s"])

        screen.query_one("#settings-search", Input).value = "folder"
        assert await until(lambda: "save_dir" in shown(screen)[0])

        screen.query_one("#settings-search", Input).value = "no such setting"
        assert await until(lambda: shown(screen) == ([], []))

        screen.query_one("#settings-search", Input).value = ""
        assert await until(lambda: shown(screen)[0] == every)
        assert screen.values()["temperature"] == 0.3  # hidden rows still hold their values


async def test_a_value_that_does_not_parse_is_named_with_every_row_shown():
    app = Probe()
    async with app.run_test(size=(110, 40)) as pilot:
        screen = await opened(app)
        every = shown(screen)[0]
        screen.query_one("#set-max_tokens", Input).value = "many"
        screen.query_one("#settings-search", Input).value = "temperature"  # max_tokens is hidden now
        assert await until(lambda: "max_tokens" not in shown(screen)[0])
        await pilot.click("#save")
        assert await until(lambda: shown(screen)[0] == every)  # the row the error names is in view again
        assert isinstance(app.screen, SettingsScreen)
        assert any("max_tokens" in n.message for n in app._notifications)
