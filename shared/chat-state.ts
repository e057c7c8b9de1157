// The chat as a user sees it — buddies, servers, the timeline, the connection — computed from the
// stream of SessionEvents. A pure reducer: the renderer keeps it in a signal, tests call it
// directly, and it runs anywhere (no DOM, no Node).
//
// The timeline is in the set's order — (clock, origin), the order every server agrees on — so
// events that arrive late (backfilled after a split, a page of older history) take their place,
// and every client shows the same conversation. An event is shown once: by id, and a message
// also by its sender's client id (a resend through another server is the same message).
//
// Only events of the set's history are lines — messages, files, joins and leaves — so a fresh
// client's history and a live timeline read the same. Who is connected, away or reconnecting
// right now is state, shown on the buddy: a lost connection (`away`, `back`) and a server's own
// notice about its peer's buddies (that server's view, in no shared order) change the buddy list only.
import type { ConnectionStatus, DiscoveredHost, SessionEvent } from './bridge.js';
import { type ChatError, missingCase, sentence } from './errors.js';
import { safetyNumber } from './fingerprint.js';
import { type Buddy, buddiesOf, type ChatEvent, type FileInfo, batchEvents, isNotice, type Welcome, type Whois } from './protocol.js';

/** Where an entry stands in the set's order. Client-side entries (notices, pending sends) go last. */
interface Order {
  clock: number;
  origin: string;
}

export type TimelineEntry = Order &
  (
    | { kind: 'join' | 'leave'; id: string; name: string; server: string; ts: number }
    | {
        kind: 'message';
        id: string;
        name: string;
        server: string;
        ts: number;
        text: string;
        mine: boolean;
        cid?: string;
        pending?: 'sending' | 'failed';
        /** Why it was not sent (the server's words), when it says. */
        failure?: string;
        /** A direct message: the other person of the conversation (absent: the public chat). */
        with?: string;
        /** Someone else's text that says @ and the user's name. */
        mentionsMe?: boolean;
        /** A shared file (the text is then empty): fetched over HTTP (files.ts). */
        file?: FileInfo;
      }
    | {
        kind: 'notice';
        id: string;
        ts: number;
        text: string;
        /** Shown in the conversation with this buddy (absent: the public chat). */
        with?: string;
      }
  );

/** Whom a name belongs to, as the server answered `whois` (§ Identity); empty when it is bound to nobody. */
export interface Person {
  /** The device key that claimed the name, and the safety number made from it. */
  key?: string;
  safetyNumber?: string;
  devices?: number;
  since?: number;
}

export interface BuddyView extends Buddy {
  /** Its connection dropped; it may be back soon. */
  away?: boolean;
}

/** The events that are lines of the timeline (the rest is state: see the top of this file). */
const isLine = (event: ChatEvent): event is Exclude<ChatEvent, { type: 'away' | 'back' | 'presence' }> =>
  event.type !== 'away' && event.type !== 'back' && event.type !== 'presence' && !isNotice(event);

/** Someone typing: in the public chat, or (`to`) to the user; shown for TYPING_SHOWN_MS after `at`. */
export interface Typing {
  to?: string;
  at: number;
}

/** How long "typing…" shows after the last sign of it. */
export const TYPING_SHOWN_MS = 5_000;

export interface ChatState {
  status: ConnectionStatus;
  statusDetail: string | undefined;
  me: string | undefined;
  server: string | undefined;
  servers: readonly string[];
  /** Sorted by name. */
  buddies: readonly BuddyView[];
  timeline: readonly TimelineEntry[];
  /** Older history exists on the server than the first entry (the UI offers to load it). */
  hasOlder: boolean;
  hosts: readonly DiscoveredHost[];
  lastError: ChatError | undefined;
  /** The conversation shown: a buddy's name for direct messages, or PUBLIC. */
  conversation: string;
  /** Messages that came while their conversation was not shown, by conversation. */
  unread: Readonly<Record<string, number>>;
  /** Who is typing, by name. */
  typing: Readonly<Record<string, Typing>>;
  /** The last search's answer (messages, best first), until it is closed. */
  search: { query: string; results: readonly TimelineEntry[] } | undefined;
  /** What this session's uploads and downloads carry (the welcome gives it); absent from older servers. */
  files: Welcome['files'];
  /** Whom names belong to, as this session asked (`whois`). */
  people: Readonly<Record<string, Person>>;
  /**
   * The key each person the user talked with had when last seen (the front end keeps it between
   * sessions: withKnownKeys): a different one is said in that conversation, as Signal does.
   */
  knownKeys: Readonly<Record<string, string>>;
}

