// Two users on one server never see each other's sessions.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  World, apiCall, closeBrowser, newPage, newSession, send, signIn,
} from './lib/harness.js';

describe('two users', () => {
  let world;
  let server;
  before(async () => {
    world = new World('users');
    server = await world.serve();
  });
  after(async () => {
    await closeBrowser();
    await world.close();
  });

  test("each sees only their own sessions, and another's URL is not found", async () => {
    const alice = world.token('alice');
    const bob = world.token('bob');
    const pageA = await newPage();
    await signIn(pageA, server.url, alice);
    const sessionA = await newSession(pageA);
    await send(pageA, 'alice private note');
    await pageA.locator('.message.assistant:not(.streaming)').waitFor({ timeout: 20000 });

    const pageB = await newPage();
    await signIn(pageB, server.url, bob);
    const sessionB = await newSession(pageB);
    await send(pageB, 'bob private note');
    await pageB.locator('.message.assistant:not(.streaming)').waitFor({ timeout: 20000 });
    await pageB.locator(`.session-item[data-session-id="${sessionB}"]`).waitFor();
    assert.equal(await pageB.locator(`.session-item[data-session-id="${sessionA}"]`).count(), 0);
    assert.equal(await pageB.locator('.session-item').count(), 1);

    // Bob opening Alice's session by URL learns nothing.
    await pageB.goto(`${server.url}/s/${sessionA}`);
    await pageB.locator('#status', { hasText: 'No such session.' }).waitFor();
    assert.equal(await pageB.getByText('alice private note').count(), 0);

    await pageA.reload();
    await pageA.locator(`.session-item[data-session-id="${sessionA}"]`).waitFor();
    assert.equal(await pageA.locator('.session-item').count(), 1);
    assert.equal(await pageA.getByText('bob private note').count(), 0);

    const r = await apiCall(server.url, 'GET', `/api/events/${sessionA}`, { token: bob });
    assert.equal(r.status, 404);
    await pageA.context().close();
    await pageB.context().close();
  });
});
