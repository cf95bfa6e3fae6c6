// Approval cards: approve, reject with feedback, and edit the arguments of a
// proposed tool call; tool calls and outputs as collapsible blocks.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { backend } from './lib/backend.js';
import {
  World, apiCall, closeBrowser, newPage, newSession, screenshot, send, signIn,
} from './lib/harness.js';

describe('approvals', () => {
  let world;
  let server;
  let token;
  before(async () => {
    world = new World('approvals');
    server = await world.serve();
    token = world.token('alice');
  });
  after(async () => {
    await closeBrowser();
    await world.close();
  });

  async function propose(page, command) {
    const { type, tool } = await backend.proposeShell(world, command);
    await send(page, type);
    const card = page.getByRole('group', { name: 'Approval required' });
    await card.waitFor();
    await card.locator('.approval-tool', { hasText: tool }).waitFor();
    await page.locator('#run-state[data-state="waiting_approval"]').waitFor();
    return card;
  }

  test('approve runs the tool and shows its output', async () => {
    const page = await newPage();
    await signIn(page, server.url, token);
    const sid = await newSession(page);
    const card = await propose(page, 'echo hello-from-tool');
    assert.match(await card.locator('.tool-arguments').innerText(), /"command": "echo hello-from-tool"/);
    await screenshot(page, 'approval-card');
    await card.getByRole('button', { name: 'Approve' }).click();
    await card.locator('.approval-status', { hasText: 'Decision: approved' }).waitFor();
    const tool = page.locator('details.tool').last();
    await tool.locator('.tool-state[data-state="completed"]').waitFor();
    await tool.locator('summary').click();  // collapsed until opened
    await tool.locator('.tool-output').waitFor();
    assert.ok((await tool.locator('.tool-output').innerText())
      .includes(backend.approvedOutput('echo hello-from-tool')));
    await page.locator('#run-state[data-state="idle"]').waitFor();
    await screenshot(page, 'tool-output');
    const session = await apiCall(server.url, 'GET', `/api/session/${sid}`, { token });
    assert.deepEqual(session.json.pending_approvals, []);
    // After a reload the decided card stays closed, the output stays there.
    await page.reload();
    await page.locator('details.tool .tool-state[data-state="completed"]').last().waitFor();
    assert.equal(await page.getByRole('button', { name: 'Approve' }).count(), 0);
    await page.context().close();
  });

  test('reject sends the feedback to the agent', async () => {
    const page = await newPage();
    await signIn(page, server.url, token);
    await newSession(page);
    const card = await propose(page, 'echo never-run');
    await card.getByLabel('Feedback for the agent (optional)').fill('never delete the root');
    await card.getByRole('button', { name: 'Reject' }).click();
    await card.locator('.approval-status', { hasText: 'Decision: rejected' }).waitFor();
    const tool = page.locator('details.tool').last();
    await tool.locator('.tool-state[data-state="rejected"]').waitFor();
    await page.locator('#run-state[data-state="idle"]').waitFor();
    // The feedback reached the agent: it shows in what the turn produced.
    const turn = page.locator('.turn').last();
    assert.ok((await turn.textContent()).includes(backend.rejectedOutput('never delete the root')),
      await turn.textContent());
    assert.ok(!(await turn.textContent()).includes('never-run\n'));
    await page.context().close();
  });

  test('edited arguments replace the proposed ones; bad JSON is refused', async () => {
    const page = await newPage();
    await signIn(page, server.url, token);
    await newSession(page);
    const card = await propose(page, 'echo original-value');
    await card.getByRole('button', { name: 'Edit arguments' }).click();
    const editor = card.getByLabel('Edited arguments (JSON)');
    await editor.fill('{"command": ');
    await card.getByRole('button', { name: 'Approve' }).click();
    await card.getByText(/not valid JSON/).waitFor();
    await editor.fill('{"command": "echo edited-value"}');
    await card.getByRole('button', { name: 'Approve' }).click();
    await card.locator('.approval-status', { hasText: 'approved (edited)' }).waitFor();
    const tool = page.locator('details.tool').last();
    await tool.locator('.tool-state[data-state="completed"]').waitFor();
    await tool.locator('summary').click();
    const output = await tool.locator('.tool-output').innerText();
    assert.ok(output.includes(backend.approvedOutput('echo edited-value')), output);
    assert.ok(!output.includes('original-value'), output);
    await page.context().close();
  });
});