/** Whether `text` mentions `name`: an @ and the name (any case), not followed by more of a word. */
export function mentions(text: string, name: string): boolean {
  const lower = text.toLowerCase();
  const wanted = `@${name.toLowerCase()}`;
  for (let at = lower.indexOf(wanted); at !== -1; at = lower.indexOf(wanted, at + 1)) {
    const after = lower.slice(at + wanted.length, at + wanted.length + 1);
    if (!/[\p{L}\p{N}_]/u.test(after)) return true;
  }
  return false;
}

/** The public chat's key among conversations (no name is empty). */
export const PUBLIC = '';

/** The timeline keeps this many entries; older ones scroll away (and can be loaded again). */
export const TIMELINE_LIMIT = 5_000;

export const initialState: ChatState = {
  status: 'idle',
  statusDetail: undefined,
  me: undefined,
  server: undefined,
  servers: [],
  buddies: [],
  timeline: [],
  hasOlder: false,
  hosts: [],
  lastError: undefined,
  conversation: PUBLIC,
  unread: {},
  typing: {},
  search: undefined,
  files: undefined,
  people: {},
  knownKeys: {},
};

/** The keys the user saw before (what the front end kept), merged under this session's. */
export const withKnownKeys = (state: ChatState, known: Readonly<Record<string, string>>): ChatState => ({
  ...state,
  knownKeys: { ...known, ...state.knownKeys },
});

/** Close the search results. */
export const closeSearch = (state: ChatState): ChatState => ({ ...state, search: undefined });

/** Which conversation an entry belongs to. */
export const conversationOf = (entry: TimelineEntry): string =>
  (entry.kind === 'message' || entry.kind === 'notice') && entry.with !== undefined ? entry.with : PUBLIC;

/** Show a conversation (the public chat or one with a buddy); its unread count is cleared. */
export function openConversation(state: ChatState, conversation: string): ChatState {
  const { [conversation]: _read, ...unread } = state.unread;
  return { ...state, conversation, unread };
}

/** A live message for a conversation that is not shown adds to its unread count (one's own never do). */
function countUnread(state: ChatState, entry: TimelineEntry): ChatState {
  const conversation = conversationOf(entry);
  if (entry.kind !== 'message' || entry.mine || conversation === state.conversation) return state;
  return { ...state, unread: { ...state.unread, [conversation]: (state.unread[conversation] ?? 0) + 1 } };
}

const byName = (a: Buddy, b: Buddy) => a.name.localeCompare(b.name) || a.server.localeCompare(b.server);

function withBuddy(buddies: readonly BuddyView[], buddy: BuddyView): readonly BuddyView[] {
  return [...buddies.filter((b) => b.name !== buddy.name), buddy].sort(byName);
}

/** Client-side entries sort after every event the client has (they happened "now"). */
const LOCAL_ORIGIN = '\uffff';

const compare = (a: Order, b: Order) => a.clock - b.clock || (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0);

function entryOf(event: Exclude<ChatEvent, { type: 'away' | 'back' | 'presence' }>, state: ChatState): TimelineEntry {
  const base = { id: event.id, name: event.name, server: event.server, ts: event.ts, clock: event.clock, origin: event.origin };
  const mine = event.name === state.me;
  if (event.type === 'file') {
    const direct = event.to !== undefined ? { with: mine ? event.to : event.name } : {};
    return { kind: 'message', ...base, text: '', mine, file: event.file, ...(event.cid ? { cid: event.cid } : {}), ...direct };
  }
  if (event.type === 'release') return { kind: 'notice', id: event.id, ts: event.ts, clock: event.clock, origin: event.origin, text: releasedText(event.name) };
  if (event.type !== 'message' && event.type !== 'direct') return { kind: event.type, ...base };
  const direct = event.type === 'direct' ? { with: mine ? event.to : event.name } : {};
  const mention = !mine && state.me !== undefined && mentions(event.text, state.me) ? { mentionsMe: true } : {};
  return { kind: 'message', ...base, text: event.text, mine, ...(event.cid ? { cid: event.cid } : {}), ...direct, ...mention };
}

