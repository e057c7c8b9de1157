// A message's text: the Markdown subset, sanitized (markdown.ts), with @mentions marked. Links
// open only through the bridge (the main process validates before anything leaves the app).
import { useLayoutEffect, useMemo, useRef } from 'preact/hooks';
import { isPlain, renderMarkdown } from '../markdown.js';

const MENTION = /(?<![\p{L}\p{N}_])@[\p{L}\p{N}_.-]+/gu;

export function MessageText({ text, openLink }: { text: string; openLink: (url: string) => unknown }) {
  return isPlain(text) ? <>{text}</> : <Rendered text={text} openLink={openLink} />;
}

function Rendered({ text, openLink }: { text: string; openLink: (url: string) => unknown }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  const box = useRef<HTMLSpanElement>(null);
  useLayoutEffect(() => {
    if (box.current) markMentions(box.current);
  }, [html]);
  // Links are real <a> elements (keyboard and screen readers know them); a click — or Enter on
  // one — goes to the bridge instead of navigating.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const onClick = (e: MouseEvent) => {
      const link = (e.target as Element).closest('a');
      if (!link) return;
      e.preventDefault();
      void openLink(link.href);
    };
    el.addEventListener('click', onClick);
    return () => el.removeEventListener('click', onClick);
  }, [openLink]);
  return (
    <span
      ref={box}
      class="markdown"
      // Sanitized by renderMarkdown (DOMPurify, a short allow-list): never raw user HTML.
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}

/** Wrap @names in text (not in code or links) in <mark>, with DOM calls: no HTML strings. */
function markMentions(root: HTMLElement): void {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => (node.parentElement?.closest('code, pre, a') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  const texts: Text[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) texts.push(node as Text);
  for (const node of texts) {
    const value = node.data;
    const matches = [...value.matchAll(MENTION)];
    if (matches.length === 0) continue;
    const pieces = document.createDocumentFragment();
    let at = 0;
    for (const match of matches) {
      const start = match.index ?? 0;
      if (start > at) pieces.append(value.slice(at, start));
      const mark = document.createElement('mark');
      mark.className = 'mention';
      mark.textContent = match[0];
      pieces.append(mark);
      at = start + match[0].length;
    }
    if (at < value.length) pieces.append(value.slice(at));
    node.replaceWith(pieces);
  }
}
