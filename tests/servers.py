"""A real llama.cpp OpenAI-compatible server (llama-cpp-python's) on a loopback port, for tests and benches."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaServer:
    """`python -m llama_cpp.server` serving a GGUF file; `url` is its `/v1` base."""

    def __init__(
        self,
        model: Path,
        api_key: str | None = None,
        n_ctx: int = 4096,
        log: Path | None = None,
        interrupt_requests: bool = False,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.model_path = model
        """The GGUF it serves: start-tui's --tokenizer for it (the server does not say which template it holds)."""
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--n_ctx", str(n_ctx), "--verbose", "False"]
        cmd += ["--n_threads", str(max(1, min(os.cpu_count() or 1, 8)))]
        # its default (True) ends a running stream when another request arrives
        cmd += ["--interrupt_requests", str(interrupt_requests)]
        if api_key:
            cmd += ["--api_key", api_key]
        self._log = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=self._log, start_new_session=True)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/models", headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("llama_cpp.server did not come up within 120 s")
            time.sleep(0.2)

    def kill(self) -> None:
        """Kill it at once (a server that dies mid-stream)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._log is not subprocess.DEVNULL:
            self._log.close()

    def __enter__(self) -> LlamaServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
