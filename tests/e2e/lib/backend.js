// What answers the agent's side of a turn in the browser tests — the one place
// that knows which executor `baton serve` runs. Every test asks it what to
// type and what answer to expect, so switching executors changes this file
// only. BATON_E2E_BACKEND=echo|openai chooses; by default `openai` when the
// binary has the built-in agent (`baton serve --help` lists --llm-base-url),
// else `echo`.
//
// echo: `--executor command` running examples/echo_agent.py. It answers
// "Echo: <text>", proposes a `shell` tool call for "/approve <command>", and
// reports approved calls as "executed (simulated): <command>".
//
// openai: the built-in agent against tests/support/scripted_llm.py, one per
// World. Each expected answer is scripted as the model's next reply ("Echo:
// <text>", so both backends give the same answers); the shell tool really runs
// (tests only propose `echo` commands).

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PYTHON = process.env.BATON_TEST_PYTHON || '/usr/bin/python3';
const SCRIPTED_LLM = path.join(REPO_ROOT, 'tests/support/scripted_llm.py');

const echo = {
  name: 'echo',
  async start() {},
  async stop() {},
  executorArgs() {
    return ['--executor', 'command', '--agent-command',
      `${PYTHON} ${path.join(REPO_ROOT, 'examples/echo_agent.py')}`];
  },
  // Environment of the processes that run turns. world.slowMs spaces out the
  // streamed chunks of every answer (the echo agent streams four).
  env(world) {
    return world.slowMs ? { ECHO_AGENT_DELAY_MS: String(world.slowMs) } : {};
  },
  // What to type for an answer, and the answer.
  async reply(world, text) {
    return { type: text, answer: `Echo: ${text}` };
  },
  // What to type so that the agent proposes running `command` in a shell.
  async proposeShell(world, command) {
    return { type: `/approve ${command}`, tool: 'shell' };
  },
  // Text the output of an approved `echo ...` command contains.
  approvedOutput(command) { return `executed (simulated): ${command}`; },
  // Text the turn after a rejection shows (here: the call's output).
  rejectedOutput(feedback) { return `rejected by the user: ${feedback}`; },
  // Makes the next turn fail with an error event, if this backend can.
  failNext: null,
};

const openai = {
  name: 'openai',
  async start(world) {
    if (world.llm) return;
    const portFile = path.join(world.dir, 'llm.port');
    const log = fs.openSync(path.join(world.dir, 'scripted-llm.log'), 'a');
    const child = spawn(PYTHON, [SCRIPTED_LLM, '--port', '0', '--port-file', portFile],
      { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    world.llm = { child, url: null };
    const deadline = Date.now() + 10000;
    while (!fs.existsSync(portFile) || !fs.readFileSync(portFile, 'utf8').trim()) {
      if (child.exitCode !== null) throw new Error('scripted_llm.py exited at start-up');
      if (Date.now() > deadline) throw new Error('scripted_llm.py did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    world.llm.url = `http://127.0.0.1:${fs.readFileSync(portFile, 'utf8').trim()}`;
  },
  async stop(world) {
    if (world.llm && world.llm.child.exitCode === null) world.llm.child.kill('SIGTERM');
  },
  executorArgs(world) {
    return ['--executor', 'openai', '--llm-base-url', `${world.llm.url}/v1`,
      '--model', 'test-model'];
  },
  env() { return {}; },
  async script(world, step) {
    const r = await fetch(`${world.llm.url}/_script`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ responses: [step] }),
    });
    if (!r.ok) throw new Error(`scripting the model failed: ${r.status}`);
  },
  async reply(world, text) {
    const answer = `Echo: ${text}`;
    // Four chunks, like the echo agent, spaced by world.slowMs.
    await this.script(world, {
      text: answer, chunk_size: Math.max(1, Math.ceil(answer.length / 4)),
      delay_ms: world.slowMs || 0,
    });
    return { type: text, answer };
  },
  async proposeShell(world, command) {
    await this.script(world, { tool_calls: [{ name: 'shell', arguments: { command } }] });
    return { type: `please run ${command}`, tool: 'shell' };
  },
  approvedOutput(command) { return command.replace(/^echo /, ''); },
  // The model gets the feedback as the call's result; unscripted, the
  // scripted server answers "Tool result: <it>".
  rejectedOutput(feedback) { return feedback; },
  async failNext(world, message) {
    await this.script(world, { status: 400, error: message });
  },
};

function choose() {
  const wanted = process.env.BATON_E2E_BACKEND;
  if (wanted === 'echo') return echo;
  if (wanted === 'openai') return openai;
  if (wanted) throw new Error(`BATON_E2E_BACKEND must be echo or openai, got ${wanted}`);
  const bin = process.env.BATON_BIN || path.join(REPO_ROOT, 'build/dev/src/cli/baton');
  try {
    const help = execFileSync(bin, ['serve', '--help'], { encoding: 'utf8' });
    if (help.includes('--llm-base-url') && fs.existsSync(SCRIPTED_LLM)) return openai;
  } catch {
    // No binary yet: the harness reports that.
  }
  return echo;
}

export const backend = choose();
