// Test harness of the browser tests: real `baton serve` / `baton worker`
// processes on loopback ports over a real SQLite file in a temp directory,
// and Debian's Chromium driven by playwright-core. Nothing is mocked.
//
// BATON_BIN is the binary under test (tests/e2e/run sets it). BATON_E2E_KEEP=1
// keeps the temp directories; process logs are printed when a test fails.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { backend } from './backend.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const ARTIFACTS = path.join(REPO_ROOT, 'tests/e2e/artifacts');
const CHROMIUM = process.env.BATON_E2E_CHROMIUM || '/usr/bin/chromium';

// Short intervals so that reapers sweep and idle worker slots claim at once.
const TIMING = [
  '--lease-seconds', '8', '--heartbeat-seconds', '0.5', '--sweep-seconds', '0.5',
  '--claim-poll-seconds', '0.05', '--change-poll-seconds', '0.05', '--drain-seconds', '2',
  '--kill-grace-seconds', '1',
];

export function batonBin() {
  const bin = process.env.BATON_BIN || path.join(REPO_ROOT, 'build/dev/src/cli/baton');
  if (!fs.existsSync(bin)) throw new Error(`BATON_BIN=${bin} does not exist`);
  return bin;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One test's world: a temp dir with the database, and the processes started in it.
export class World {
  constructor(name) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `baton-e2e-${name}-`));
    this.db = `sqlite:${path.join(this.dir, 'baton.db')}`;
    this.processes = [];
    this.failed = false;
  }

  spawnProcess(label, args, env = {}) {
    const logPath = path.join(this.dir, `${label}.log`);
    const log = fs.openSync(logPath, 'a');
    const child = spawn(batonBin(), args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', log, log],
      cwd: this.dir,
    });
    fs.closeSync(log);
    const proc = { label, child, logPath, exited: new Promise((r) => child.once('exit', r)) };
    this.processes.push(proc);
    return proc;
  }

  // `baton serve` on `port` (a free one by default); resolves once /healthz answers.
  async serve({ port, workers = 2, dev = false, slowMs = 0, env = {}, extra = [] } = {}) {
    this.slowMs = Math.max(this.slowMs || 0, slowMs);
    await backend.start(this);
    port = port ?? await freePort();
    const args = ['serve', '--db', this.db, '--listen', `127.0.0.1:${port}`,
      '--workers', String(workers), '--workspace-root', path.join(this.dir, 'workspaces'),
      ...TIMING, ...backend.executorArgs(this), ...extra];
    if (dev) args.push('--dev');
    const proc = this.spawnProcess(`serve-${port}`, args, { ...backend.env(this), ...env });
    proc.port = port;
    proc.url = `http://127.0.0.1:${port}`;
    await waitHealthy(proc);
    return proc;
  }

  // `baton worker` on the same database.
  async worker({ slowMs = 0, env = {} } = {}) {
    this.slowMs = Math.max(this.slowMs || 0, slowMs);
    await backend.start(this);
    const port = await freePort();
    const args = ['worker', '--db', this.db, '--health-listen', `127.0.0.1:${port}`,
      '--slots', '2', '--workspace-root', path.join(this.dir, 'workspaces'),
      ...TIMING, ...backend.executorArgs(this)];
    const proc = this.spawnProcess(`worker-${port}`, args, { ...backend.env(this), ...env });
    proc.url = `http://127.0.0.1:${port}`;
    await waitHealthy(proc);
    return proc;
  }

  token(user, { admin = false } = {}) {
    const args = ['admin', 'token', 'create', '--db', this.db, '--user', user];
    if (admin) args.push('--admin');
    return execFileSync(batonBin(), args, { encoding: 'utf8' }).trim();
  }

  async kill(proc, signal = 'SIGKILL') {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill(signal);
    await proc.exited;
  }

  async close() {
    for (const proc of this.processes) {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGTERM');
        const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5000);
        await proc.exited;
        clearTimeout(timer);
      }
    }
    await backend.stop(this);
    if (this.failed || process.env.BATON_E2E_LOGS) {
      for (const proc of this.processes) {
        console.error(`----- ${proc.label} log -----\n${fs.readFileSync(proc.logPath, 'utf8')}`);
      }
    }
    if (!process.env.BATON_E2E_KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

async function waitHealthy(proc, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null) {
      throw new Error(`${proc.label} exited with ${proc.child.exitCode}:\n` +
        fs.readFileSync(proc.logPath, 'utf8'));
    }
    try {
      const r = await fetch(`${proc.url}/healthz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${proc.label} did not become healthy`);
    await sleep(50);
  }
}

// A JSON API call as a test client (not through the browser).
export async function apiCall(base, method, route, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const r = await fetch(base + route, {
    method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, text, json };
}

// --- the browser ---------------------------------------------------------------------

let browserPromise = null;
export function browser() {
  browserPromise ??= chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  return browserPromise;
}

export async function closeBrowser() {
  if (browserPromise) await (await browserPromise).close();
  browserPromise = null;
}

// A fresh browser context (own localStorage) and page.
export async function newPage({ width = 1280, height = 800, colorScheme = 'light' } = {}) {
  const context = await (await browser()).newContext({
    viewport: { width, height }, colorScheme,
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e));
  // A Content-Security-Policy violation is a bug of the UI: count it as an error.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) page.errors.push(m.text());
  });
  page.on('dialog', (d) => d.accept());
  return page;
}

export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

// Signs in through the form (or just opens the app in --dev).
export async function signIn(page, url, token) {
  await page.goto(url);
  if (token) {
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await page.locator('#app').waitFor({ state: 'visible' });
}

export async function newSession(page) {
  // On a narrow screen the session list is a drawer behind the menu button.
  if (await page.locator('#menu-button').isVisible()) await page.locator('#menu-button').click();
  const before = page.url();
  await page.getByRole('button', { name: '+ New session' }).click();
  await page.waitForURL((url) => /\/s\/[0-9a-f-]{36}$/.test(url.pathname) && url.href !== before);
  await page.locator('#composer').waitFor({ state: 'visible' });
  return page.url().split('/s/')[1];
}

export async function send(page, text) {
  const input = page.getByLabel('Message');
  await input.fill(text);
  await input.press('Enter');
}
