#!/usr/bin/env python3
"""latency_agent.py: a baton agent (baton.agent.v1) for the delivery benchmark.

For a user_input whose text is "bench events=N gap_ms=G", it emits N
`tool_log` events, one every G ms. Each event's data carries
`t_ns` = time.time_ns() (CLOCK_REALTIME) taken just before the line is written
to stdout, so a client on the same machine can compute emit -> receipt.
`tool_log` is used because baton appends it at once (assistant_chunk events
are coalesced for up to 30 ms, which would measure the coalescing window).
Then it saves the history and ends the turn (turn_complete + done).

Any other operation or text ends the turn at once. Standard library only.
"""

import json
import os
import sys
import time


def write_line(text):
    # One write(2) per line: nothing is buffered in Python.
    data = text.encode()
    while data:
        n = os.write(1, data)
        data = data[n:]


def send(obj):
    write_line(json.dumps(obj, separators=(",", ":")) + "\n")


def main():
    request = json.loads(sys.stdin.readline())
    operation = request["operation"]
    messages = list(request.get("messages", []))
    text = operation.get("payload", {}).get("text", "") if operation["type"] == "user_input" else ""
    params = {}
    for word in str(text).split()[1:]:
        key, _, value = word.partition("=")
        params[key] = value
    events = int(params.get("events", "0") or 0) if str(text).startswith("bench") else 0
    gap = float(params.get("gap_ms", "0") or 0) / 1000.0

    send({"event": "processing", "data": {"message": "bench"}})
    next_at = time.monotonic()
    for i in range(events):
        if gap:
            next_at += gap
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        t_ns = time.time_ns()
        write_line('{"event":"tool_log","data":{"tool":"bench","log":"tick","i":%d,"t_ns":%d}}\n'
                   % (i, t_ns))
    if operation["type"] == "user_input":
        messages.append({"role": "user", "content": text})
        messages.append({"role": "assistant", "content": "sent %d events" % events})
        send({"messages": messages})
    send({"event": "turn_complete",
          "data": {"history_size": len(messages), "final_response": "sent %d events" % events,
                   "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}})
    send({"done": "completed"})


if __name__ == "__main__":
    main()
