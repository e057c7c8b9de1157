// The chat as a user sees it — buddies, servers, the timeline, the connection — computed from the
// stream of SessionEvents. A pure reducer: the renderer keeps it in a signal, tests call it
// directly, and it runs anywhere (no DOM, no Node).
import type { ConnectionStatus, DiscoveredHost, SessionEvent } from './bridge.js';
import { missingCase, type ChatError } from './errors.js';
import type { Buddy } from './protocol.js';

export type TimelineEntry =
  | { kind: 'join' | 'leave'; id: string; name: string; server: string; ts: number }
  | { kind: 'message'; id: string; name: string; server: string; ts: number; text: string; mine: boolean }
  | { kind: 'notice'; id: string; ts: number; text: string };

export interface ChatState {
  status: ConnectionStatus;
  statusDetail: string | undefined;
  me: string | undefined;
  server: string | undefined;
  servers: readonly string[];
  /** Sorted by name. */
  buddies: readonly Buddy[];
  timeline: readonly TimelineEntry[];
  hosts: readonly DiscoveredHost[];
  lastError: ChatError | undefined;
}

/** The timeline keeps this many entries; older ones scroll away for good. */
export const TIMELINE_LIMIT = 5_000;

export const initialState: ChatState = {
  status: 'idle',
  statusDetail: undefined,
  me: undefined,
  server: undefined,
  servers: [],
  buddies: [],
  timeline: [],
  hosts: [],
  lastError: undefined,
};

const byName = (a: Buddy, b: Buddy) => a.name.localeCompare(b.name) || a.server.localeCompare(b.server);

function withBuddy(buddies: readonly Buddy[], buddy: Buddy): readonly Buddy[] {
  if (buddies.some((b) => b.name === buddy.name && b.server === buddy.server)) return buddies;
  return [...buddies, buddy].sort(byName);
}

function append(timeline: readonly TimelineEntry[], entry: TimelineEntry): readonly TimelineEntry[] {
  const next = timeline.length >= TIMELINE_LIMIT ? timeline.slice(timeline.length - TIMELINE_LIMIT + 1) : timeline.slice();
  next.push(entry);
  return next;
}

let noticeSeq = 0;
const notice = (text: string): TimelineEntry => ({ kind: 'notice', id: `notice-${++noticeSeq}`, ts: Date.now(), text });

export function reduce(state: ChatState, event: SessionEvent): ChatState {
  switch (event.kind) {
    case 'hosts':
      return { ...state, hosts: event.hosts };
    case 'status': {
      const next: ChatState = { ...state, status: event.status, statusDetail: event.detail };
      if (event.status === 'disconnected' && state.status === 'connected') {
        return { ...next, buddies: [], timeline: append(state.timeline, notice(event.detail ?? 'Disconnected from the server')) };
      }
      if (event.status === 'connecting') return { ...next, lastError: undefined };
      return next;
    }
    case 'frame':
      return reduceFrame(state, event.frame);
  }
}

function reduceFrame(state: ChatState, frame: Extract<SessionEvent, { kind: 'frame' }>['frame']): ChatState {
  switch (frame.type) {
    case 'welcome':
      return {
        ...state,
        status: 'connected',
        me: frame.name,
        server: frame.server,
        servers: frame.servers,
        buddies: [...frame.buddies].sort(byName),
        timeline: [],
        lastError: undefined,
      };
    case 'join':
      return {
        ...state,
        buddies: withBuddy(state.buddies, { name: frame.name, server: frame.server }),
        timeline: append(state.timeline, { kind: 'join', id: frame.id, name: frame.name, server: frame.server, ts: frame.ts }),
      };
    case 'leave':
      return {
        ...state,
        buddies: state.buddies.filter((b) => !(b.name === frame.name && b.server === frame.server)),
        timeline: append(state.timeline, { kind: 'leave', id: frame.id, name: frame.name, server: frame.server, ts: frame.ts }),
      };
    case 'message':
      return {
        ...state,
        timeline: append(state.timeline, {
          kind: 'message',
          id: frame.id,
          name: frame.name,
          server: frame.server,
          ts: frame.ts,
          text: frame.text,
          mine: frame.name === state.me && frame.server === state.server,
        }),
      };
    case 'roster':
      return { ...state, buddies: frame.names.reduce((acc, name) => withBuddy(acc, { name, server: frame.server }), state.buddies) };
    case 'update_servers':
      return { ...state, servers: frame.servers };
    case 'exit':
      return { ...state, status: 'idle', me: undefined, buddies: [], servers: [] };
    case 'error':
      return { ...state, lastError: { code: frame.code as ChatError['code'], message: frame.message } };
    default:
      return missingCase(frame);
  }
}
