// What people write, as the page shows it: a Markdown subset — bold, italic, code, code blocks,
// links, quotes, lists, headings, line breaks — with `:shortcode:` emoji and bare links (www. too) made links.
// A written link says where it goes. markdown-it turns it into HTML with raw HTML off (a tag someone types stays text), and DOMPurify
// then keeps only the handful of tags and the one attribute this subset makes: no hand-written
// HTML from user text anywhere.
import DOMPurify from 'dompurify';
import MarkdownIt from 'markdown-it';
import { full as emoji } from 'markdown-it-emoji';

const md = new MarkdownIt('zero', { linkify: true, breaks: true })
  .enable(['emphasis', 'backticks', 'fence', 'code', 'blockquote', 'list', 'heading', 'link', 'linkify', 'newline', 'autolink', 'escape', 'paragraph'])
  .use(emoji);
md.linkify.set({ fuzzyLink: true, fuzzyEmail: false });

// A link written as [text](address) shows where it goes after its text: "[bank.example](http://evil.example)"
// must not pass for a link to the bank. Bare links (linkify, <autolink>) show their address already.
md.renderer.rules.link_close = (tokens, idx, options, _env, self) => {
  let open = idx - 1;
  while (open >= 0 && tokens[open]!.type !== 'link_open') open--;
  const link = tokens[open];
  const closed = self.renderToken(tokens, idx, options);
  if (!link || link.markup === 'linkify' || link.markup === 'autolink') return closed;
  let host: string;
  try {
    host = new URL(String(link.attrGet('href') ?? '')).host;
  } catch {
    return closed;
  }
  return `${closed} (${md.utils.escapeHtml(host)})`;
};

const ALLOWED = {
  ALLOWED_TAGS: ['p', 'br', 'strong', 'em', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'a'],
  ALLOWED_ATTR: ['href', 'start'],
  ALLOWED_URI_REGEXP: /^https?:/i,
};

/** Sanitized HTML for a message's text (without the newline markdown-it ends blocks with). */
export function renderMarkdown(text: string): string {
  return DOMPurify.sanitize(md.render(quotesEndWithTheirLines(text)).trimEnd(), ALLOWED);
}

/**
 * In chat a `>` quotes its own line: the lines after a quote are the reply, not more of the quote
 * (Markdown's "lazy continuation" would take them in). Code blocks are left as they are.
 */
function quotesEndWithTheirLines(text: string): string {
  const lines = text.split('\n');
  let fenced = false;
  return lines
    .map((line, i) => {
      if (/^\s{0,3}(```|~~~)/.test(line)) fenced = !fenced;
      const next = lines[i + 1];
      const endsQuote = !fenced && /^\s{0,3}>/.test(line) && next !== undefined && next.trim() !== '' && !/^\s{0,3}>/.test(next);
      return endsQuote ? `${line}\n` : line;
    })
    .join('\n');
}

/** Text with nothing this subset would change: shown as a plain text node (most messages; it is much cheaper). */
export function isPlain(text: string): boolean {
  return !/[*_`[\]>:<&@\\~]|https?:|www\.|^\s{4}|^\s{0,3}([-+]|\d{1,9}[.)])\s|^\s{0,3}#{1,6}(\s|$)/m.test(text);
}

/** A few emoji for the picker, by their shortcodes (what the composer inserts). */
export const PICKER = ['smile', 'joy', 'wink', 'heart', 'thumbsup', 'tada', 'thinking', 'eyes', 'fire', 'rocket', 'coffee', 'wave'];
export const emojiOf = (shortcode: string): string => md.renderInline(`:${shortcode}:`);
