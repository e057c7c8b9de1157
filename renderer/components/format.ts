const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** A time of day; a value no clock can show (a server's bad clock) shows as "--:--", never throws. */
export const formatTime = (ts: number) => {
  const date = new Date(ts);
  return Number.isNaN(date.getTime()) ? '--:--' : time.format(date);
};

export { hostOf } from '../../shared/client-session.js';

/** Error messages from the protocol are lower-case clauses; the UI shows them as sentences. */
export const sentence = (message: string) => (message ? message[0]!.toUpperCase() + message.slice(1) : message);
