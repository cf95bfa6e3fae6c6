// A small Markdown renderer that builds DOM nodes and never parses HTML:
// every piece of model output becomes a text node, so `<script>` or
// `<img onerror=...>` in an answer shows as text. Supported: paragraphs,
// fenced code blocks, headings, bullet and numbered lists, block quotes,
// inline code, bold, italic, and links whose URL is http(s) (others stay text).

const FENCE = /^\s*(```|~~~)\s*([\w+-]*)\s*$/;
const HEADING = /^(#{1,6})\s+(.*)$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*(\d{1,9})[.)]\s+(.*)$/;
const QUOTE = /^\s*>\s?(.*)$/;

// Renders `text` into a DocumentFragment.
export function renderMarkdown(text) {
  const fragment = document.createDocumentFragment();
  const lines = String(text ?? '').replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = line.match(FENCE);
    if (fence) {
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i++;  // the closing fence (or the end of an unfinished stream)
      const pre = el('pre');
      const code = el('code');
      if (fence[2]) code.dataset.lang = fence[2];
      code.textContent = body.join('\n');
      pre.append(code);
      fragment.append(pre);
      continue;
    }
    if (!line.trim()) {
      i++;
      continue;
    }
    const heading = line.match(HEADING);
    if (heading) {
      // Headings inside an answer stay below the page's own levels.
      const h = el(`h${Math.min(6, heading[1].length + 2)}`);
      h.append(...renderInline(heading[2]));
      fragment.append(h);
      i++;
      continue;
    }
    if (BULLET.test(line) || NUMBERED.test(line)) {
      const numbered = !BULLET.test(line);
      const pattern = numbered ? NUMBERED : BULLET;
      const list = el(numbered ? 'ol' : 'ul');
      if (numbered) {
        const start = Number(line.match(NUMBERED)[1]);
        if (start !== 1) list.start = start;
      }
      while (i < lines.length && pattern.test(lines[i])) {
        const m = lines[i].match(pattern);
        const item = el('li');
        item.append(...renderInline(numbered ? m[2] : m[1]));
        list.append(item);
        i++;
      }
      fragment.append(list);
      continue;
    }
    if (QUOTE.test(line)) {
      const quoted = [];
      while (i < lines.length && QUOTE.test(lines[i])) quoted.push(lines[i++].match(QUOTE)[1]);
      const blockquote = el('blockquote');
      blockquote.append(renderMarkdown(quoted.join('\n')));
      fragment.append(blockquote);
      continue;
    }
    // A paragraph: consecutive lines up to a blank line or another block.
    const paragraph = [];
    while (i < lines.length && lines[i].trim() && !FENCE.test(lines[i]) &&
           !HEADING.test(lines[i]) && !BULLET.test(lines[i]) && !NUMBERED.test(lines[i]) &&
           !QUOTE.test(lines[i])) {
      paragraph.push(lines[i++]);
    }
    const p = el('p');
    paragraph.forEach((part, index) => {
      if (index > 0) p.append(el('br'));
      p.append(...renderInline(part));
    });
    fragment.append(p);
  }
  return fragment;
}

// Inline spans, earliest match first. Code spans are literal; the others
// render their inside recursively.
const INLINE = new RegExp([
  '(`+)([\\s\\S]*?[^`])\\1(?!`)',           // 1,2: code
  '\\*\\*(?=\\S)([\\s\\S]*?\\S)\\*\\*',       // 3: bold
  '__(?=\\S)([\\s\\S]*?\\S)__',               // 4: bold
  '\\*(?=[^\\s*])([\\s\\S]*?[^\\s*])\\*',     // 5: italic
  '(?<![\\w])_(?=[^\\s_])([\\s\\S]*?[^\\s_])_(?![\\w])',  // 6: italic
  '\\[([^\\]\\n]+)\\]\\(\\s*([^\\s)]+)\\s*\\)',  // 7,8: link
  '(https?:\\/\\/[^\\s<>()]+[^\\s<>().,;:!?\'"])',  // 9: bare URL
].join('|'));

export function renderInline(text) {
  const nodes = [];
  let rest = String(text);
  while (rest) {
    const m = rest.match(INLINE);
    if (!m) {
      nodes.push(document.createTextNode(rest));
      break;
    }
    if (m.index > 0) nodes.push(document.createTextNode(rest.slice(0, m.index)));
    if (m[2] !== undefined) {
      const code = el('code');
      code.textContent = m[2].replace(/^ (.*) $/, '$1');
      nodes.push(code);
    } else if (m[3] !== undefined || m[4] !== undefined) {
      const strong = el('strong');
      strong.append(...renderInline(m[3] ?? m[4]));
      nodes.push(strong);
    } else if (m[5] !== undefined || m[6] !== undefined) {
      const em = el('em');
      em.append(...renderInline(m[5] ?? m[6]));
      nodes.push(em);
    } else if (m[7] !== undefined) {
      const href = safeUrl(m[8]);
      if (href) {
        nodes.push(link(href, renderInline(m[7])));
      } else {
        nodes.push(document.createTextNode(m[0]));
      }
    } else if (m[9] !== undefined) {
      const href = safeUrl(m[9]);
      nodes.push(href ? link(href, [document.createTextNode(m[9])])
                      : document.createTextNode(m[9]));
    }
    rest = rest.slice(m.index + m[0].length);
  }
  return nodes;
}

// The URL if it is absolute http(s), else null (javascript:, data:, relative...).
export function safeUrl(raw) {
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

function link(href, children) {
  const a = el('a');
  a.href = href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer nofollow';
  a.append(...children);
  return a;
}

function el(tag) {
  return document.createElement(tag);
}
