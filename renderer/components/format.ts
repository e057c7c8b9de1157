const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** A time of day; a value no clock can show (a server's bad clock) shows as "--:--", never throws. */
export const formatTime = (ts: number) => {
  const date = new Date(ts);
  return Number.isNaN(date.getTime()) ? '--:--' : time.format(date);
};

export { hostOf } from '../../shared/protocol.js';

/** Error messages from the protocol are lower-case clauses; the UI shows them as sentences. */
export const sentence = (message: string) => (message ? message[0]!.toUpperCase() + message.slice(1) : message);

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
