// Signing in, sending and streaming, safe rendering, interrupt and retry,
// sessions in the sidebar, narrow and dark layouts — in headless Chromium
// against a real `baton serve`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { backend } from './lib/backend.js';
import {
  World, apiCall, closeBrowser, newPage, newSession, screenshot, send, signIn,
} from './lib/harness.js';

describe('chat', () => {
  let world;
  let server;
  let token;
  before(async () => {
    world = new World('chat');
    // Slow enough to watch an answer stream and to interrupt it.
    server = await world.serve({ slowMs: 400 });
    token = world.token('alice');
  });
  after(async () => {
    await closeBrowser();
    await world.close();
  });

  test('sign-in refuses a bad token and accepts a good one; sign-out forgets it', async () => {
    const page = await newPage();
    await page.goto(server.url);
    await page.getByLabel('API token').waitFor();
    await screenshot(page, 'signin');
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token was not accepted.').waitFor();
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#user-name', { hasText: 'alice' }).waitFor();
    await page.reload();  // the token survives a reload (localStorage)
    await page.locator('#user-name', { hasText: 'alice' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('baton.token')), null);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('a message streams in, then the final answer replaces the stream', async () => {
    const page = await newPage();
    await signIn(page, server.url, token);
    await newSession(page);
    const { type, answer } = await backend.reply(world, 'Tell me about **baton** and `queues`');
    await send(page, type);
    await page.locator('.message.user', { hasText: 'Tell me about' }).waitFor();
    // Part of the answer while the run is still going.
    const streaming = page.locator('.message.assistant.streaming');
    await streaming.waitFor();
    assert.ok((await streaming.innerText()).length < answer.length);
    assert.match(await page.locator('#status').innerText(), /responding|Working/);
    await page.getByRole('button', { name: 'Interrupt' }).waitFor();
    await screenshot(page, 'chat-streaming');
    const final = page.locator('.message.assistant:not(.streaming)');
    await final.waitFor();
    // Markdown rendered: bold and inline code are elements, not asterisks.
    assert.equal(await final.locator('strong').innerText(), 'baton');
    assert.equal(await final.locator('code').innerText(), 'queues');
    assert.equal((await final.innerText()).replace(/\s+/g, ' ').trim(),
      answer.replace(/\*\*|`/g, ''));
    await page.locator('#run-state[data-state="idle"]').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Interrupt' }).isVisible(), false);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('model output with <script> and <img onerror> renders as text', async () => {
    const page = await newPage();
    await signIn(page, server.url, token);
    await newSession(page);
    const attack = '<script>window.xss = 1</script> <img src=x onerror="window.xss = 2">' +
      ' [click](javascript:window.xss=3)';
    const { type, answer } = await backend.reply(world, attack);
    await send(page, type);
    const final = page.locator('.message.assistant:not(.streaming)');
    await final.waitFor({ timeout: 20000 });
    assert.equal((await final.innerText()).trim(), answer);
    const transcript = page.locator('#transcript');
    assert.equal(await transcript.locator('script, img, iframe').count(), 0);
    assert.equal(await final.locator('a').count(), 0);  // javascript: links stay text
    assert.equal(await page.evaluate(() => window.xss), undefined);
    await page.context().close();
  });

  test('Esc interrupts a running turn; Retry sends the text again', async () => {
    const page = await newPage();
    await signIn(page, server.url, token);
    await newSession(page);
    const { type, answer } = await backend.reply(world, 'a long question to stop');
    await send(page, type);
    await page.locator('.message.assistant.streaming').waitFor();
    await page.keyboard.press('Escape');
    const notice = page.locator('.notice.interrupted');
    await notice.waitFor();
    assert.match(await notice.innerText(), /Interrupted \(user\)/);
    // What streamed before the interrupt stays, marked as cut short.
    await page.locator('.message.assistant.cut-short').waitFor();
    assert.equal(await page.locator('.message.assistant.streaming').count(), 0);
    await page.locator('#run-state[data-state="idle"]').waitFor();
    await screenshot(page, 'interrupted');
    await backend.reply(world, 'a long question to stop');  // the retry's answer
    await notice.getByRole('button', { name: 'Retry' }).click();
    await page.locator('.message.user', { hasText: 'a long question to stop' }).nth(1).waitFor();
    await page.locator('.message.assistant:not(.streaming)', { hasText: answer })
      .waitFor({ timeout: 20000 });
    assert.equal(await page.locator('.retry').count(), 0);
    await page.context().close();
  });

  test('a failed turn shows the error and Retry sends the text again',
    { skip: !backend.failNext && `the ${backend.name} backend cannot fail on demand` }, async () => {
      const page = await newPage();
      await signIn(page, server.url, token);
      await newSession(page);
      await backend.failNext(world, 'the model refused this request');
      await send(page, 'this one fails');
      const notice = page.locator('.notice.error');
      await notice.waitFor({ timeout: 20000 });
      assert.match(await notice.innerText(), /the model refused this request/);
      await screenshot(page, 'error');
      const { answer } = await backend.reply(world, 'this one fails');
      await notice.getByRole('button', { name: 'Retry' }).click();
      await page.locator('.message.assistant:not(.streaming)', { hasText: answer })
        .waitFor({ timeout: 20000 });
      await page.context().close();
    });

  test('Shift+Enter makes a new line; a second message while busy is queued', async () => {
    const page = await newPage();
    await signIn(page, server.url, token);
    await newSession(page);
    await backend.reply(world, 'first line\nsecond line');
    const input = page.getByLabel('Message');
    await input.fill('first line');
    await input.press('Shift+Enter');
    await input.type('second line');
    assert.equal(await input.inputValue(), 'first line\nsecond line');
    await input.press('Enter');
    await page.locator('.message.assistant.streaming').waitFor();
    await send(page, (await backend.reply(world, 'next one')).type);
    const queued = page.locator('.message.user', { hasText: 'next one' }).locator('.badge.queued');
    await queued.waitFor();
    await queued.waitFor({ state: 'detached', timeout: 20000 });
    await page.locator('.message.assistant:not(.streaming)', { hasText: 'Echo: next one' })
      .waitFor({ timeout: 20000 });
    // Both turns in order, the first answer before the second question.
    const texts = await page.locator('.message').allInnerTexts();
    const firstAnswer = texts.findIndex((t) => t.includes('second line') && t.startsWith('Echo'));
    const second = texts.findIndex((t) => t.startsWith('next one'));
    assert.ok(firstAnswer >= 0 && firstAnswer < second, JSON.stringify(texts));
    await page.context().close();
  });

  test('the sidebar lists, opens and deletes sessions', async () => {
    const page = await newPage();
    await signIn(page, server.url, token);
    const first = await newSession(page);
    await send(page, 'hello sidebar');
    await page.locator('.message.assistant:not(.streaming)').waitFor({ timeout: 20000 });
    // The echo agent gives no title: the page asks the server for one from the first message.
    await page.locator('#session-title', { hasText: 'hello sidebar' }).waitFor();
    const second = await newSession(page);
    await page.locator(`.session-item[data-session-id="${first}"] .session-name`,
      { hasText: 'hello sidebar' }).waitFor();
    await page.locator(`.session-item[data-session-id="${second}"]`).waitFor();
    await page.locator(`.session-item[data-session-id="${first}"]`).waitFor();
    await page.locator(`.session-item[data-session-id="${first}"] .session-open`).click();
    await page.waitForURL(`**/s/${first}`);
    await page.locator('.message.user', { hasText: 'hello sidebar' }).waitFor();
    // Delete (the confirm dialog is accepted by the harness).
    await page.locator(`.session-item[data-session-id="${second}"] .session-delete`).click();
    await page.locator(`.session-item[data-session-id="${second}"]`).waitFor({ state: 'detached' });
    const r = await apiCall(server.url, 'GET', `/api/session/${second}`, { token });
    assert.equal(r.status, 404);
    await page.context().close();
  });

  test('narrow (375 px) layout collapses the sidebar; dark theme follows the system', async () => {
    const page = await newPage({ width: 375, height: 740 });
    await signIn(page, server.url, token);
    await newSession(page);
    await send(page, 'A narrow screen with a `code span` and a list:\n\n- one\n- two');
    await page.locator('.message.assistant:not(.streaming)').waitFor({ timeout: 20000 });
    const sidebar = page.locator('#sidebar');
    const box = await sidebar.boundingBox();
    assert.ok(box.x + box.width <= 0, `sidebar visible at ${JSON.stringify(box)}`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `page scrolls sideways: ${width}`);
    await screenshot(page, 'narrow-375');
    await page.getByRole('button', { name: 'Show sessions' }).click();
    await page.waitForFunction(() => document.getElementById('sidebar').getBoundingClientRect().x >= 0);
    await screenshot(page, 'narrow-375-sidebar');
    await page.context().close();

    const dark = await newPage({ colorScheme: 'dark' });
    await signIn(dark, server.url, token);
    await dark.locator('.session-item').first().locator('.session-open').click();
    await dark.locator('.message.assistant:not(.streaming)').first().waitFor();
    const bg = await dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, 'rgb(21, 23, 27)');
    await screenshot(dark, 'dark-theme');
    await dark.context().close();
  });
});
