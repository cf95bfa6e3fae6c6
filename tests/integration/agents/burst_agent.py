#!/usr/bin/env python3
"""A baton.agent.v1 agent for the tests: one turn of BURST_EVENTS
assistant_chunk events (default 1000), written as fast as the pipe takes
them, then turn_complete. Each chunk carries an `index` besides its content,
so the worker keeps them as separate events (it merges plain text chunks).
Standard library only."""

import json
import os
import sys


def main():
    request = json.loads(sys.stdin.readline())
    count = int(os.environ.get("BURST_EVENTS", "1000"))
    out = sys.stdout
    out.write(json.dumps({"event": "processing", "data": {"message": "bursting"}}) + "\n")
    for i in range(count):
        out.write(json.dumps({"event": "assistant_chunk", "data": {"content": "%d " % i, "index": i}}) + "\n")
    text = request["operation"]["payload"].get("text", "")
    messages = list(request.get("messages", [])) + [
        {"role": "user", "content": text},
        {"role": "assistant", "content": "burst of %d" % count}]
    out.write(json.dumps({"messages": messages}) + "\n")
    out.write(json.dumps({"event": "turn_complete", "data": {
        "history_size": len(messages), "final_response": "burst of %d" % count,
        "usage": {}}}) + "\n")
    out.write(json.dumps({"done": "completed"}) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
