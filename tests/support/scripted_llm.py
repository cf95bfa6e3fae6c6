#!/usr/bin/env python3
"""A scripted OpenAI-compatible Chat Completions server for tests.

Usage:
    scripted_llm.py [--host 127.0.0.1] [--port 0] [--port-file F]
                    [--tls-cert CERT --tls-key KEY]

Prints `listening on PORT` on stdout and writes PORT to the port file once it
accepts connections. Configure clients with the base URL
`http://127.0.0.1:PORT/v1` (`https://` with --tls-cert).

Endpoints:
  POST /v1/chat/completions (also /chat/completions)
      `"stream": true` answers text/event-stream: `data: <chat.completion.chunk>`
      frames (a role delta, content deltas, incremental tool_calls deltas, a
      final chunk with finish_reason, a usage chunk when
      stream_options.include_usage), then `data: [DONE]`. Otherwise one
      chat.completion JSON object.
  GET /v1/models
      A one-model list, for health probes.
  POST /_script   {"responses": [step, ...]}  appends steps to the queues.
  GET /_requests  {"requests": [{purpose, body, authorization, started_at,
                  ended_at, client_closed}, ...]}
  POST /_reset    clears the queues and the request log.

Every completion request has a purpose: `title` when the first message is a
system message starting with "Write a short title", `compact` when it starts
with "Summarise the conversation", else `chat`. Each purpose has its own FIFO
queue of steps. A step (every field optional):
  purpose        chat | title | compact (default chat)
  text           the assistant text
  tool_calls     [{"id"?, "name", "arguments": object or JSON string}]
  chunk_size     characters per content / arguments delta (default 8)
  delay_ms       pause between chunks (default 0)
  hang_ms        pause before the first byte of the response (default 0)
  status         answer this HTTP error status instead, with the body
                 {"error": {"message": error}}
  error          that message (default "scripted error")
  retry_after    seconds, sent as a Retry-After header with `status`
  usage          {"prompt_tokens", "completion_tokens"}
  finish_reason  overrides stop / tool_calls
  ignore_stream  answer one chat.completion JSON object even when the request
                 asked for a stream (as some servers do)
  fail_after_chunks  (streaming only) after this many content deltas, end the
                 stream abnormally: with an in-stream {"error": {"message":
                 error}} frame when `error` is set, else by closing the
                 connection mid-body
When a purpose's queue is empty: chat answers `You said: <last user message>`
(`Tool result: <first 200 chars>` when the last message is a tool result),
title answers `Chat: <first 4 words of the first user message>`, compact
answers `Summary of N earlier messages.`

Python 3 standard library only.
"""

import argparse
import collections
import json
import os
import select
import socket
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PURPOSES = ("chat", "title", "compact")
TITLE_PREFIX = "Write a short title"
COMPACT_PREFIX = "Summarise the conversation"


class ClientClosed(Exception):
    """The client closed the connection before the response was complete."""


def message_text(message):
    """The text of a chat message whose content is a string or a list of parts."""
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content
                       if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def purpose_of(body):
    messages = body.get("messages") or []
    if messages and isinstance(messages[0], dict) and messages[0].get("role") == "system":
        text = message_text(messages[0])
        if text.startswith(TITLE_PREFIX):
            return "title"
        if text.startswith(COMPACT_PREFIX):
            return "compact"
    return "chat"


def default_step(purpose, body):
    messages = [m for m in (body.get("messages") or []) if isinstance(m, dict)]
    if purpose == "title":
        first_user = next((m for m in messages if m.get("role") == "user"), {})
        return {"text": "Chat: " + " ".join(message_text(first_user).split()[:4])}
    if purpose == "compact":
        earlier = len(messages) - 1 if messages else 0
        return {"text": "Summary of %d earlier messages." % earlier}
    if messages and messages[-1].get("role") == "tool":
        return {"text": "Tool result: " + message_text(messages[-1])[:200]}
    last_user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    return {"text": "You said: " + message_text(last_user)}


def split(text, size):
    size = max(1, int(size))
    return [text[i:i + size] for i in range(0, len(text), size)]


