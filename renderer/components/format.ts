const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export const formatTime = (ts: number) => time.format(ts);

/** ws://192.168.1.20:4000 → 192.168.1.20:4000 */
export const hostOf = (url: string) => url.replace(/^wss?:\/\//, '');

/** Error messages from the protocol are lower-case clauses; the UI shows them as sentences. */
export const sentence = (message: string) => (message ? message[0]!.toUpperCase() + message.slice(1) : message);
