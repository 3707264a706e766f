"""The llama.cpp build check: a build whose AMX kernels crash is one sentence, asked once per build."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from start_tui.backends.cpu_build import REINSTALL, check_cpu_build
from start_tui.errors import StartTuiError

WITH_AMX = "CPU : AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | REPACK = 1 |"


def probe(marker: Path, *, crash: bool) -> list[str]:
    """A child that leaves a mark (so the test sees whether it ran), then dies of SIGILL or exits."""
    body = f"open({str(marker)!r}, 'a').write('x')"
    if crash:
        body += "; import os, signal; os.kill(os.getpid(), signal.SIGILL)"
    return [sys.executable, "-c", body]


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_a_build_without_amx_kernels_is_not_probed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    check_cpu_build(probe=probe(marker, crash=True), system_info="CPU : AVX2 = 1 | AMX_INT8 = 0 |")
    assert not marker.exists()


def test_amx_kernels_that_crash_are_one_sentence_with_the_rebuild_and_the_probe_runs_once(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    for _ in range(2):
        with pytest.raises(StartTuiError) as err:
            check_cpu_build(probe=probe(marker, crash=True), system_info=WITH_AMX)
        message = str(err.value)
        assert "crash on this CPU" in message and REINSTALL in message and "\n" not in message
    assert marker.read_text() == "x"  # the verdict is kept for this build


def test_amx_kernels_that_work_are_let_through_and_the_probe_runs_once(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    for _ in range(2):
        check_cpu_build(probe=probe(marker, crash=False), system_info=WITH_AMX)
    assert marker.read_text() == "x"


def test_a_probe_that_cannot_run_keeps_no_verdict(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    failing = [sys.executable, "-c", f"open({str(marker)!r}, 'a').write('x'); raise SystemExit(1)"]
    for _ in range(2):  # no embedded model to try it on: let through, and asked again next time
        check_cpu_build(probe=failing, system_info=WITH_AMX)
    assert marker.read_text() == "xx"
    with pytest.raises(StartTuiError, match="crash on this CPU"):
        check_cpu_build(probe=probe(tmp_path / "later", crash=True), system_info=WITH_AMX)


def test_the_installed_build_passes_the_check() -> None:
    check_cpu_build()  # the build CI made with the README's command decodes on this CPU
