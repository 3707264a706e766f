"""A served model for a sampling stage: started, waited for, and stopped by the stage itself.

Hint-infer and RFT at scale sample from a server (vLLM, SGLang, llama.cpp's). With `serve_command`
set in `[generate]` or `[rft]`, the stage starts one server per base URL, each in its own process
group with its output in `serve-N.log`, waits until `/v1/models` answers, samples, and stops the
servers in `finally`, also when the stage fails or is interrupted. Without it, the base URLs name
servers that are already running.

The command is a template run by `/bin/sh`, so environment assignments work: `{model}` (the model
to serve), `{port}` (from the base URL), `{index}` (0, 1, ...: e.g. `CUDA_VISIBLE_DEVICES={index}`)
and `{python}` (this interpreter), e.g. `{python} -m llama_cpp.server --model {model} --port {port}`
or `CUDA_VISIBLE_DEVICES={index} vllm serve {model} --port {port} --enable-prefix-caching`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx

from start_tui.backends.openai import api_url
from start_tui.errors import StartTuiError

_STOP_WAIT_S = 10.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:] if line.strip())


def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/models", timeout=2, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs (zombies, which hold no port, do not count)."""
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:  # no /proc: the kernel's word, zombies included
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in entries:
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group: the shell, the server and anything it started.

    The shell may end before the server it started has let go of its port, so this waits for
    the group to be empty, not for the shell alone (SIGKILL after a grace period).
    """
    pgid = proc.pid  # it leads its own session
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_WAIT_S
    while True:
        proc.poll()  # reap the shell
        if not _group_alive(pgid):
            break
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(0.05)
    proc.wait()


@contextlib.contextmanager
def served(
    serve_command: str | None,
    placeholders: dict[str, str],
    base_urls: list[str],
    folder: Path,
    timeout_s: float = 600.0,
) -> Iterator[list[str]]:
    """The base URLs to sample from, with their servers up while the block runs (see the module).

    `placeholders` fill the command's template besides `{port}`, `{index}` and `{python}` (`{model}`).
    """
    urls = [api_url(u) for u in base_urls]
    if serve_command is None:  # servers that run already (or none: a local backend)
        yield urls
        return
    if not urls:
        urls = [f"http://127.0.0.1:{_free_port()}/v1"]
    folder.mkdir(parents=True, exist_ok=True)
    procs: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    try:
        for index, url in enumerate(urls):
            port = urlparse(url).port or (443 if url.startswith("https") else 80)
            if _ready(url):
                raise StartTuiError(f"Something already answers at {url}; free port {port} or leave out serve_command.")
            try:
                command = serve_command.format(**placeholders, port=port, index=index, python=sys.executable)
            except (KeyError, IndexError, ValueError) as exc:
                names = ", ".join(f"{{{k}}}" for k in [*placeholders, "port", "index", "python"])
                raise StartTuiError(f"serve_command {serve_command!r} is not a template of {names} ({exc}).") from None
            log = folder / f"serve-{index}.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(  # its own process group: stopping it stops what it started
                    ["/bin/sh", "-c", command], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            procs.append((url, proc, log))
        deadline = time.monotonic() + timeout_s
        waiting = list(procs)
        while waiting:
            for url, proc, log in list(waiting):
                if proc.poll() is not None:
                    raise StartTuiError(
                        f"The model server for {url} exited ({proc.returncode}) before it answered: {_tail(log)} "
                        f"(all of it in {log})."
                    )
                if _ready(url):
                    waiting.remove((url, proc, log))
            if waiting and time.monotonic() > deadline:
                raise StartTuiError(
                    f"The model server for {waiting[0][0]} did not answer /v1/models within {timeout_s:g} s "
                    f"(serve_timeout_s); its log is {waiting[0][2]}."
                )
            time.sleep(0.25)
        yield urls
    finally:
        for _, proc, _ in procs:
            _stop(proc)


__all__ = ["served"]