/** A `whois` answer: the person as the server has them; a key other than the one the user saw before is said in their conversation. */
function learnWhois(state: ChatState, whois: Whois): ChatState {
  const { name, key, devices, since } = whois;
  const person: Person =
    key === undefined ? {} : { key, safetyNumber: safetyNumber(key), ...(devices !== undefined ? { devices } : {}), ...(since !== undefined ? { since } : {}) };
  const next = { ...state, people: { ...state.people, [name]: person } };
  if (key === undefined) return next;
  const before = state.knownKeys[name];
  const learnt = { ...next, knownKeys: { ...state.knownKeys, [name]: key } };
  if (before === undefined || before === key) return learnt;
  const notice = local(learnt, { kind: 'notice', text: keyChangedText(name, person.safetyNumber!), with: name });
  return { ...learnt, timeline: place(learnt.timeline, [notice]) };
}

/** What the conversation says when a person's key changed (the app, the page). */
export const keyChangedText = (name: string, safety: string) =>
  `${name}'s safety number has changed: the name was released and claimed by another device. Before you trust it, compare the new one with ${name} in person: ${safety}`;

/** What a `release` says to people (the app, the page and the terminal alike). */
export const releasedText = (name: string) => `The host released the name "${name}": the next person to join as it claims it`;

function withoutStatus({ status: _status, ...buddy }: BuddyView): BuddyView {
  return buddy;
}

/** Put events in their place: in order, once each; a message's confirmed copy replaces its pending one. */
function place(timeline: readonly TimelineEntry[], entries: TimelineEntry[]): readonly TimelineEntry[] {
  let next = timeline.slice();
  for (const entry of entries) {
    if (next.some((e) => e.id === entry.id)) continue;
    if (entry.kind === 'message' && entry.cid) {
      const twin = next.findIndex((e) => e.kind === 'message' && e.cid === entry.cid && e.name === entry.name);
      if (twin !== -1) {
        const other = next[twin]!;
        // Pending (client-side) or later in the set's order: this copy takes its place.
        if (other.kind === 'message' && !other.pending && compare(other, entry) < 0) continue;
        next.splice(twin, 1);
      }
    }
    let at = next.length;
    while (at > 0 && compare(next[at - 1]!, entry) > 0) at--;
    next.splice(at, 0, entry);
  }
  if (next.length > TIMELINE_LIMIT) next = next.slice(next.length - TIMELINE_LIMIT);
  return next;
}

/** The newest clock in the timeline: client-side entries are placed after it. */
const lastClock = (timeline: readonly TimelineEntry[]) => timeline.reduce((max, e) => (e.origin.startsWith(LOCAL_ORIGIN) ? max : Math.max(max, e.clock)), 0);

let localSeq = 0;
function local(
  state: ChatState,
  entry: { kind: 'notice'; text: string; with?: string } | { kind: 'pending'; cid: string; text: string; to?: string },
): TimelineEntry {
  const order = { clock: lastClock(state.timeline), origin: `${LOCAL_ORIGIN}${String(++localSeq).padStart(10, '0')}` };
  if (entry.kind === 'notice') {
    return { kind: 'notice', id: `notice-${localSeq}`, ts: Date.now(), text: entry.text, ...(entry.with !== undefined ? { with: entry.with } : {}), ...order };
  }
  return {
    kind: 'message',
    id: `pending-${entry.cid}`,
    cid: entry.cid,
    name: state.me ?? '',
    server: state.server ?? '',
    ts: Date.now(),
    text: entry.text,
    mine: true,
    pending: 'sending',
    ...(entry.to !== undefined ? { with: entry.to } : {}),
    // Not confirmed yet, it has no place in the set's order: it stays last until its event comes.
    clock: Number.POSITIVE_INFINITY,
    origin: order.origin,
  };
}

export function reduce(state: ChatState, event: SessionEvent): ChatState {
  switch (event.kind) {
    case 'hosts':
      return { ...state, hosts: event.hosts };
    case 'command':
      return state; // the window acts on it (ChatScreen); nothing of the chat changes
    case 'status': {
      const next: ChatState = { ...state, status: event.status, statusDetail: event.detail };
      if (event.status === 'disconnected' && state.status !== 'disconnected' && state.me !== undefined) {
        return {
          ...next,
          buddies: [],
          timeline: place(state.timeline, [local(state, { kind: 'notice', text: event.detail ?? 'Disconnected from the server' })]),
        };
      }
      if (event.status === 'connecting') return { ...next, lastError: undefined };
      return next;
    }
    case 'pending':
      return {
        ...state,
        timeline: place(state.timeline, [
          local(state, { kind: 'pending', cid: event.cid, text: event.text, ...(event.to !== undefined ? { to: event.to } : {}) }),
        ]),
      };
    case 'failed':
      return {
        ...state,
        timeline: state.timeline.map((e) => (e.kind === 'message' && e.pending && e.cid && event.cids.includes(e.cid) ? { ...e, pending: 'failed' } : e)),
      };
    case 'frame':
      return reduceFrame(state, event.frame);
  }
}

