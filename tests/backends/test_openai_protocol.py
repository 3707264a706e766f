"""The OpenAI-compatible backend against a scripted server (httpx.MockTransport): retries, refusals,
mid-stream failures, finish reasons and usage accounting, without a model."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from start_tui.backends import BackendError, SamplingParams
from start_tui.backends.openai import OpenAIBackend
from start_tui.engine import HintInserted, HintPolicy, Reasoner, RunConfig, select_profile
from start_tui.errors import StartTuiError

URL = "http://scripted:8000/v1"
MODELS = {"data": [{"id": "m1"}, {"id": "m2"}]}


def sse(*chunks: dict | str) -> bytes:
    lines = [f"data: {c if isinstance(c, str) else json.dumps(c)}\n\n" for c in chunks]
    return "".join(lines).encode()


def text(t: str, finish: str | None = None) -> dict:
    return {"choices": [{"text": t, "finish_reason": finish}]}


class Script:
    """Answers /models, /props (404 unless `props` are given, as vLLM does), 404 to anything else but
    /completions, and each /completions request with the next scripted reply."""

    def __init__(
        self,
        *completions: Callable[[httpx.Request], httpx.Response] | httpx.Response,
        props: dict | None = None,
        models: dict = MODELS,
    ) -> None:
        self.completions = list(completions)
        self.props = props
        self.models = models
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json=self.models)
        if request.url.path == "/props":
            return httpx.Response(200, json=self.props) if self.props is not None else httpx.Response(404)
        if not request.url.path.endswith("/completions"):
            return httpx.Response(404)  # /tokenize, which vLLM has and llama.cpp's server calls otherwise
        reply = self.completions.pop(0)
        return reply(request) if callable(reply) else reply


def backend(script: Script, **kw) -> OpenAIBackend:
    return OpenAIBackend(URL, transport=httpx.MockTransport(script), backoff_s=0, **kw)


def test_a_stream_is_text_deltas_with_the_finish_reason_and_the_body_asked_for():
    script = Script(httpx.Response(200, content=sse(text("1 + "), text("1 = 2", "stop"), "[DONE]")))
    b = backend(script)
    out = "".join(b.stream("Q: 1+1?", SamplingParams(max_tokens=7, temperature=0.6, top_p=0.9, seed=5)))
    assert out == "1 + 1 = 2" and b.last_finish_reason == "eos" and b.model == "m1"
    body = json.loads(script.requests[-1].content)
    assert body["prompt"] == "Q: 1+1?" and body["max_tokens"] == 7 and body["seed"] == 5 and body["stream"] is True
    assert (body["temperature"], body["top_p"], body["model"]) == (0.6, 0.9, "m1")


def test_length_is_reported_as_length():
    b = backend(Script(httpx.Response(200, content=sse(text("abc", "length")))))
    assert "".join(b.stream("x", SamplingParams(max_tokens=3))) == "abc" and b.last_finish_reason == "length"


def test_5xx_and_connection_errors_are_retried_then_the_stream_goes_through():
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    script = Script(httpx.Response(503), down, httpx.Response(200, content=sse(text("ok", "stop"))))
    b = backend(script, retries=3)
    assert "".join(b.stream("x", SamplingParams())) == "ok"
    assert sum(r.url.path.endswith("/completions") for r in script.requests) == 3


def test_a_server_that_stays_down_is_one_sentence_with_the_tries():
    b = backend(Script(*[httpx.Response(502)] * 3), retries=2)
    with pytest.raises(BackendError, match=r"is not reachable \(it answered 502; 3 tries\); is it running\?"):
        list(b.stream("x", SamplingParams()))


def test_a_refused_key_names_the_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MY_KEY", "secret")
    script = Script(httpx.Response(401, json={"error": {"message": "bad key"}}))
    b = backend(script, api_key_env="MY_KEY")
    with pytest.raises(StartTuiError, match=r"refused the API key \(401\); set \$MY_KEY"):
        list(b.stream("x", SamplingParams()))
    assert script.requests[-1].headers["authorization"] == "Bearer secret"


def test_an_unknown_model_is_refused_before_any_request():
    with pytest.raises(StartTuiError, match="serves 'm1', 'm2', not 'm3'"):
        backend(Script(), model="m3")


def test_an_error_chunk_mid_stream_keeps_what_came_before():
    script = Script(httpx.Response(200, content=sse(text("partial "), {"error": {"message": "out of memory"}})))
    b = backend(script)
    got: list[str] = []
    with pytest.raises(BackendError, match=r"failed mid-stream \(out of memory\); the trace so far is kept"):
        for delta in b.stream("x", SamplingParams()):
            got.append(delta)
    assert got == ["partial "]


def test_a_stream_cut_without_a_finish_reason_is_an_error_not_an_answer():
    b = backend(Script(httpx.Response(200, content=sse(text("The answer is 4")))))
    with pytest.raises(BackendError, match="without a finish reason"):
        list(b.stream("x", SamplingParams()))


def test_usage_counts_prompt_tokens_not_served_from_the_prefix_cache():
    usage = {"prompt_tokens": 100, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 90}}
    chunks = sse(text("a"), text("bc", "stop"), {"choices": [], "usage": usage}, "[DONE]")
    b = backend(Script(httpx.Response(200, content=chunks)))
    assert "".join(b.stream("P", SamplingParams())) == "abc"
    # two chunks arrived but the server counted five tokens; only 10 prompt tokens were evaluated anew
    assert b.stats.tokens_generated == 5 and b.stats.tokens_evaluated == 100 - 90 + 5
    assert b.count_tokens("Pabc") == 105  # from the usage report, no tokenizer call


def test_close_closes_the_http_client():
    b = backend(Script())
    b.close()
    assert b._client.is_closed


# --- a served model's family, and the before-stop hint where it ends its turn -------------------------


def test_the_template_a_llama_cpp_server_reports_chooses_the_profile_and_renders_the_prompt():
    from tests.families import TEMPLATES

    served = backend(Script(props={"chat_template": TEMPLATES["qwq-32b-preview"], "eos_token": "<|im_end|>"}))
    assert select_profile(served.metadata()).name == "qwq-preview"
    assert served.metadata()["tokenizer.chat_template"] == TEMPLATES["qwq-32b-preview"]
    unknown = backend(Script())  # vLLM and SGLang report none: the model's name cannot tell its family
    with pytest.raises(StartTuiError, match=r"the server at http://scripted:8000/v1 reports no chat template"):
        select_profile(unknown.metadata())


def test_a_tokenizer_named_by_hand_renders_a_served_models_prompt(tmp_path):
    from start_tui.backends import use_template
    from start_tui.backends.template import read_template
    from tests.families import TEMPLATES

    folder = tmp_path / "tok"
    folder.mkdir()
    bos = {"content": "<｜begin▁of▁sentence｜>"}
    config = {"chat_template": TEMPLATES["deepseek-r1-distill"], "bos_token": bos}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    served = backend(Script())
    use_template(served, read_template(folder))
    profile = select_profile(served.metadata())
    assert profile.name == "deepseek-r1"
    # the server puts its own BOS before the prompt: the rendered text has none
    assert profile.build_prompt("Find x.", served.metadata()).startswith("<｜User｜>Find x.")


def test_a_model_served_under_its_path_here_is_prompted_as_its_files_say(tmp_path):
    from tests.families import TEMPLATES

    folder = tmp_path / "QwQ-32B"  # `vllm serve /models/QwQ-32B` serves it under that path
    folder.mkdir()
    config = {"chat_template": TEMPLATES["qwq-32b"], "bos_token": None, "eos_token": "<|im_end|>"}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    served = backend(Script(models={"data": [{"id": str(folder)}]}), model=str(folder))
    assert select_profile(served.metadata()).name == "qwq"
    reported = backend(  # what the server reports comes first
        Script(props={"chat_template": TEMPLATES["qwen2.5-instruct"]}, models={"data": [{"id": str(folder)}]}),
        model=str(folder),
    )
    assert select_profile(reported.metadata()).name == "chat"
    (tmp_path / "junk").mkdir()  # a path that holds no tokenizer: asked for, as for a hub id
    junk = backend(Script(models={"data": [{"id": str(tmp_path / "junk")}]}), model=str(tmp_path / "junk"))
    with pytest.raises(StartTuiError, match="reports no chat template"):
        select_profile(junk.metadata())


def test_a_served_instruct_model_gets_the_before_stop_hint_where_its_turn_ends(sandbox):
    from tests.families import TEMPLATES

    script = Script(
        httpx.Response(200, content=sse(text("By hand, 907 * 811 = "), text("732077, so that is the LCM.", "stop"))),
        httpx.Response(200, content=sse(text("print(907 * 811)\n```", "stop"))),
        httpx.Response(200, content=sse(text("\nSo it is \\boxed{735577}.", "stop"))),
        props={"chat_template": TEMPLATES["qwen2.5-instruct"]},
    )
    served = backend(script)
    reasoner = Reasoner(served, sandbox, select_profile(served.metadata()), HintPolicy(), RunConfig(max_tokens=200))
    run = reasoner.start("What is the least common multiple of 907 and 811?")
    events = list(run.events())
    prompts = [json.loads(r.content)["prompt"] for r in script.requests if r.url.path.endswith("/completions")]
    assert len(prompts) == 3
    hint = next(e for e in events if isinstance(e, HintInserted))
    assert hint.trigger == "before_stop" and prompts[1].endswith(hint.text)  # the next request carries it
    # the turn ended with no answer line: the hint follows all it wrote, a paragraph on
    assert prompts[1].startswith(prompts[0] + "By hand, 907 * 811 = 732077, so that is the LCM.")
    assert run.trace.answer == "735577" and run.trace.stats["tool_calls"] == 1
