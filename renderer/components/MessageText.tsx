// Message text is rendered as text nodes (never HTML). Web links become buttons-as-links that ask
// the bridge to open them; the main process validates before anything leaves the app.
const LINK = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/gi;

export function MessageText({ text, openLink }: { text: string; openLink: (url: string) => unknown }) {
  const parts: preact.ComponentChildren[] = [];
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    const url = match[0];
    const at = match.index ?? 0;
    if (at > last) parts.push(text.slice(last, at));
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
  if (last < text.length) parts.push(text.slice(last));
  return <>{parts}</>;
}
