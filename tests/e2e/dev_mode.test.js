// `baton serve --dev`: no sign-in, no sign-out, the single user "dev".
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { World, closeBrowser, newPage, newSession, send } from './lib/harness.js';

describe('dev mode', () => {
  let world;
  let server;
  before(async () => {
    world = new World('dev');
    server = await world.serve({ dev: true });
  });
  after(async () => {
    await closeBrowser();
    await world.close();
  });

  test('opens straight into the app and chats without a token', async () => {
    const page = await newPage();
    await page.goto(server.url);
    await page.locator('#user-name', { hasText: 'dev' }).waitFor();
    assert.equal(await page.locator('#signin').isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).isVisible(), false);
    await newSession(page);
    await send(page, 'hello dev');
    await page.locator('.message.assistant:not(.streaming)').waitFor({ timeout: 20000 });
    assert.equal(await page.evaluate(() => localStorage.getItem('baton.token')), null);
    await page.context().close();
  });
});
