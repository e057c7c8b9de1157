// Text from other people reaches the terminal as text, never as commands or as lines that pass
// for someone else's: control characters (ESC sequences, carriage returns, bells), bidi controls
// and line separators are shown as visible symbols, and the lines of a multi-line text after the
// first are indented, so none of them can start with "[Name]".

// C0 (but for tab and \n) and C1 controls, DEL, bidi marks, embeddings, overrides and isolates, U+2028/9.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this regex's job
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g;

function visible(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x20) return String.fromCodePoint(0x2400 + code); // ␛ for ESC, ␍ for CR …
  if (code === 0x7f) return '\u2421'; // ␡
  return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`; // <U+202E> for a bidi override
}

/** One line of text with every control made visible (a newline too: ␊). */
export function neutralize(text: string): string {
  return text.replace(CONTROL, visible).replace(/\n/g, '\u240A');
}

/**
 * A text that may span lines, after `prefix` (like "[Ann] "): the first line follows the prefix,
 * each later line is indented by as many spaces, so it reads as a continuation.
 */
export function indentLines(prefix: string, text: string): string {
  const indent = ' '.repeat(Math.max(2, [...prefix].length));
  return (
    prefix +
    text
      .split('\n')
      .map((line) => neutralize(line))
      .join(`\n${indent}`)
  );
}