def estimate_tokens(text):
    return max(1, len(text) // 4) if text else 0


class State:
    """Step queues and the request log, shared by the handler threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.queues = {p: collections.deque() for p in PURPOSES}
        self.requests = []

    def reset(self):
        with self.lock:
            for queue in self.queues.values():
                queue.clear()
            self.requests.clear()

    def append_steps(self, steps):
        with self.lock:
            for step in steps:
                self.queues[step.get("purpose", "chat")].append(step)

    def next_step(self, purpose):
        with self.lock:
            queue = self.queues[purpose]
            return queue.popleft() if queue else None

    def log(self, entry):
        with self.lock:
            self.requests.append(entry)

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.requests))


def validate_steps(payload):
    """Returns the steps of a /_script body, or raises ValueError."""
    if not isinstance(payload, dict) or not isinstance(payload.get("responses"), list):
        raise ValueError('expected {"responses": [step, ...]}')
    for step in payload["responses"]:
        if not isinstance(step, dict):
            raise ValueError("each step must be an object")
        if step.get("purpose", "chat") not in PURPOSES:
            raise ValueError("purpose must be one of " + ", ".join(PURPOSES))
        for call in step.get("tool_calls") or []:
            if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                raise ValueError("each tool call needs a name")
    return payload["responses"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "scripted-llm/1"

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            sys.stderr.write("scripted_llm: " + (fmt % args) + "\n")

    # -- plumbing ----------------------------------------------------------

    def read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw.decode("utf-8") or "null")

    def send_json(self, status, value, extra_headers=()):
        data = json.dumps(value).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, val in extra_headers:
            self.send_header(name, val)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def client_gone(self):
        """True when the peer has closed its end (EOF or reset is readable)."""
        sock = self.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return False
            if isinstance(sock, ssl.SSLSocket):
                sock.settimeout(0.05)
                try:
                    return sock.recv(1) == b""
                except (socket.timeout, ssl.SSLWantReadError):
                    return False
                finally:
                    sock.settimeout(None)
            return sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def pause(self, ms):
        """Sleeps `ms`, waking at once when the client closes the connection."""
        deadline = time.monotonic() + ms / 1000.0
        while True:
            if self.client_gone():
                raise ClientClosed()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                select.select([self.connection], [], [], min(remaining, 0.5))
            except (OSError, ValueError):
                raise ClientClosed()

    def write_chunk(self, data):
        """One HTTP/1.1 chunk; a write error means the client went away."""
        if self.client_gone():
            raise ClientClosed()
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except (OSError, ValueError):
            raise ClientClosed()

    def write_event(self, value):
        text = value if isinstance(value, str) else json.dumps(value)
        self.write_chunk(("data: %s\n\n" % text).encode("utf-8"))

    # -- routes ------------------------------------------------------------

    def do_GET(self):
        if self.path == "/_requests":
            self.send_json(200, {"requests": self.server.state.snapshot()})
        elif self.path in ("/v1/models", "/models"):
            self.send_json(200, {"object": "list",
                                 "data": [{"id": "scripted", "object": "model"}]})
        else:
            self.send_json(404, {"error": {"message": "no route " + self.path}})

    def do_POST(self):
        try:
            body = self.read_json()
        except (ValueError, UnicodeDecodeError) as e:
            self.send_json(400, {"error": {"message": "invalid JSON: %s" % e}})
            return
        if self.path == "/_script":
            try:
                steps = validate_steps(body)
            except ValueError as e:
                self.send_json(400, {"error": {"message": str(e)}})
                return
            self.server.state.append_steps(steps)
            self.send_json(200, {"queued": len(steps)})
        elif self.path == "/_reset":
            self.server.state.reset()
            self.send_json(200, {"reset": True})
        elif self.path in ("/v1/chat/completions", "/chat/completions"):
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                self.send_json(400, {"error": {"message": "messages must be an array"}})
                return
            self.complete(body)
        else:
            self.send_json(404, {"error": {"message": "no route " + self.path}})

    # -- completions -------------------------------------------------------

    def complete(self, body):
        purpose = purpose_of(body)
        step = self.server.state.next_step(purpose) or default_step(purpose, body)
        entry = {
            "purpose": purpose,
            "body": body,
            "authorization": self.headers.get("Authorization"),
            "started_at": time.time(),
            "ended_at": None,
            "client_closed": False,
        }
        self.server.state.log(entry)
        try:
            if step.get("hang_ms"):
                self.pause(step["hang_ms"])
            if step.get("status"):
                self.answer_error(step)
            elif body.get("stream") and not step.get("ignore_stream"):
                self.answer_stream(step, body)
            else:
                self.answer_json(step, body)
        except ClientClosed:
            entry["client_closed"] = True
            self.close_connection = True
        finally:
            entry["ended_at"] = time.time()

    def answer_error(self, step):
        headers = []
        if step.get("retry_after") is not None:
            headers.append(("Retry-After", str(step["retry_after"])))
        message = step.get("error") or "scripted error"
        try:
            self.send_json(int(step["status"]), {"error": {"message": message}}, headers)
        except OSError:
            raise ClientClosed()

    def tool_calls_of(self, step):
        calls = []
        for i, call in enumerate(step.get("tool_calls") or []):
            arguments = call.get("arguments", {})
            if not isinstance(arguments, str):
                arguments = json.dumps(arguments)
            calls.append({"id": call.get("id") or "call_%s" % uuid.uuid4().hex[:12],
                          "name": call["name"], "arguments": arguments, "index": i})
        return calls

    def usage_of(self, step, body):
        usage = step.get("usage") or {}
        prompt = usage.get("prompt_tokens")
        if prompt is None:
            prompt = sum(estimate_tokens(message_text(m)) for m in body["messages"])
        completion = usage.get("completion_tokens")
        if completion is None:
            completion = estimate_tokens(step.get("text") or "")
        return {"prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion}

    def finish_reason_of(self, step):
        if step.get("finish_reason"):
            return step["finish_reason"]
        return "tool_calls" if step.get("tool_calls") else "stop"

    def answer_json(self, step, body):
        message = {"role": "assistant", "content": step.get("text") or ""}
        calls = self.tool_calls_of(step)
        if calls:
            message["tool_calls"] = [
                {"id": c["id"], "type": "function",
                 "function": {"name": c["name"], "arguments": c["arguments"]}}
                for c in calls]
        reply = {
            "id": "chatcmpl-" + uuid.uuid4().hex[:16],
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or "scripted",
            "choices": [{"index": 0, "message": message,
                         "finish_reason": self.finish_reason_of(step)}],
            "usage": self.usage_of(step, body),
        }
        try:
            self.send_json(200, reply)
        except OSError:
            raise ClientClosed()

    def answer_stream(self, step, body):
        completion_id = "chatcmpl-" + uuid.uuid4().hex[:16]
        created = int(time.time())
        model = body.get("model") or "scripted"
        chunk_size = step.get("chunk_size") or 8
        delay_ms = step.get("delay_ms") or 0
        fail_after = step.get("fail_after_chunks")

        def chunk(delta, finish_reason=None):
            return {"id": completion_id, "object": "chat.completion.chunk",
                    "created": created, "model": model,
                    "choices": [{"index": 0, "delta": delta,
                                 "finish_reason": finish_reason}]}

        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
        except OSError:
            raise ClientClosed()

        first = True

        def emit(value):
            nonlocal first
            if not first and delay_ms:
                self.pause(delay_ms)
            first = False
            self.write_event(value)

        emit(chunk({"role": "assistant", "content": ""}))
        sent = 0
        for piece in split(step.get("text") or "", chunk_size):
            if fail_after is not None and sent >= fail_after:
                break
            emit(chunk({"content": piece}))
            sent += 1
        if fail_after is not None:
            if step.get("error"):
                emit({"error": {"message": step["error"], "type": "server_error"}})
                self.write_chunk(b"")  # a clean end of body after the error frame
            # Else: no terminating chunk; the client sees the body cut short.
            self.close_connection = True
            return
        for call in self.tool_calls_of(step):
            emit(chunk({"tool_calls": [{
                "index": call["index"], "id": call["id"], "type": "function",
                "function": {"name": call["name"], "arguments": ""}}]}))
            for piece in split(call["arguments"], chunk_size):
                emit(chunk({"tool_calls": [{
                    "index": call["index"], "function": {"arguments": piece}}]}))
        emit(chunk({}, self.finish_reason_of(step)))
        if (body.get("stream_options") or {}).get("include_usage"):
            emit({"id": completion_id, "object": "chat.completion.chunk",
                  "created": created, "model": model, "choices": [],
                  "usage": self.usage_of(step, body)})
        emit("[DONE]")
        self.write_chunk(b"")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, tls_context, verbose):
        self.state = State()
        self.verbose = verbose
        self.tls_context = tls_context
        super().__init__(address, Handler)

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls_context is not None:
            # The handshake runs in the handler thread (on first read), so a
            # client that stalls or refuses the certificate blocks no one else.
            sock = self.tls_context.wrap_socket(sock, server_side=True,
                                                do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        # Refused handshakes and dropped connections are what TLS and
        # cancellation tests provoke; only other errors are worth a trace.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, ConnectionError, ClientClosed)) and not self.verbose:
            return
        super().handle_error(request, client_address)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")

    tls_context = None
    if args.tls_cert:
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)

    server = Server((args.host, args.port), tls_context, args.verbose)
    port = server.server_address[1]
    if args.port_file:
        # Written atomically so a poller never reads a partial number.
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("listening on %d" % port, flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
