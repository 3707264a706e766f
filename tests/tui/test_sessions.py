"""The session list: every autosaved run, searchable, to open again or delete."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from textual.widgets import DataTable

from start_tui.tui.app import StartApp
from start_tui.tui.screens.sessions import SessionsScreen
from start_tui.tui.sessions import list_sessions
from tests.conftest import DATA
from tests.scripted import ScriptedBackend
from tests.tui.test_keys import until
from tests.tui.test_session import REPLIES, SETTINGS


def rows(screen: SessionsScreen) -> list[list[str]]:
    table = screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_sessions_are_listed_newest_first_searched_opened_and_deleted(sessions: Path):
    sessions.mkdir(parents=True)
    old = sessions / "20261201-090000-sum-of-squares.jsonl"
    shutil.copy(DATA / "sum-of-squares.jsonl", old)
    os.utime(old, (1_764_579_600, 1_764_579_600))
    (sessions / "20261202-090000-broken.jsonl").write_text("not json\n")
    app = StartApp(SETTINGS, load_engine=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app._reload(app.settings, backend=ScriptedBackend(*REPLIES))
        assert await until(lambda: app.reasoner is not None and not app._loading, 30)
        app.editor.text = "What is 1 + 4 + 9?"
        await pilot.press("ctrl+r")
        assert await until(lambda: app._current_run() is not None and app._current_run().finished, 30)
        assert await until(lambda: not app._driving)
        app.conversation.focus()

        await pilot.press("f3")
        assert await until(lambda: isinstance(app.screen, SessionsScreen) and app.screen.sessions != [], 10)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        listed = rows(screen)
        assert len(listed) == 3
        assert "What is 1 + 4 + 9?" in listed[0][1] and "(on screen)" in listed[0][1] and listed[0][3] == "14"
        assert "unreadable" in listed[1][1]  # listed, saying why, never hidden
        assert "sum of the squares" in listed[2][1] and listed[2][2] == "Gemma 3 270m" and listed[2][4] == "1"

        screen.query_one("#search").focus()
        await pilot.press(*"gemma")
        assert await until(lambda: len(rows(screen)) == 1)
        await pilot.press("enter", "enter")  # to the table, then open
        assert await until(lambda: not isinstance(app.screen, SessionsScreen))
        assert await until(lambda: app.session.session_file == old, 10)
        assert app.editor.text.startswith("What is the sum of the squares")

        await pilot.press("l")
        assert await until(lambda: isinstance(app.screen, SessionsScreen) and app.screen.sessions != [], 10)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        table = screen.query_one(DataTable)
        table.move_cursor(row=1)  # the unreadable file
        await pilot.press("delete")
        assert (sessions / "20261202-090000-broken.jsonl").exists()  # one press only arms it
        await pilot.press("delete")
        assert await until(lambda: not (sessions / "20261202-090000-broken.jsonl").exists())
        assert len(rows(screen)) == 2 and len(list_sessions(sessions)) == 2
        await pilot.press("escape")
        assert await until(lambda: not isinstance(app.screen, SessionsScreen))
        assert app.session.session_file == old  # Esc goes back to what was on screen