function reduceAll(state: ChatState, frames: readonly ClientFrame[]): ChatState {
  return frames.reduce(reduceFrame, state);
}

type ClientFrame = Extract<SessionEvent, { kind: 'frame' }>['frame'];

function reduceFrame(state: ChatState, frame: Extract<SessionEvent, { kind: 'frame' }>['frame']): ChatState {
  switch (frame.type) {
    case 'welcome': {
      const common = {
        ...state,
        status: 'connected' as const,
        statusDetail: undefined,
        me: frame.name,
        server: frame.server,
        servers: frame.servers,
        buddies: buddiesOf(frame).sort(byName),
        lastError: undefined,
        files: frame.files,
      };
      // A resumed session goes on where it was; a new one starts from the history that follows.
      return frame.resumed
        ? common
        : { ...common, timeline: state.timeline.filter((e) => e.kind === 'message' && e.pending), hasOlder: false, conversation: PUBLIC, unread: {} };
    }
    case 'history':
      return {
        ...state,
        // Presence in history is the past: the welcome (and live events) say who is away now.
        timeline: place(
          state.timeline,
          frame.events.filter(isLine).map((e) => entryOf(e, state)),
        ),
        hasOlder: frame.page || state.timeline.length === 0 ? frame.more : state.hasOlder,
      };
    case 'join':
    case 'back':
      return {
        ...state,
        buddies: withBuddy(state.buddies, { name: frame.name, server: frame.server }),
        timeline: isLine(frame) ? place(state.timeline, [entryOf(frame, state)]) : state.timeline,
      };
    case 'away':
      return { ...state, buddies: state.buddies.map((b) => (b.name === frame.name ? { ...b, away: true } : b)) };
    case 'leave':
      return {
        ...state,
        buddies: state.buddies.filter((b) => !(b.name === frame.name && b.server === frame.server)),
        timeline: isLine(frame) ? place(state.timeline, [entryOf(frame, state)]) : state.timeline,
      };
    case 'release':
      return { ...state, timeline: place(state.timeline, [entryOf(frame, state)]) };
    case 'message':
    case 'direct':
    case 'file': {
      const entry = entryOf(frame, state);
      const known = state.timeline.some((e) => e.id === entry.id);
      const { [frame.name]: _done, ...typing } = state.typing; // the text came: no more "typing…"
      const next = { ...state, timeline: place(state.timeline, [entry]), typing };
      return known ? next : countUnread(next, entry);
    }
    case 'presence':
      return {
        ...state,
        buddies: state.buddies.map((b) => (b.name !== frame.name ? b : frame.status === 'away' ? { ...b, status: 'away' as const } : withoutStatus(b))),
      };
    case 'is_typing':
      return { ...state, typing: { ...state.typing, [frame.name]: { ...(frame.to ? { to: frame.to } : {}), at: Date.now() } } };
    case 'roster':
      return { ...state, buddies: frame.names.reduce((acc, name) => withBuddy(acc, { name, server: frame.server }), state.buddies) };
    case 'update_servers':
      return { ...state, servers: frame.servers };
    case 'exit':
      return {
        ...state,
        status: 'idle',
        statusDetail: undefined,
        me: undefined,
        buddies: [],
        servers: [],
        conversation: PUBLIC,
        unread: {},
        files: undefined,
        people: {},
      };
    case 'error': {
      // A refused send is marked on the message itself, with the reason; other errors show by the composer.
      const { cid } = frame;
      if (cid === undefined) return { ...state, lastError: { code: frame.code as ChatError['code'], message: frame.message } };
      const failure = sentence(frame.message);
      return {
        ...state,
        timeline: state.timeline.map((e) => (e.kind === 'message' && e.pending && e.cid === cid ? { ...e, pending: 'failed', failure } : e)),
      };
    }
    case 'search_results':
      return {
        ...state,
        search: { query: frame.query, results: frame.events.filter(isLine).map((e) => entryOf(e, state)) },
      };
    case 'batch':
      return frame.names.length ? reduceAll(state, batchEvents(frame)) : state; // the client hands them one by one; this is for a raw feed
    case 'whois':
      return learnWhois(state, frame);
    case 'ack':
    case 'pong':
    case 'certificate': // the front end's pin takes it (the session, the terminal client)
    case 'hello': // the client answers these itself (chat-client.ts)
    case 'auth_ok':
      return state;
    default:
      return missingCase(frame);
  }
}
