// Text from other people reaches the terminal as text, never as commands: control characters
// (ESC sequences, carriage returns, bells) and bidi overrides are shown as visible symbols.

const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

function visible(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x20) return String.fromCodePoint(0x2400 + code); // ␛ for ESC, ␍ for CR …
  if (code === 0x7f) return '\u2421'; // ␡
  return '\uFFFD';
}

export function neutralize(text: string): string {
  return text.replace(CONTROL, visible);
}
