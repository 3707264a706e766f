"""A served model behind an OpenAI-compatible `/v1/completions` endpoint (vLLM, SGLang, llama.cpp server).

Hint-infer continues raw text, so this uses text completions, not chat. Each continuation resends
the whole text; the server's prefix cache (vLLM's automatic prefix caching, llama.cpp's
`cache_prompt`) does the reuse. Connection errors and 5xx answers before any text arrived are
retried with exponential backoff; a 4xx answer is one clear error; a stream that breaks after text
arrived raises `BackendError`, and the engine keeps the trace up to there.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from start_tui.backends.base import BackendError, BackendStats, SamplingParams
from start_tui.errors import StartTuiError

DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"


def api_url(base_url: str) -> str:
    """`http://host:port`, `.../v1` or `.../v1/` -> `http(s)://host:port/.../v1`."""
    url = base_url.strip().rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise StartTuiError(f"{base_url!r} is not an http(s) URL (--base-url, e.g. http://127.0.0.1:8000/v1).")
    return url if url.endswith("/v1") else url + "/v1"


class OpenAIBackend:
    """Text completions from an OpenAI-compatible server."""

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api_key_env: str = DEFAULT_API_KEY_ENV,
        timeout_s: float = 600.0,
        connect_timeout_s: float = 10.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`transport` replaces the network (tests give an `httpx.MockTransport`)."""
        self.base_url = api_url(base_url)
        self.api_key_env = api_key_env
        key = os.environ.get(api_key_env, "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            trust_env=False,
            transport=transport,
        )
        self.stats = BackendStats()
        self.last_finish_reason = ""
        self._owns_client = True
        served = self.served_models()
        if model is None:
            if not served:
                raise StartTuiError(f"The server at {self.base_url} lists no models; name one with --model.")
            model = served[0]
        elif served and model not in served:
            raise StartTuiError(
                f"The server at {self.base_url} serves {', '.join(repr(m) for m in served)}, not {model!r} (--model)."
            )
        self.model = model
        self.name = model
        self._metadata = {"general.name": model, "start_tui.served_by": self.base_url}
        self._asked_server = False
        self._last_text = ""
        self._last_tokens = 0

    # -- HTTP ------------------------------------------------------------------------------
    def _where(self) -> str:
        return f"the server at {self.base_url}"

    def _refused(self, response: httpx.Response) -> StartTuiError:
        try:
            body = response.json()
            err = body.get("error", body.get("detail", body))
            detail = err.get("message", err) if isinstance(err, dict) else err
        except (ValueError, AttributeError):
            detail = response.text
        detail = " ".join(str(detail).split())[:300]
        code = response.status_code
        if code in (401, 403):
            return StartTuiError(
                f"{self._where()} refused the API key ({code}); set ${self.api_key_env} to a key it accepts."
            )
        if code == 404:
            return StartTuiError(f"{self._where()} answered 404 for {response.request.url.path} ({detail}).")
        return StartTuiError(f"{self._where()} refused the request ({code}: {detail}).")

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None, stream: bool = False) -> httpx.Response:
        """Send with retries on connection errors and 5xx; raise a clear error on 4xx."""
        url = self.base_url + path
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                request = self._client.build_request(method, url, json=body)
                response = self._client.send(request, stream=stream)
            except httpx.TimeoutException:
                last = "it did not answer in time"
                continue
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                last = f"cannot connect: {exc}" if str(exc) else "cannot connect"
                continue
            if response.status_code >= 500:
                response.read()
                last = f"it answered {response.status_code}"
                response.close()
                continue
            if response.status_code >= 400:
                response.read()
                response.close()
                raise self._refused(response)
            return response
        tries = f"{self.retries + 1} tries" if self.retries else "1 try"
        raise BackendError(f"{self._where()} is not reachable ({last}; {tries}); is it running?")

    def served_models(self) -> list[str]:
        response = self._send("GET", "/models")
        try:
            data = response.json().get("data", [])
            return [str(m["id"]) for m in data if isinstance(m, dict) and "id" in m]
        except (ValueError, AttributeError):
            raise StartTuiError(f"{self._where()} is not an OpenAI-compatible API (/v1/models is not JSON).") from None

    def _server_template(self) -> dict[str, str]:
        """The chat template the server reports (llama.cpp's server, at /props), or nothing: vLLM and SGLang
        keep theirs to themselves, and --tokenizer names it then."""
        try:
            response = self._client.get(self.base_url.removesuffix("/v1") + "/props", timeout=10)
            props = response.json() if response.status_code == 200 else {}
        except (httpx.HTTPError, ValueError):
            return {}
        template = props.get("chat_template") if isinstance(props, dict) else None
        if not isinstance(template, str) or not template.strip():
            return {}
        found = {"tokenizer.chat_template": template}
        if isinstance(props.get("eos_token"), str):
            found["start_tui.eos_token"] = props["eos_token"]
        return found

    # -- Backend ---------------------------------------------------------------------------
    def metadata(self) -> Mapping[str, str]:
        if not self._asked_server:  # asked once, when a prompt is first built
            self._asked_server = True
            self._metadata.update(self._server_template() or self._served_files())
        return self._metadata

    def _served_files(self) -> dict[str, str]:
        """The template of the files the server was started on, when --model names them here (vLLM serves a
        model folder under its path; llama.cpp's Python server a GGUF): what the user would name with
        --tokenizer. The BOS stays the server's own, which it puts before the prompt."""
        from start_tui.backends.template import BOS_KEY, read_template

        try:
            if not Path(self.model).expanduser().exists():
                return {}
            found = read_template(self.model)
        except (OSError, StartTuiError):  # not a tokenizer after all: the profile's choice asks for --tokenizer
            return {}
        return {k: v for k, v in found.items() if k != BOS_KEY}

    def stream(self, text: str, params: SamplingParams) -> Iterator[str]:
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": text,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p if params.temperature > 0 else 1.0,
            "seed": params.seed,
            "stream": True,
            "stream_options": {"include_usage": True},
            "cache_prompt": True,  # llama.cpp server; vLLM and SGLang cache prefixes on their own
        }
        if params.temperature > 0 and params.top_k > 0:
            body["top_k"] = params.top_k
        if params.repeat_penalty != 1.0:
            body["repeat_penalty"] = params.repeat_penalty
        response = self._send("POST", "/completions", body, stream=True)
        self.last_finish_reason = "stopped"
        got, produced, usage, finished = "", 0, None, False
        t0 = time.perf_counter()
        try:
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except json.JSONDecodeError:
                    continue
                if chunk.get("error"):
                    err = chunk["error"]
                    said = err.get("message", err) if isinstance(err, dict) else err
                    raise BackendError(f"{self._where()} failed mid-stream ({said}); the trace so far is kept.")
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    delta = choice.get("text") or ""
                    if delta:
                        produced += 1
                        self.stats.tokens_generated += 1
                        got += delta
                        self.stats.decode_seconds += time.perf_counter() - t0
                        yield delta
                        t0 = time.perf_counter()
                    if choice.get("finish_reason"):
                        finished = True
                        self.last_finish_reason = {"stop": "eos", "length": "length"}.get(
                            choice["finish_reason"], choice["finish_reason"]
                        )
            if not finished:
                raise BackendError(
                    f"{self._where()} ended the stream after {produced} tokens without a finish reason (another "
                    "request interrupted it? start llama-cpp-python's server with --interrupt_requests False); "
                    "the trace so far is kept."
                )
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise BackendError(
                f"{self._where()} closed the stream after {produced} tokens ({type(exc).__name__}); "
                "the trace so far is kept."
            ) from None
        finally:
            response.close()
            self._account(text, got, produced, usage)

    def _account(self, text: str, got: str, produced: int, usage: dict[str, Any] | None) -> None:
        if usage:
            completion = int(usage.get("completion_tokens") or produced)
            self.stats.tokens_generated += completion - produced  # chunks are not always one token each
            prompt = int(usage.get("prompt_tokens") or 0)
            cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
            self.stats.tokens_evaluated += prompt - cached + completion
            self._last_text, self._last_tokens = text + got, prompt + completion
        else:
            self.stats.tokens_evaluated += produced

    def count_tokens(self, text: str) -> int:
        """From the server's last usage report when it covers `text`, else its tokenizer, else an estimate."""
        if text == self._last_text and self._last_tokens:
            return self._last_tokens
        root = self.base_url.removesuffix("/v1")
        for path, body in (("/tokenize", {"model": self.model, "prompt": text}), ("/extras/tokenize", {"input": text})):
            try:
                response = self._client.post(root + path, json=body, timeout=10)
                if response.status_code == 200:
                    data = response.json()
                    if "count" in data:
                        return int(data["count"])
                    if "tokens" in data:
                        return len(data["tokens"])
            except (httpx.HTTPError, ValueError):
                break
        return max(1, len(text.encode()) // 4)

    def lane(self) -> OpenAIBackend:
        """Another backend on this one's connection pool, with its own counters (one parallel sample)."""
        other = copy.copy(self)
        other.stats = BackendStats()
        other.last_finish_reason = ""
        other._last_text, other._last_tokens = "", 0
        other._owns_client = False
        return other

    def batch(self, k: int) -> ServedLanes:
        """`k` lanes whose requests go out concurrently; a batching server (vLLM, SGLang) decodes them together."""
        return ServedLanes([self.lane() for _ in range(k)])

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


class ServedLanes:
    """Lanes of a served model: each sample's requests are its own; closing leaves the connection pool open."""

    def __init__(self, lanes: list[OpenAIBackend]) -> None:
        self.lanes: list[Any] = list(lanes)

    def close(self) -> None:
        """The pool belongs to the backend the lanes came from."""
