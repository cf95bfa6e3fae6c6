// web/js/markdown.js in the browser: the Markdown it supports becomes the
// expected elements, and nothing in model output becomes markup.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { World, closeBrowser, newPage } from './lib/harness.js';

describe('markdown renderer', () => {
  let world;
  let page;
  before(async () => {
    world = new World('markdown');
    const server = await world.serve({ dev: true, workers: 0 });
    page = await newPage();
    await page.goto(server.url);
  });
  after(async () => {
    await closeBrowser();
    await world.close();
  });

  // The rendered HTML of `text` (serialised by the browser, so escaping shows).
  const render = (text) => page.evaluate(async (t) => {
    const { renderMarkdown } = await import('/js/markdown.js');
    const div = document.createElement('div');
    div.append(renderMarkdown(t));
    return div.innerHTML;
  }, text);

  test('blocks: paragraphs, line breaks, code fences, lists, headings, quotes', async () => {
    assert.equal(await render('one\ntwo\n\nthree'), '<p>one<br>two</p><p>three</p>');
    assert.equal(await render('```js\nconst a = "<b>";\n```'),
      '<pre><code data-lang="js">const a = "&lt;b&gt;";</code></pre>');
    assert.equal(await render('- a\n- **b**\n\n3. x\n4. y'),
      '<ul><li>a</li><li><strong>b</strong></li></ul><ol start="3"><li>x</li><li>y</li></ol>');
    assert.equal(await render('# Title'), '<h3>Title</h3>');
    assert.equal(await render('> quoted *text*'),
      '<blockquote><p>quoted <em>text</em></p></blockquote>');
    // An unfinished fence while streaming still renders as code.
    assert.equal(await render('```\npartial'), '<pre><code>partial</code></pre>');
  });

  test('inline: code, bold, italic, links', async () => {
    assert.equal(await render('a `x < y` b'), '<p>a <code>x &lt; y</code> b</p>');
    assert.equal(await render('**bold _and italic_**'),
      '<p><strong>bold <em>and italic</em></strong></p>');
    assert.equal(await render('snake_case_name stays'), '<p>snake_case_name stays</p>');
    assert.equal(await render('[docs](https://example.com/a?b=1)'),
      '<p><a href="https://example.com/a?b=1" target="_blank" rel="noopener noreferrer nofollow">docs</a></p>');
    assert.match(await render('see https://example.com/x.'),
      /^<p>see <a href="https:\/\/example.com\/x"[^>]*>https:\/\/example.com\/x<\/a>.<\/p>$/);
  });

  test('nothing becomes markup or a dangerous link', async () => {
    for (const attack of [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '[x](javascript:alert(1))',
      '[x](data:text/html,<script>alert(1)</script>)',
      '[x](//evil.example/)',
      '<a href="javascript:alert(1)">x</a>',
      '`</code><script>alert(1)</script>`',
      '```\n</pre><img src=x onerror=alert(1)>\n```',
    ]) {
      const found = await page.evaluate(async (t) => {
        const { renderMarkdown } = await import('/js/markdown.js');
        const div = document.createElement('div');
        div.append(renderMarkdown(t));
        return {
          tags: [...div.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()),
          attributes: [...div.querySelectorAll('*')].flatMap((e) => e.getAttributeNames()),
          hrefs: [...div.querySelectorAll('a')].map((a) => a.href),
          text: div.textContent,
        };
      }, attack);
      const allowed = new Set(['p', 'br', 'pre', 'code', 'a', 'strong', 'em']);
      assert.deepEqual(found.tags.filter((t) => !allowed.has(t)), [], attack);
      assert.deepEqual(found.attributes.filter((a) => a.startsWith('on')), [], attack);
      for (const href of found.hrefs) assert.match(href, /^https?:\/\//, attack);
      assert.ok(found.text.length > 0, attack);
    }
  });
});
