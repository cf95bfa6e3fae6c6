#!/usr/bin/env python3
"""echo_agent.py: a complete baton agent that echoes instead of thinking.

It speaks the baton.agent.v1 JSON-lines protocol (docs/agent-protocol.md) and
uses only the Python standard library:

    baton serve --executor command --agent-command "python3 examples/echo_agent.py"

One process handles one run: it reads the request line from stdin, writes
event / messages / pending_approvals lines to stdout and ends with a done line.

Operations:
  user_input     "Echo: <text>", streamed as a few assistant_chunk events.
                 Text starting with "/approve " proposes a `shell` tool call
                 (arguments {"command": <rest>}) and waits for approval.
  exec_approval  reports each pending tool call as approved (output
                 "executed (simulated): ...") or rejected, then ends the turn.
  undo           drops the last user message and everything after it.
  compact        replaces all but the last two messages with one summary.
  truncate       keeps the messages before user message `user_message_index`.
  shutdown       says goodbye.

Environment: ECHO_AGENT_DELAY_MS (default 0) sleeps before every
assistant_chunk, so tests can make slow turns.
"""

import json
import os
import sys
import time
import traceback
import uuid

PROTOCOL = "baton.agent.v1"
DELAY_SECONDS = int(os.environ.get("ECHO_AGENT_DELAY_MS", "0") or "0") / 1000.0
APPROVE_PREFIX = "/approve "


def send(obj):
    # One object per line, flushed at once: baton reads stdout as it comes.
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def event(event_type, **data):
    send({"event": event_type, "data": data})


def done(status, error=None):
    line = {"done": status}
    if error is not None:
        line["error"] = error
    send(line)


def fail(code, message):
    event("error", error=message, code=code)
    done("failed", {"code": code, "message": message})


def estimate_tokens(messages):
    return len(json.dumps(messages)) // 4


def chunks_of(text, count=4):
    size = max(1, -(-len(text) // count))  # ceiling division
    return [text[i:i + size] for i in range(0, len(text), size)]


def usage_for(prompt, reply):
    prompt_tokens = max(1, len(prompt) // 4)
    completion_tokens = max(1, len(reply) // 4)
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def finish_turn(messages, reply, prompt):
    send({"messages": messages})
    event("turn_complete", history_size=len(messages), final_response=reply,
          usage=usage_for(prompt, reply))
    done("completed")


def user_input(request, messages):
    text = request["operation"]["payload"].get("text")
    if not isinstance(text, str):
        return fail("invalid_input", "user_input needs a string 'text'")
    event("processing", message="Processing...")
    messages.append({"role": "user", "content": text})

    if text.startswith(APPROVE_PREFIX):
        call_id = "call_" + uuid.uuid4().hex[:12]
        arguments = {"command": text[len(APPROVE_PREFIX):]}
        messages.append({
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": call_id, "type": "function",
                            "function": {"name": "shell",
                                         "arguments": json.dumps(arguments)}}],
        })
        proposal = {"tool": "shell", "tool_call_id": call_id, "arguments": arguments}
        send({"messages": messages})
        send({"pending_approvals": [proposal]})
        event("approval_required", tools=[proposal], count=1)
        return done("waiting_approval")

    reply = "Echo: " + text
    for chunk in chunks_of(reply):
        if DELAY_SECONDS:
            time.sleep(DELAY_SECONDS)
        event("assistant_chunk", content=chunk)
    event("assistant_stream_end")
    event("assistant_message", content=reply)
    messages.append({"role": "assistant", "content": reply})
    finish_turn(messages, reply, text)


def exec_approval(request, messages):
    pending = request["pending_approvals"]
    if not pending:
        return fail("conflict", "no tool calls are pending approval")
    decisions = {}
    for decision in request["operation"]["payload"].get("approvals", []):
        if isinstance(decision, dict) and "tool_call_id" in decision:
            decisions[decision["tool_call_id"]] = decision

    event("processing", message="Running approved tools...")
    ran = rejected = 0
    for call in pending:
        tool, call_id = call["tool"], call["tool_call_id"]
        decision = decisions.get(call_id, {})
        arguments = decision.get("edited_arguments") or call.get("arguments", {})
        if decision.get("approved") is True:
            event("tool_state_change", tool=tool, tool_call_id=call_id, state="approved")
            event("tool_state_change", tool=tool, tool_call_id=call_id, state="running")
            output = "executed (simulated): " + str(arguments.get("command", ""))
            event("tool_output", tool=tool, tool_call_id=call_id, output=output, success=True)
            event("tool_state_change", tool=tool, tool_call_id=call_id, state="completed")
            ran += 1
        else:
            event("tool_state_change", tool=tool, tool_call_id=call_id, state="rejected")
            output = "rejected by the user"
            if decision.get("feedback"):
                output += ": " + str(decision["feedback"])
            event("tool_output", tool=tool, tool_call_id=call_id, output=output, success=False)
            rejected += 1
        messages.append({"role": "tool", "tool_call_id": call_id, "content": output})

    send({"pending_approvals": []})
    reply = "Ran %d tool call(s), %d rejected." % (ran, rejected)
    event("assistant_message", content=reply)
    messages.append({"role": "assistant", "content": reply})
    finish_turn(messages, reply, "")


def undo(request, messages):
    user_positions = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    if user_positions:
        del messages[user_positions[-1]:]
        send({"messages": messages})
    event("undo_complete")
    done("completed")


def compact(request, messages):
    old_tokens = estimate_tokens(messages)
    if len(messages) > 2:
        earlier, recent = messages[:-2], messages[-2:]
        summary = " | ".join(str(m.get("content") or "")[:40] for m in earlier)
        messages[:] = [{"role": "system",
                        "content": "Summary of %d earlier messages: %s" % (len(earlier), summary)}
                       ] + recent
        send({"messages": messages})
    event("compacted", old_tokens=old_tokens, new_tokens=estimate_tokens(messages))
    done("completed")


def truncate(request, messages):
    index = request["operation"]["payload"].get("user_message_index")
    user_positions = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    if not isinstance(index, int) or isinstance(index, bool) or not (
            0 <= index < len(user_positions)):
        return fail("invalid_input", "user_message_index %r is not the index of a user message"
                    % (index,))
    del messages[user_positions[index]:]
    send({"messages": messages})
    event("truncated", history_size=len(messages))
    done("completed")


def shutdown(request, messages):
    event("shutdown")
    done("completed")


OPERATIONS = {
    "user_input": user_input,
    "exec_approval": exec_approval,
    "undo": undo,
    "compact": compact,
    "truncate": truncate,
    "shutdown": shutdown,
}


def main():
    line = sys.stdin.readline()
    try:
        request = json.loads(line)
    except ValueError as e:
        return fail("invalid_input", "cannot parse the request: %s" % e)
    if request.get("protocol") != PROTOCOL:
        return fail("invalid_input", "unsupported protocol %r" % request.get("protocol"))
    operation = request["operation"]["type"]
    handler = OPERATIONS.get(operation)
    if handler is None:
        return fail("invalid_input", "unsupported operation %r" % operation)
    handler(request, list(request.get("messages", [])))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # report, rather than exit without done
        traceback.print_exc()
        fail("agent_crashed", "%s: %s" % (type(e).__name__, e))
