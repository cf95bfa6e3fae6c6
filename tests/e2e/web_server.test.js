// The static UI over real HTTP (no browser): content types, caching, the SPA
// fallback, API precedence, and --web-root with path traversal refused.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { World, apiCall } from './lib/harness.js';

// A raw request, so that "/../" reaches the server as sent (fetch normalises it).
function rawGet(port, target) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.end(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
    let data = '';
    socket.on('data', (d) => { data += d; });
    socket.on('end', () => resolve({ status: Number(data.split(' ')[1]), text: data }));
    socket.on('error', reject);
  });
}

describe('embedded UI', () => {
  let world;
  let server;
  before(async () => {
    world = new World('web');
    server = await world.serve({ workers: 0 });
  });
  after(async () => world.close());

  test('/ is the app, with content type, validators and a strict CSP', async () => {
    const r = await apiCall(server.url, 'GET', '/');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(r.text, /<main/);
    assert.match(r.headers.get('etag'), /^"[0-9a-f]{16}-[0-9a-f]+"$/);
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.match(r.headers.get('content-security-policy'), /script-src 'self'/);

    const again = await apiCall(server.url, 'GET', '/',
      { headers: { 'If-None-Match': r.headers.get('etag') } });
    assert.equal(again.status, 304);
    assert.equal(again.text, '');
  });

  test('assets have their own content types', async () => {
    const js = await apiCall(server.url, 'GET', '/js/app.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const css = await apiCall(server.url, 'GET', '/css/app.css');
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    const icon = await apiCall(server.url, 'GET', '/favicon.svg');
    assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
  });

  test('client-side routes fall back to index.html; missing files do not', async () => {
    const index = await apiCall(server.url, 'GET', '/');
    const route = await apiCall(server.url, 'GET', '/s/6bdb9c67-36b1-424b-b721-6131aec29079');
    assert.equal(route.status, 200);
    assert.equal(route.text, index.text);
    const missing = await apiCall(server.url, 'GET', '/js/missing.js');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.detail.code, 'not_found');
  });

  test('API paths keep precedence and never fall back to the app', async () => {
    assert.equal((await apiCall(server.url, 'GET', '/healthz')).json.status, 'ok');
    assert.equal((await apiCall(server.url, 'GET', '/auth/status')).json.auth_enabled, true);
    for (const route of ['/api/no-such-route', '/auth/nope', '/api']) {
      const r = await apiCall(server.url, 'GET', route);
      assert.equal(r.status, 404, route);
      assert.equal(r.json.detail.code, 'not_found', route);
    }
    const sessions = await apiCall(server.url, 'GET', '/api/sessions');
    assert.equal(sessions.status, 401);
    const post = await apiCall(server.url, 'POST', '/index.html', { body: {} });
    assert.equal(post.status, 404);
  });

  test('path traversal is refused in every spelling', async () => {
    for (const target of ['/../etc/passwd', '/js/../../etc/passwd', '/%2e%2e/etc/passwd',
      '/js/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/a%5c..%5cb', '/a%00b']) {
      const r = await rawGet(server.port, target);
      assert.equal(r.status, 400, target);
      assert.doesNotMatch(r.text, /root:/, target);
    }
  });
});

describe('--web-root', () => {
  let world;
  let server;
  before(async () => {
    world = new World('webroot');
    const root = path.join(world.dir, 'site');
    fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><p>custom frontend</p>');
    fs.writeFileSync(path.join(root, 'assets', 'main.js'), 'export const x = 1;');
    fs.writeFileSync(path.join(world.dir, 'secret.txt'), 'top secret');
    fs.symlinkSync(path.join(world.dir, 'secret.txt'), path.join(root, 'leak.txt'));
    server = await world.serve({ workers: 0, extra: ['--web-root', root] });
  });
  after(async () => world.close());

  test('serves the directory with the same SPA fallback', async () => {
    const index = await apiCall(server.url, 'GET', '/');
    assert.equal(index.text, '<!doctype html><p>custom frontend</p>');
    const js = await apiCall(server.url, 'GET', '/assets/main.js');
    assert.equal(js.text, 'export const x = 1;');
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal((await apiCall(server.url, 'GET', '/chat/42')).text, index.text);
    assert.equal((await apiCall(server.url, 'GET', '/api/nope')).status, 404);
  });

  test('nothing outside the directory is reachable', async () => {
    assert.equal((await rawGet(server.port, '/../secret.txt')).status, 400);
    assert.equal((await rawGet(server.port, '/%2e%2e/secret.txt')).status, 400);
    const leak = await apiCall(server.url, 'GET', '/leak.txt');
    assert.equal(leak.status, 404);
    assert.doesNotMatch(leak.text, /top secret/);
  });

  test('a directory without index.html is refused at start-up', async () => {
    const empty = path.join(world.dir, 'empty');
    fs.mkdirSync(empty);
    await assert.rejects(world.serve({ workers: 0, extra: ['--web-root', empty] }),
      /has no index.html/);
  });
});
