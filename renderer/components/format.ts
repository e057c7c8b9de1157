import { localDay } from '../../shared/days.js';
import { sentence } from '../../shared/errors.js';

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });
const longDay = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });

/** A date, or none for a value no clock can show (a server's bad clock): nothing here throws. */
const dateOf = (ts: number): Date | undefined => {
  const date = new Date(ts);
  return Number.isNaN(date.getTime()) ? undefined : date;
};

/** A time of day ("--:--" for a value no clock can show). */
export const formatTime = (ts: number) => {
  const date = dateOf(ts);
  return date ? time.format(date) : '--:--';
};

/** The date and time in full, for a tooltip. */
export const formatFull = (ts: number) => {
  const date = dateOf(ts);
  return date ? full.format(date) : 'an unknown time';
};

/** The machine-readable datetime of a <time>. */
export const isoOf = (ts: number): string | undefined => dateOf(ts)?.toISOString();

/** The local calendar day (YYYY-MM-DD), as a key and a <time datetime>. */
export const dayOf = (ts: number): string => localDay(ts) ?? 'unknown';

/** A day's heading: Today, Yesterday, or the date. */
export function formatDay(ts: number, now = Date.now()): string {
  const date = dateOf(ts);
  if (!date) return 'Unknown date';
  if (dayOf(ts) === dayOf(now)) return 'Today';
  const yesterday = new Date(now);
  yesterday.setDate(yesterday.getDate() - 1);
  if (dayOf(ts) === dayOf(yesterday.getTime())) return 'Yesterday';
  return longDay.format(date);
}

/** "Ann", "Ann and Bob", "Ann, Bob and Cid", "Ann, Bob, Cid and 4 others". */
export function listOfNames(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  if (names.length > 4) return `${names.slice(0, 3).join(', ')} and ${names.length - 3} others`;
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

export { hostOf } from '../../shared/protocol.js';

export { sentence };

/** A connection problem in plain words; the technical detail (codes, addresses) goes in a tooltip. */
export function plainStatus(status: 'reconnecting' | 'disconnected'): string {
  return status === 'reconnecting'
    ? 'The connection to the chat was lost. Reconnecting… what you write is sent once it is back.'
    : 'You are disconnected: no server of this chat can be reached. Go back to the start to try again.';
}

/** An error for people: what happened in plain words, and the technical detail for a tooltip. */
export function plainError(error: { code: string; message: string }): { text: string; detail?: string } {
  if (error.code === 'UNREACHABLE') {
    return { text: 'Chatty could not reach the chat. Check the address, and that the host is running and on this network.', detail: error.message };
  }
  return { text: sentence(error.message) };
}
