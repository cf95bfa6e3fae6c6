// The browser is an observer: closing the page or losing the server during a
// turn loses nothing, and the page catches up without repeating text.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { backend } from './lib/backend.js';
import {
  World, apiCall, closeBrowser, newPage, newSession, screenshot, send, signIn, sleep,
} from './lib/harness.js';

async function waitIdle(url, sid, token, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await apiCall(url, 'GET', `/api/session/${sid}`, { token });
    if (r.status === 200 && r.json.runtime_state === 'idle' && r.json.turn_count >= 1) return;
    if (Date.now() > deadline) throw new Error(`session not idle: ${r.text}`);
    await sleep(100);
  }
}

describe('closing the page mid-turn', () => {
  let world;
  let server;
  let token;
  before(async () => {
    world = new World('close');
    server = await world.serve({ slowMs: 500 });
    token = world.token('alice');
  });
  after(async () => {
    await closeBrowser();
    await world.close();
  });

  test('reopening after the worker finished shows the completed answer once', async () => {
    const page = await newPage();
    await signIn(page, server.url, token);
    const sid = await newSession(page);
    const { type, answer } = await backend.reply(world, 'keep going without me');
    await send(page, type);
    await page.locator('.message.assistant.streaming').waitFor();
    await page.context().close();  // the laptop lid closes

    await waitIdle(server.url, sid, token);
    const again = await newPage();
    await signIn(again, server.url, token);
    await again.goto(`${server.url}/s/${sid}`);
    await again.locator('.message.assistant:not(.streaming)').waitFor();
    assert.equal(await again.locator('.message.user').count(), 1);
    assert.equal(await again.locator('.message.assistant').count(), 1);
    assert.equal((await again.locator('.message.assistant').innerText()).trim(), answer);
    await again.locator('#connection[data-state="live"]').waitFor();
    await again.context().close();
  });
});

describe('the network drops', () => {
  let world;
  let server;
  let token;
  before(async () => {
    world = new World('offline');
    server = await world.serve();
    token = world.token('alice');
  });
  after(async () => {
    await closeBrowser();
    await world.close();
  });

  test('the page reconnects when the network is back and shows what it missed', async () => {
    const page = await newPage();
    await signIn(page, server.url, token);
    const sid = await newSession(page);
    await page.locator('#connection[data-state="live"]').waitFor();
    await page.context().setOffline(true);
    await page.locator('#connection[data-state="reconnecting"]').waitFor();
    // Another client (or tab) runs a turn while this page is offline.
    const { type, answer } = await backend.reply(world, 'sent while you were away');
    const sent = await apiCall(server.url, 'POST', `/api/chat/${sid}`, {
      token, body: { text: type }, headers: { Prefer: 'respond-async' },
    });
    assert.equal(sent.status, 202);
    await waitIdle(server.url, sid, token);
    await page.context().setOffline(false);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 20000 });
    await page.locator('.message.user', { hasText: 'sent while you were away' }).waitFor();
    await page.locator('.message.assistant:not(.streaming)', { hasText: answer }).waitFor();
    assert.equal(await page.locator('.message.assistant').count(), 1);
    assert.equal(await page.locator('.notice').count(), 0);
    await page.context().close();
  });
});

describe('the API server dies during a turn', () => {
  let world;
  let token;
  before(async () => {
    world = new World('restart');
    token = world.token('alice');
  });
  after(async () => {
    await closeBrowser();
    await world.close();
  });

  test('the page shows reconnecting, then catches up without duplicated text', async () => {
    // Turns run in a separate worker process, so they survive the API server.
    let server = await world.serve({ workers: 0 });
    await world.worker({ slowMs: 1200 });
    const page = await newPage();
    await signIn(page, server.url, token);
    const sid = await newSession(page);
    const { type, answer } = await backend.reply(world, 'survive the restart please');
    await send(page, type);
    await page.locator('.message.assistant.streaming').waitFor({ timeout: 20000 });
    const port = server.port;
    await world.kill(server, 'SIGKILL');

    await page.locator('#connection[data-state="reconnecting"]').waitFor();
    assert.match(await page.locator('#status').innerText(), /reconnecting/i);
    await screenshot(page, 'reconnecting');
    await sleep(1500);  // the worker keeps writing while no API server runs
    server = await world.serve({ port, workers: 0 });

    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 20000 });
    await page.locator('.message.assistant:not(.streaming)').waitFor({ timeout: 30000 });
    assert.equal(await page.locator('.message.assistant').count(), 1);
    assert.equal((await page.locator('.message.assistant').innerText()).trim(), answer);
    assert.equal(await page.locator('.message.user').count(), 1);
    await waitIdle(server.url, sid, token);
    assert.equal(await page.locator('.notice').count(), 0);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});
