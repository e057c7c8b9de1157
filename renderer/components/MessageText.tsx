// Message text is rendered as text nodes (never HTML). Web links become buttons-as-links that ask
// the bridge to open them; the main process validates before anything leaves the app. @mentions
// are marked.
const LINK = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/gi;
const MENTION = /(?<![\p{L}\p{N}_])@[\p{L}\p{N}_.-]+/gu;

export function MessageText({ text, openLink }: { text: string; openLink: (url: string) => unknown }) {
  const parts: preact.ComponentChildren[] = [];
  let last = 0;
  const plain = (from: number, to: number) => {
    const piece = text.slice(from, to);
    let at = 0;
    for (const match of piece.matchAll(MENTION)) {
      const start = match.index ?? 0;
      if (start > at) parts.push(piece.slice(at, start));
      parts.push(
        <mark key={`m${from + start}`} class="mention">
          {match[0]}
        </mark>,
      );
      at = start + match[0].length;
    }
    if (at < piece.length) parts.push(piece.slice(at));
  };
  for (const match of text.matchAll(LINK)) {
    const url = match[0];
    const at = match.index ?? 0;
    if (at > last) plain(last, at);
    parts.push(
      <a
        key={at}
        href={url}
        rel="noopener noreferrer"
        onClick={(e) => {
          e.preventDefault();
          void openLink(url);
        }}
      >
        {url}
      </a>,
    );
    last = at + url.length;
  }
  if (last < text.length) plain(last, text.length);
  return <>{parts}</>;
}
