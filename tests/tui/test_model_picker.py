"""The model picker: embedded models, recent files, a file browser, a server's models; a pick is a change
of settings (so a model that fails to load leaves the one in use: test_settings_apply)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from textual.widgets import OptionList

from start_tui.options import EngineOptions
from start_tui.tui.app import StartApp
from start_tui.tui.screens.models import ModelScreen
from start_tui.tui.settings import Settings, save_ui_state
from tests.tui.test_keys import until


class Picking(StartApp):
    """The app, with the settings a pick would apply recorded instead of loaded."""

    def __init__(self, settings: EngineOptions | None = None) -> None:
        super().__init__(settings or Settings(), load_engine=False)
        self.applied: list[EngineOptions] = []

    def apply_settings(self, settings: EngineOptions) -> None:
        self.applied.append(settings)


def shown(screen: ModelScreen) -> list[str]:
    options = screen.query_one("#models", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_embedded_and_recent_models_are_listed_searched_and_picked(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("START_TUI_CONFIG", str(tmp_path / "config.toml"))
    mine = tmp_path / "mine.gguf"
    mine.write_bytes(b"GGUF")
    save_ui_state(recent_models=[str(mine), str(tmp_path / "gone.gguf")])
    app = Picking(Settings(adapter="some-lora.gguf"))
    async with app.run_test(size=(140, 40)) as pilot:
        app.editor.focus()
        await pilot.press("f4")  # from the problem field too
        assert await until(lambda: isinstance(app.screen, ModelScreen))
        screen = app.screen
        assert isinstance(screen, ModelScreen)
        lines = shown(screen)
        assert lines[0] == "embedded models"
        assert any(line.startswith("● qwen2.5-coder-1.5b · ") for line in lines)  # the one in use
        assert any(line.startswith("  gemma3-270m · Gemma 3 270M") and "ready" in line for line in lines)
        assert "recent" in lines and any(str(mine) in line for line in lines)
        assert any("gone.gguf · missing" in line for line in lines)
        await pilot.press(*"gemma", "enter")  # the search leaves one model: Enter picks it
        assert await until(lambda: bool(app.applied))
        [picked] = app.applied
        assert (picked.backend, picked.model, picked.adapter) == ("llama", "gemma3-270m", None)

        app.conversation.focus()
        await pilot.press("m")  # on the main view; in the problem field it is a letter
        assert await until(lambda: isinstance(app.screen, ModelScreen))
        app.screen.query_one("#filter").value = str(tmp_path / "nothing-here.gguf")
        await pilot.press("enter")
        assert await until(lambda: any("neither a GGUF file" in n.message for n in app._notifications))
        assert isinstance(app.screen, ModelScreen) and len(app.applied) == 1
        app.screen.query_one("#filter").value = str(mine)
        await pilot.press("enter")
        assert await until(lambda: len(app.applied) == 2)
        assert (app.applied[1].backend, app.applied[1].model) == ("llama", str(mine))


async def test_a_configured_servers_models_are_offered():
    class Models(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"data": [{"id": "Qwen/QwQ-32B"}, {"id": "deepseek-r1-distill-qwen-7b"}]}).encode()
            self.send_response(200 if self.path == "/v1/models" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Models)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        app = Picking(Settings(backend="openai", base_url=url, model="Qwen/QwQ-32B"))
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.press("f4")
            assert await until(lambda: isinstance(app.screen, ModelScreen))
            screen = app.screen
            assert isinstance(screen, ModelScreen)
            assert await until(lambda: any("deepseek-r1-distill" in line for line in shown(screen)), 10)
            assert any(line == "● Qwen/QwQ-32B" for line in shown(screen))
            await pilot.press(*"distill", "enter")
            assert await until(lambda: bool(app.applied))
            assert (app.applied[0].backend, app.applied[0].model) == ("openai", "deepseek-r1-distill-qwen-7b")
    finally:
        server.shutdown()


def test_the_file_browser_shows_folders_and_gguf_files_only(tmp_path: Path):
    from start_tui.tui.screens.models import ModelTree, is_model_folder

    for name in ("a.gguf", "B.GGUF", "notes.txt", ".hidden.gguf"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "qwen").mkdir()
    (tmp_path / "qwen" / "config.json").write_text("{}")
    (tmp_path / "empty").mkdir()
    kept = ModelTree.filter_paths(object.__new__(ModelTree), sorted(tmp_path.iterdir()))  # no app needed
    assert [p.name for p in kept] == ["B.GGUF", "a.gguf", "empty", "qwen"]
    assert is_model_folder(tmp_path / "qwen") and not is_model_folder(tmp_path / "empty")
