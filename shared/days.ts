// The local calendar day of a timestamp, one rule for the page's day headings and the terminal's
// day lines: YYYY-MM-DD (also what a <time datetime> takes for a date), or undefined for a value
// no clock can show (a server's bad clock).
export function localDay(ts: number): string | undefined {
  const date = new Date(ts);
  if (Number.isNaN(date.getTime())) return undefined;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
