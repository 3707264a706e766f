"""Whether this llama-cpp-python build runs on this CPU, asked once per build before a model loads.

llama.cpp as vendored by llama-cpp-python 0.3.36, compiled with `-march=native` on a CPU that has
AMX, writes its tile configuration on the stack and GCC drops the stores into it
(ggml-org/llama.cpp#26954): the first matrix product then dies with SIGILL and takes the app, and
whatever the user had on screen, with it. A build with AMX kernels is therefore tried once in a
child process on the embedded model; a crash becomes one sentence with the reinstall command, and
the verdict is kept beside the build's identity so that later starts pay nothing.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from start_tui.errors import StartTuiError

NO_AMX_CMAKE_ARGS = "-DCMAKE_C_FLAGS=-U__AMX_INT8__ -DCMAKE_CXX_FLAGS=-U__AMX_INT8__"
"""Builds llama.cpp for this CPU without its AMX kernels (every other native feature stays)."""

REINSTALL = f'CMAKE_ARGS="{NO_AMX_CMAKE_ARGS}" pip install --force-reinstall --no-deps --no-cache-dir llama-cpp-python'

_PROBE = """
import llama_cpp
from start_tui.backends.embedded import probe_model_path
llm = llama_cpp.Llama(str(probe_model_path()), n_ctx=64, n_batch=64, n_threads=1, verbose=False)
llm.eval(llm.tokenize(b"Two plus two is four, and three plus three is", add_bos=True))
"""
"""Decodes a short prompt as one batch on an embedded model: the quantized matrix products that take the
AMX path."""


def state_dir() -> Path:
    """Where start-tui keeps what it worked out on this machine (XDG_CACHE_HOME, else ~/.cache)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "start-tui"


def check_cpu_build(*, probe: list[str] | None = None, system_info: str | None = None) -> None:
    """Refuse, in one sentence, a llama.cpp build whose AMX kernels crash on this CPU."""
    import llama_cpp

    info = system_info if system_info is not None else llama_cpp.llama_print_system_info().decode(errors="replace")
    if "AMX_INT8 = 1" not in info:
        return
    verdict = state_dir() / "cpu-build" / _build_id(Path(llama_cpp.__file__).parent)
    if not verdict.exists():
        found = _try(probe or [sys.executable, "-c", _PROBE])
        if found is None:
            return  # the probe could not run (no embedded model installed): asked again at the next load
        verdict.parent.mkdir(parents=True, exist_ok=True)
        verdict.write_text(found)
    if verdict.read_text() == "crashed":
        raise StartTuiError(
            "This llama-cpp-python was compiled with llama.cpp's AMX kernels, which crash on this CPU "
            f"(ggml-org/llama.cpp#26954); rebuild it without them: {REINSTALL}"
        )


def _try(command: list[str]) -> str | None:
    """'crashed' when the probe dies of SIGILL, 'ok' when it decodes, None when it fails otherwise (no model
    to try: no verdict is kept, and the real load reports what is wrong)."""
    try:
        done = subprocess.run(command, capture_output=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        return "ok"
    if done.returncode == -signal.SIGILL:
        return "crashed"
    return "ok" if done.returncode == 0 else None


def _build_id(package: Path) -> str:
    """Names one build of the library: its CPU backend's path, size and modification time."""
    libs = sorted(package.glob("lib/*ggml-cpu*")) or sorted(package.glob("lib/*"))
    parts = [f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in libs]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
