// The seminar client's transcript lines (client.erl's io:format calls).
import { formatBytes } from '../shared/files.js';
import { releasedText } from '../shared/chat-state.js';
import { localDay } from '../shared/days.js';
import { safetyNumber } from '../shared/fingerprint.js';
import type { ChatEvent, Whois } from '../shared/protocol.js';
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
    case 'release':
      return `[NAME] ${neutralize(releasedText(event.name))}`;
    case 'file': {
      const from = event.to === undefined ? `[${neutralize(event.name)}]` : `[${who(event.name)} → ${who(event.to)}]`;
      const url = fileUrl?.(event.id);
      return `${from} sent ${neutralize(event.file.name)} (${formatBytes(event.file.size)}, ${event.file.type})${url ? `: ${url}` : ''}`;
    }
  }
}

/** The answer to /whois: whose the name is, as people compare it (safety number, devices, since). */
export function formatWhois(whois: Whois): string {
  const name = neutralize(whois.name);
  if (whois.key === undefined) return `[WHOIS] "${name}" is bound to no device: whoever joins as it next claims it`;
  const devices = whois.devices === 1 ? '1 device' : `${whois.devices ?? 1} devices`;
  const since = whois.since === undefined ? '' : `, since ${localDay(whois.since) ?? 'an unknown day'}`;
  return `[WHOIS] ${name}: safety number ${safetyNumber(whois.key)} (${devices}${since})`;
}

/** Seminar: io:format("[SERVER UPDATE] ~w~n", [NewServers]). */
export function formatServers(servers: string[]): string {
  return `[SERVER UPDATE] [${servers.join(',')}]`;
}
