// The seminar client's transcript lines (client.erl's io:format calls).
import { formatBytes } from '../shared/files.js';
import type { ChatEvent } from '../shared/protocol.js';
import { indentLines, neutralize } from './terminal-text.js';

/**
 * `me`: who reads it (a direct message says "you" for them). `fileUrl`: where a shared file
 * downloads from, for this reader (files.ts); without it the line names the file only.
 */
export function formatEvent(event: ChatEvent, me?: string, fileUrl?: (eventId: string) => string | undefined): string {
  const who = (name: string) => (name === me ? 'you' : neutralize(name));
  switch (event.type) {
    case 'join':
      return `[JOIN] ${neutralize(event.name)} joined the chat`;
    case 'leave':
      return `[LEAVE] ${neutralize(event.name)} left the chat`;
    case 'message':
      return indentLines(`[${neutralize(event.name)}] `, event.text);
    case 'away':
      return `[AWAY] ${neutralize(event.name)} lost the connection (reconnecting)`;
    case 'back':
      return `[BACK] ${neutralize(event.name)} is back`;
    case 'presence':
      return `[STATUS] ${neutralize(event.name)} is ${event.status}`;
    case 'direct':
      return indentLines(`[${who(event.name)} → ${who(event.to)}] `, event.text);
    case 'file': {
      const from = event.to === undefined ? `[${neutralize(event.name)}]` : `[${who(event.name)} → ${who(event.to)}]`;
      const url = fileUrl?.(event.id);
      return `${from} sent ${neutralize(event.file.name)} (${formatBytes(event.file.size)}, ${event.file.type})${url ? `: ${url}` : ''}`;
    }
  }
}

/** Seminar: io:format("[SERVER UPDATE] ~w~n", [NewServers]). */
export function formatServers(servers: string[]): string {
  return `[SERVER UPDATE] [${servers.join(',')}]`;
}
