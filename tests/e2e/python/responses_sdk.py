"""End to end: the official OpenAI Python SDK's Responses calls through the real switchyard binary
to OpenAI-, Anthropic- and Gemini-type mock upstreams, with strict response validation.

Run by tests/e2e/responses_sdk.rs (SWITCHYARD_BIN names the binary). Mock
upstreams speak each provider's documented wire format; their replies follow the shapes in
OpenAI's, Anthropic's and Google's API references. Exits non-zero with the failing checks.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import openai
import pydantic

CLIENT_KEY = "sk-client-py-1"
PROVIDER_KEY = "sk-provider-SECRET-py"

# ---------------------------------------------------------------- mock upstreams

REQUESTS = []  # (path, body) of every upstream request, in order


def sse(name, data):
    return f"event: {name}\ndata: {json.dumps(data)}\n\n" if name else f"data: {json.dumps(data)}\n\n"


def anthropic_reply(body):
    """An Anthropic Messages answer chosen by what the request asks for."""
    text = json.dumps(body)
    tools = body.get("tools") or []
    forced_json = any(t.get("name") == "switchyard_json_response" for t in tools)
    has_result = "tool_result" in text
    usage = {"input_tokens": 21, "output_tokens": 9, "cache_read_input_tokens": 4, "cache_creation_input_tokens": 0}
    content = []
    if body.get("thinking"):
        content.append({"type": "thinking", "thinking": "Let me think.", "signature": "sig"})
    stop = "end_turn"
    if forced_json:
        content.append({"type": "tool_use", "id": "toolu_json", "name": "switchyard_json_response", "input": {"city": "Paris", "temp_c": 21}})
        stop = "tool_use"
    elif tools and not has_result:
        content.append({"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}})
        stop = "tool_use"
    elif "LENGTH" in text:
        content.append({"type": "text", "text": "This answer was cut"})
        stop = "max_tokens"
    elif has_result:
        content.append({"type": "text", "text": "It is sunny in Paris."})
    else:
        content.append({"type": "text", "text": "Hello from Claude."})
    return {"id": "msg_01XYZ", "type": "message", "role": "assistant", "model": body["model"], "content": content,
            "stop_reason": stop, "stop_sequence": None, "usage": usage}


def anthropic_stream(msg):
    out = [sse("message_start", {"type": "message_start", "message": {**msg, "content": [], "stop_reason": None,
                                                                       "usage": {**msg["usage"], "output_tokens": 1}}})]
    for i, block in enumerate(msg["content"]):
        kind = block["type"]
        if kind == "text":
            out.append(sse("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}}))
            words = block["text"].split(" ")
            for j, w in enumerate(words):
                piece = w if j == 0 else " " + w
                out.append(sse("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": piece}}))
        elif kind == "thinking":
            out.append(sse("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}))
            out.append(sse("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "thinking_delta", "thinking": block["thinking"]}}))
            out.append(sse("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "signature_delta", "signature": "sig"}}))
        else:
            out.append(sse("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}}))
            args = json.dumps(block["input"])
            half = len(args) // 2
            for piece in (args[:half], args[half:]):
                out.append(sse("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "input_json_delta", "partial_json": piece}}))
        out.append(sse("content_block_stop", {"type": "content_block_stop", "index": i}))
    out.append(sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": None},
                                     "usage": {"output_tokens": msg["usage"]["output_tokens"]}}))
    out.append(sse("message_stop", {"type": "message_stop"}))
    return "".join(out)


def gemini_reply(body):
    text = json.dumps(body)
    if body.get("tools") and "functionResponse" not in text:
        parts = [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]
    else:
        parts = [{"text": "Hello from Gemini."}]
    finish = "MAX_TOKENS" if "LENGTH" in text else "STOP"
    return {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}],
            "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 5, "totalTokenCount": 16},
            "modelVersion": "gemini-2.5-flash", "responseId": "gem123"}


def openai_response(body):
    """A native Responses answer (OpenAI's documented object)."""
    return {
        "id": "resp_native1", "object": "response", "created_at": 1741476542, "status": "completed",
        "error": None, "incomplete_details": None, "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"), "model": body["model"],
        "output": [{"type": "message", "id": "msg_native1", "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text", "text": "Hello from OpenAI.", "annotations": []}]}],
        "parallel_tool_calls": True, "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None}, "store": False, "temperature": 1.0,
        "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": body.get("tools", []), "top_p": 1.0,
        "truncation": "disabled",
        "usage": {"input_tokens": 36, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                  "output_tokens": 87, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 123},
        "user": None, "metadata": {},
    }


