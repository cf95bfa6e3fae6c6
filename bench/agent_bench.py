#!/usr/bin/env python3
"""What the built-in agent adds around the model: real `baton serve`
(embedded SQLite, --executor openai) against the scripted model server in
tests/support, over loopback HTTP. Prints one table; nothing is asserted.

    bench/agent_bench.py BATON [--smoke] [--turns 50]

  turn overhead    POST /api/chat -> turn_complete received, with a model that
                   answers "ok" at once (so the figure is baton's own cost:
                   enqueue, claim, 2 snapshots, 5 events, finish, SSE)
  tool turn        the same with a read_file call in between (2 model calls)
  streaming        2,000 one-character deltas, 1 ms apart: how many
                   assistant_chunk events they became, and the time from the
                   POST to the first chunk on the stream
  interrupt        POST /api/interrupt during a slow stream -> the model
                   server sees its connection closed; and -> the
                   `interrupted` event on the client's stream

Standard library only; reuses the integration-test harness.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
import harness  # noqa: E402


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))]


def ms(seconds):
    return "%.1f" % (seconds * 1000.0)


def start(tmp, baton, model):
    argv = [baton, "serve", "--listen", "127.0.0.1:0", "--workers", "2", "--dev",
            "--db", "sqlite:" + os.path.join(tmp, "b.db"),
            "--workspace-root", os.path.join(tmp, "ws"),
            "--executor", "openai", "--llm-base-url", model.base_url, "--model", "bench",
            "--claim-poll-seconds", "0.05"]
    log = os.path.join(tmp, "serve.log")
    p = harness.BatonProcess("serve", argv, harness.child_env(), log)
    p.wait_listening()
    return p


def timed_turn(api, sid, text):
    t0 = time.monotonic()
    stream = api.chat_stream(sid, text, timeout=60)
    first_chunk = None
    while True:
        e = stream.next(60)
        if e.type == "assistant_chunk" and first_chunk is None:
            first_chunk = time.monotonic() - t0
        if e.type in harness.TERMINAL_EVENTS:
            stream.close()
            return time.monotonic() - t0, first_chunk, e


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("baton")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--turns", type=int, default=50)
    args = ap.parse_args()
    turns = 3 if args.smoke else args.turns
    tmp = tempfile.mkdtemp(prefix="baton-agent-bench-")
    model = harness.ScriptedModel(tmp)
    serve = None
    try:
        serve = start(tmp, os.path.realpath(args.baton), model)
        api = harness.Api(serve.port)
        rows = []

        sid = api.create_session(title="bench")
        timed_turn(api, sid, "warm up")
        plain = []
        for i in range(turns):
            model.script({"text": "ok"})
            plain.append(timed_turn(api, sid, "turn %d" % i)[0])
        rows.append(("turn overhead (model answers at once)", plain))

        sid = api.create_session(title="bench")
        tool = []
        for i in range(turns):
            model.script({"tool_calls": [{"name": "read_file", "arguments": {"path": "x.txt"}}]},
                         {"text": "done"})
            tool.append(timed_turn(api, sid, "tool %d" % i)[0])
        rows.append(("turn with one read_file call", tool))

        sid = api.create_session(title="bench")
        deltas = 200 if args.smoke else 2000
        model.script({"text": "x" * deltas, "chunk_size": 1, "delay_ms": 1})
        total, first, _ = timed_turn(api, sid, "stream")
        log = api.event_log(sid)
        chunk_events = sum(1 for e in log if e.type == "assistant_chunk")

        interrupts_model, interrupts_client = [], []
        for i in range(3 if args.smoke else 10):
            sid2 = api.create_session(title="bench")
            model.reset()
            model.script({"text": "word " * 400, "chunk_size": 5, "delay_ms": 20})
            stream = api.chat_stream(sid2, "long", timeout=60)
            while stream.next(30).type != "assistant_chunk":
                pass
            t0 = time.time()
            api.post("/api/interrupt/" + sid2)
            while stream.next(30).type != "interrupted":
                pass
            interrupts_client.append(time.time() - t0)
            stream.close()
            req = harness.wait_until(lambda: (lambda r: r and r[0]["ended_at"] and r[0])(
                model.requests("chat")), 10, 0.01, "the model request to end")
            interrupts_model.append(req["ended_at"] - t0)

        print("baton built-in agent, %d turns per row (ms)" % turns)
        print("| measure | p50 | p99 | max |")
        print("| --- | --- | --- | --- |")
        for name, values in rows:
            print("| %s | %s | %s | %s |" % (name, ms(pct(values, 50)), ms(pct(values, 99)),
                                            ms(max(values))))
        print("| interrupt -> model connection closed | %s | %s | %s |" % (
            ms(pct(interrupts_model, 50)), ms(pct(interrupts_model, 99)),
            ms(max(interrupts_model))))
        print("| interrupt -> `interrupted` on the stream | %s | %s | %s |" % (
            ms(pct(interrupts_client, 50)), ms(pct(interrupts_client, 99)),
            ms(max(interrupts_client))))
        print()
        print("streaming: %d deltas 1 ms apart became %d assistant_chunk events "
              "(%.1f deltas per event); POST -> first chunk %s ms; whole turn %s ms"
              % (deltas, chunk_events, deltas / max(1, chunk_events), ms(first), ms(total)))
    finally:
        if serve:
            serve.kill()
        model.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
