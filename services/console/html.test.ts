import { describe, expect, it } from 'vitest';
import { escapeHtml, html, pathOf } from './html.js';

describe('html', () => {
  it('escapes every interpolated string, in text and in quoted attributes', () => {
    const hostile = `"><script>alert('x')</script>&`;
    const out = html`<a title="${hostile}" href="/t">${hostile}</a>`.text;
    expect(out).toBe(
      '<a title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;" href="/t">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</a>',
    );
    expect(out).not.toContain('<script>');
  });

  it('keeps nested fragments and arrays of fragments as markup, drops null, undefined and false', () => {
    const items = ['<b>', 'c'].map((x) => html`<li>${x}</li>`);
    expect(
      html`<ul>
          ${items}
        </ul>
        ${null}${undefined}${false}${0}`.text.replace(/\s+/g, ''),
    ).toBe('<ul><li>&lt;b&gt;</li><li>c</li></ul>0');
  });

  it('escapes the five characters that matter and nothing else', () => {
    expect(escapeHtml(`a&b<c>d"e'f ü`)).toBe('a&amp;b&lt;c&gt;d&quot;e&#39;f ü');
  });

  it('percent-encodes each path segment', () => {
    expect(pathOf('tasks', 'a/b', '../x', 3)).toBe('/tasks/a%2Fb/..%2Fx/3');
  });
});