def openai_response_stream(resp):
    created = {**resp, "status": "in_progress", "output": [], "usage": None}
    item = resp["output"][0]
    text = item["content"][0]["text"]
    ev = [("response.created", {"response": created}), ("response.in_progress", {"response": created}),
          ("response.output_item.added", {"output_index": 0, "item": {**item, "status": "in_progress", "content": []}}),
          ("response.content_part.added", {"item_id": item["id"], "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
          ("response.output_text.delta", {"item_id": item["id"], "output_index": 0, "content_index": 0, "delta": text, "logprobs": []}),
          ("response.output_text.done", {"item_id": item["id"], "output_index": 0, "content_index": 0, "text": text, "logprobs": []}),
          ("response.content_part.done", {"item_id": item["id"], "output_index": 0, "content_index": 0, "part": item["content"][0]}),
          ("response.output_item.done", {"output_index": 0, "item": item}),
          ("response.completed", {"response": resp})]
    return "".join(sse(n, {"type": n, **d, "sequence_number": i}) for i, (n, d) in enumerate(ev))


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        body = json.loads(raw) if raw else {}
        path = self.path
        REQUESTS.append((path, body, dict(self.headers)))
        if path.startswith("/down"):
            return self.send(503, {"error": {"message": "overloaded", "type": "server_error", "code": None, "param": None}})
        if path == "/v1/messages/count_tokens":
            return self.send(200, {"input_tokens": 42})
        if path == "/v1/messages":
            msg = anthropic_reply(body)
            if body.get("stream"):
                return self.send(200, anthropic_stream(msg), "text/event-stream")
            return self.send(200, msg)
        if path == "/v1/responses":
            resp = openai_response(body)
            if body.get("stream"):
                return self.send(200, openai_response_stream(resp), "text/event-stream")
            return self.send(200, resp)
        if ":generateContent" in path:
            return self.send(200, gemini_reply(body))
        if ":streamGenerateContent" in path:
            return self.send(200, sse(None, gemini_reply(body)), "text/event-stream")
        self.send(404, {"error": {"message": f"mock: no route {path}", "type": "invalid_request_error"}})


# ---------------------------------------------------------------- the gateway

def start_gateway(mock):
    """Starts the gateway on port 0; the ports it bound come from its ready file."""
    config = f"""version: 1
server: {{ listen: 127.0.0.1:0, admin_listen: 127.0.0.1:0 }}
auth:
  keys: [{{ id: py, key_env: PY_CLIENT_KEY }}]
providers:
  - {{ id: oa, type: openai, base_url: "{mock}/v1", api_key_env: PY_PROVIDER_KEY }}
  - {{ id: an, type: anthropic, base_url: "{mock}", api_key_env: PY_PROVIDER_KEY }}
  - {{ id: ge, type: gemini, base_url: "{mock}", api_key_env: PY_PROVIDER_KEY }}
  - {{ id: down, type: anthropic, base_url: "{mock}/down", api_key_env: PY_PROVIDER_KEY }}
models:
  - {{ id: gpt, provider: oa, model: gpt-5-up, max_output_tokens: 16384 }}
  - {{ id: claude, provider: an, model: claude-up, max_output_tokens: 64000 }}
  - {{ id: gem, provider: ge, model: gemini-2.5-flash, max_output_tokens: 8192 }}
  - {{ id: small, provider: an, model: claude-small, max_output_tokens: 100 }}
  - {{ id: small-strict, provider: an, model: claude-small, max_output_tokens: 100, strict_params: true }}
  - {{ id: broken, provider: down, model: claude-down }}
routes:
  - name: spare
    targets: [{{ model: broken }}, {{ model: claude }}]
"""
    d = tempfile.mkdtemp()
    path = os.path.join(d, "switchyard.yaml")
    with open(path, "w") as f:
        f.write(config)
    env = {**os.environ, "PY_CLIENT_KEY": CLIENT_KEY, "PY_PROVIDER_KEY": PROVIDER_KEY, "RUST_LOG": "warn"}
    log = open(os.path.join(d, "log"), "w+")
    ready = os.path.join(d, "ready.json")
    proc = subprocess.Popen([os.environ["SWITCHYARD_BIN"], "--config", path, "--ready-file", ready],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline and proc.poll() is None:
        try:
            with open(ready) as f:
                bound = json.load(f)
            urllib.request.urlopen(f"http://{bound['admin_listen']}/readyz", timeout=1)
            return proc, f"http://{bound['listen']}", log
        except (OSError, ValueError):
            time.sleep(0.05)
    log.seek(0)
    raise SystemExit(f"gateway did not start:\n{log.read()}")


# ---------------------------------------------------------------- checks

def client(base):
    return openai.OpenAI(base_url=f"{base}/v1", api_key=CLIENT_KEY, max_retries=0, _strict_response_validation=True)


def last(path_part):
    for path, body, headers in reversed(REQUESTS):
        if path_part in path:
            return body, headers
    raise AssertionError(f"no upstream request to {path_part}")


WEATHER = {"type": "function", "name": "get_weather", "description": "Current weather",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}

EXPECTED_TEXT_EVENTS = [
    "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
    "response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
    "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed",
]


def check_text_per_provider(c):
    for model, text, upstream in [("gpt", "Hello from OpenAI.", "/v1/responses"),
                                  ("claude", "Hello from Claude.", "/v1/messages"),
                                  ("gem", "Hello from Gemini.", ":generateContent")]:
        r = c.responses.create(model=model, instructions="Be brief.", input="Say hello", max_output_tokens=500)
        assert r.output_text == text, (model, r.output_text)
        assert r.status == "completed" and r.object == "response"
        assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0, r.usage
        assert r.usage.input_tokens_details.cache_write_tokens == 0
        body, headers = last(upstream)
        assert PROVIDER_KEY in json.dumps(headers), "provider key sent upstream"
        if model == "claude":
            assert body["system"][0]["text"] == "Be brief." and body["max_tokens"] == 500, body
            assert r.usage.input_tokens == 25 and r.usage.input_tokens_details.cached_tokens == 4, r.usage
            assert r.usage.input_tokens_details.cache_write_tokens == 0
        if model == "gem":
            assert body["systemInstruction"]["parts"][0]["text"] == "Be brief.", body
        if model == "gpt":
            assert body["model"] == "gpt-5-up" and body["instructions"] == "Be brief.", body


def check_native_passthrough(c):
    tools = [{"type": "web_search"}, WEATHER]
    raw = c.responses.with_raw_response.create(model="gpt", input="hi", tools=tools, store=False,
                                               include=["reasoning.encrypted_content"], prompt_cache_key="k1")
    body, _ = last("/v1/responses")
    assert body["tools"][0] == {"type": "web_search"} and body["include"] == ["reasoning.encrypted_content"], body
    assert body["prompt_cache_key"] == "k1" and body["model"] == "gpt-5-up"
    assert raw.headers["x-switchyard-provider"] == "oa"
    assert raw.parse().id == "resp_native1"
    with c.responses.stream(model="gpt", input="hi") as s:
        names = [e.type for e in s]
        final = s.get_final_response()
    assert names[0] == "response.created" and names[-1] == "response.completed", names
    assert final.output_text == "Hello from OpenAI."


def check_multi_turn(c):
    r1 = c.responses.create(model="claude", input="What is the weather in Paris?", tools=[WEATHER])
    call = [o for o in r1.output if o.type == "function_call"][0]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}, call
    assert call.call_id == "toolu_01" and r1.status == "completed"
    history = [{"role": "user", "content": "What is the weather in Paris?"}]
    history += [o.model_dump(exclude_none=True) for o in r1.output]
    history.append({"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21C"})
    history.append({"type": "reasoning", "id": "rs_x", "summary": [{"type": "summary_text", "text": "earlier"}]})
    r2 = c.responses.create(model="claude", input=history, tools=[WEATHER])
    assert r2.output_text == "It is sunny in Paris.", r2.output_text
    body, _ = last("/v1/messages")
    assistant = body["messages"][1]
    assert assistant["role"] == "assistant" and assistant["content"][-1]["type"] == "tool_use", body["messages"]
    result = body["messages"][2]["content"][0]
    assert result["type"] == "tool_result" and result["tool_use_id"] == "toolu_01", body["messages"]
    # The same round trip to Gemini.
    g1 = c.responses.create(model="gem", input="weather?", tools=[WEATHER])
    gcall = [o for o in g1.output if o.type == "function_call"][0]
    assert gcall.name == "get_weather"
    g2 = c.responses.create(model="gem", tools=[WEATHER], input=[
        {"role": "user", "content": "weather?"}, gcall.model_dump(exclude_none=True),
        {"type": "function_call_output", "call_id": gcall.call_id, "output": "sunny"}])
    assert g2.output_text == "Hello from Gemini."
    gbody, _ = last(":generateContent")
    assert "functionResponse" in json.dumps(gbody), gbody


def check_stream_sequence(c):
    with c.responses.stream(model="claude", input="Say hello") as s:
        events = list(s)
        final = s.get_final_response()
    names = [e.type for e in events]
    assert names == EXPECTED_TEXT_EVENTS, names
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert final.output_text == "Hello from Claude." and final.usage.output_tokens == 9, final


def check_stream_function_args(c):
    for model in ["claude", "gem"]:
        with c.responses.stream(model=model, input="weather in Paris?", tools=[WEATHER]) as s:
            events = list(s)
            final = s.get_final_response()
        deltas = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
        done = [e for e in events if e.type == "response.function_call_arguments.done"][0]
        assert json.loads(deltas) == {"city": "Paris"} and done.arguments == deltas, (model, deltas)
        call = [o for o in final.output if o.type == "function_call"][0]
        assert call.arguments == deltas and call.name == "get_weather"
        if model == "claude":
            assert [e.delta for e in events if e.type == "response.function_call_arguments.delta"].__len__() == 2


class Weather(pydantic.BaseModel):
    city: str
    temp_c: int


def check_json_schema(c):
    r = c.responses.parse(model="claude", input="weather as JSON", text_format=Weather)
    assert r.output_parsed == Weather(city="Paris", temp_c=21), r.output_text
    body, _ = last("/v1/messages")
    assert body["tool_choice"]["name"] == "switchyard_json_response", body
    assert body["tools"][0]["input_schema"]["properties"]["temp_c"]["type"] == "integer"


def check_reasoning(c):
    r = c.responses.create(model="claude", input="think", reasoning={"effort": "high", "summary": "auto"}, max_output_tokens=60000)
    body, _ = last("/v1/messages")
    assert body["thinking"]["type"] == "enabled" and body["thinking"]["budget_tokens"] > 0, body
    assert r.output[0].type == "reasoning" and r.output[0].summary[0].text == "Let me think.", r.output
    assert r.reasoning.effort == "high"
    with c.responses.stream(model="claude", input="think", reasoning={"effort": "low"}, max_output_tokens=8000) as s:
        names = [e.type for e in s]
    assert "response.reasoning_summary_text.delta" in names and names.index("response.reasoning_summary_text.delta") < names.index("response.output_text.delta"), names
    c.responses.create(model="gem", input="think", reasoning={"effort": "low"})
    gbody, _ = last(":generateContent")
    assert gbody["generationConfig"]["thinkingConfig"]["thinkingBudget"] > 0, gbody


def check_incomplete(c):
    for model in ["claude", "gem"]:
        r = c.responses.create(model=model, input="LENGTH please", max_output_tokens=5)
        assert r.status == "incomplete" and r.incomplete_details.reason == "max_output_tokens", (model, r)
    with c.responses.stream(model="claude", input="LENGTH please", max_output_tokens=5) as s:
        names = [e.type for e in s]
    assert names[-1] == "response.incomplete", names


def check_failover(c):
    raw = c.responses.with_raw_response.create(model="spare", input="Say hello")
    assert raw.headers["x-switchyard-model"] == "claude" and raw.headers["x-switchyard-attempts"] == "2", raw.headers
    assert raw.parse().output_text == "Hello from Claude."
    with c.responses.stream(model="spare", input="Say hello") as s:
        assert [e.type for e in s] == EXPECTED_TEXT_EVENTS


def check_errors(c, base):
    for kwargs, param in [({"store": True}, "store"), ({"previous_response_id": "resp_1"}, "previous_response_id")]:
        try:
            c.responses.create(model="claude", input="hi", **kwargs)
            raise AssertionError(f"{param} accepted")
        except openai.BadRequestError as e:
            assert e.param == param and "stateless" in e.message, e.body
    try:
        c.responses.create(model="no-such-model", input="hi")
        raise AssertionError("unknown model accepted")
    except openai.NotFoundError as e:
        assert e.code == "model_not_found", e.body
    try:
        openai.OpenAI(base_url=f"{base}/v1", api_key="wrong", max_retries=0).responses.create(model="claude", input="hi")
        raise AssertionError("bad key accepted")
    except openai.AuthenticationError as e:
        assert e.status_code == 401
    try:
        c.responses.create(model="claude", input="hi", tools=[{"type": "web_search"}], extra_body={"truncation": "auto"}, extra_headers={})
        # Lenient: dropped and named.
    except openai.BadRequestError as e:
        raise AssertionError(f"built-in tool refused without strict_params: {e}")
    raw = c.responses.with_raw_response.create(model="claude", input="hi", tools=[{"type": "web_search"}])
    assert raw.headers["x-switchyard-dropped-params"] == "tools[0]", raw.headers
    try:
        c.responses.create(model="small-strict", input="hi", tools=[{"type": "web_search"}])
        raise AssertionError("strict accepted a built-in tool")
    except openai.BadRequestError as e:
        assert e.param == "tools[0]", e.body


def check_count_tokens(base):
    h = {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01"}
    body = {"messages": [{"role": "user", "content": "Count the tokens in this sentence please."}], "system": "You are terse."}
    for model, expect in [("claude", 42), ("gpt", None), ("gem", None)]:
        r = httpx.post(f"{base}/v1/messages/count_tokens", json={**body, "model": model}, headers=h)
        assert r.status_code == 200, r.text
        n = r.json()["input_tokens"]
        assert list(r.json()) == ["input_tokens"]
        assert (n == expect) if expect else (5 < n < 60), (model, n)
    upstream, _ = last("/v1/messages/count_tokens")
    assert upstream["model"] == "claude-up" and "max_tokens" not in upstream, upstream
    r = httpx.post(f"{base}/v1/messages/count_tokens", json={"model": "claude"}, headers=h)
    assert r.status_code == 400 and r.json()["type"] == "error", r.text


def check_clamp(base):
    h = {"authorization": f"Bearer {CLIENT_KEY}"}
    r = httpx.post(f"{base}/v1/chat/completions", headers=h, json={"model": "small", "max_tokens": 128000, "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200, r.text
    assert "max_tokens" in r.headers["x-switchyard-dropped-params"], r.headers
    body, _ = last("/v1/messages")
    assert body["max_tokens"] == 100, body
    r = httpx.post(f"{base}/v1/messages", headers={"x-api-key": CLIENT_KEY}, json={"model": "small", "max_tokens": 64000, "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200 and last("/v1/messages")[0]["max_tokens"] == 100
    r = httpx.post(f"{base}/v1/chat/completions", headers=h, json={"model": "small-strict", "max_tokens": 128000, "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 400 and r.json()["error"]["param"] == "max_tokens", r.text
    c = client(base)
    raw = c.responses.with_raw_response.create(model="small", input="hi", max_output_tokens=5000)
    assert raw.headers["x-switchyard-dropped-params"] == "max_output_tokens", raw.headers
    assert last("/v1/messages")[0]["max_tokens"] == 100


def check_root(base):
    assert httpx.head(f"{base}/").status_code == 200
    assert httpx.get(f"{base}/").status_code == 200


def main():
    mock = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=mock.serve_forever, daemon=True).start()
    proc, base, log = start_gateway(f"http://127.0.0.1:{mock.server_address[1]}")
    c = client(base)
    checks = [
        ("text per provider", lambda: check_text_per_provider(c)),
        ("native passthrough", lambda: check_native_passthrough(c)),
        ("multi-turn and function round trip", lambda: check_multi_turn(c)),
        ("stream event sequence", lambda: check_stream_sequence(c)),
        ("streamed function arguments", lambda: check_stream_function_args(c)),
        ("json schema output", lambda: check_json_schema(c)),
        ("reasoning effort", lambda: check_reasoning(c)),
        ("incomplete", lambda: check_incomplete(c)),
        ("failover", lambda: check_failover(c)),
        ("errors", lambda: check_errors(c, base)),
        ("count_tokens", lambda: check_count_tokens(base)),
        ("output clamp", lambda: check_clamp(base)),
        ("HEAD and GET /", lambda: check_root(base)),
    ]
    failed = []
    try:
        for name, check in checks:
            try:
                check()
                print(f"ok   {name}")
            except Exception:
                failed.append(name)
                print(f"FAIL {name}\n{traceback.format_exc()}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    log.seek(0)
    logs = log.read()
    if PROVIDER_KEY in logs:
        failed.append("provider key in the gateway's log")
    if failed:
        print("gateway log (tail):\n" + logs[-4000:])
        print(f"{len(failed)} failed: {failed}")
        sys.exit(1)
    print(f"all {len(checks)} checks passed (openai {openai.__version__})")


if __name__ == "__main__":
    main()
