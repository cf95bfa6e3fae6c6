// What answers the agent's side of a turn in the browser tests — the one place
// that knows which executor `baton serve` runs. Every test asks it what to
// type and what answer to expect, so switching executors changes this file
// only.
//
// echo: `--executor command` running examples/echo_agent.py. It answers
// "Echo: <text>", proposes a `shell` tool call for "/approve <command>", and
// reports approved calls as "executed (simulated): <command>".

import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PYTHON = process.env.BATON_TEST_PYTHON || '/usr/bin/python3';

const echo = {
  name: 'echo',
  async start() {},
  async stop() {},
  executorArgs() {
    return ['--executor', 'command', '--agent-command',
      `${PYTHON} ${path.join(REPO_ROOT, 'examples/echo_agent.py')}`];
  },
  // Environment of the processes that run turns. `slowMs` spaces out the
  // streamed chunks of every answer (the echo agent streams four).
  env({ slowMs = 0 } = {}) {
    return slowMs ? { ECHO_AGENT_DELAY_MS: String(slowMs) } : {};
  },
  // What to type for an answer, and the answer.
  async reply(world, text) {
    return { type: text, answer: `Echo: ${text}` };
  },
  // What to type so that the agent proposes running `command` in a shell.
  async proposeShell(world, command) {
    return { type: `/approve ${command}`, tool: 'shell' };
  },
  // Text the output of an approved `command` contains (tests run only `echo`).
  approvedOutput(command) { return `executed (simulated): ${command}`; },
  // Text the output of a rejected call contains.
  rejectedOutput(feedback) { return `rejected by the user: ${feedback}`; },
};

export const backend = echo;
