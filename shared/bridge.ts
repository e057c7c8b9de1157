// The contract between the UI and whatever runs the chat for it: the Electron main process (over
// IPC, through the preload) or, in a plain browser, a WebSocket bridge. Types, channel names and
// payload schemas live here once; preload, main and renderer all import them.
import * as v from 'valibot';
import { ErrorCode, fail, ok, type Result } from './errors.js';
import { type ClientInbound, isServerUrl, Limits, Port, Status } from './protocol.js';

/** Where the UI runs: the desktop app can host and replicate; a browser can only join its host. */
export type BridgeMode = 'desktop' | 'browser';

export type ConnectionStatus = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'leaving' | 'disconnected';

/** What the user is connected as, once host() or join() succeeded. */
export interface SessionInfo {
  name: string;
  /** The server this user's client talks to. */
  server: string;
  /** This app runs a node: it hosts, or it is a replica of another host. */
  runsNode: boolean;
  /** When this app runs a node, the address the LAN reaches it at. */
  nodeUrl?: string;
  /** When this app runs a replica: the server it joined with the server invite. */
  joined?: string;
  /** When this app runs a node: the invite link to give people (chatty://…). */
  invite?: string;
  /** When this app runs a node that admits servers: the link more servers join with (chatty://…#server-invite=…). */
  serverInvite?: string;
  /** The chat's certificate fingerprint, as people compare it (hex pairs); absent without TLS. */
  fingerprint?: string;
}

/** A host seen on the LAN (mDNS/DNS-SD `_chatty._tcp`). */
export interface DiscoveredHost {
  /** The host's display name (its user's name and machine). */
  name: string;
  url: string;
  buddies: number;
  /** The chat is private: joining needs the host's invite (or passphrase). */
  needsInvite: boolean;
}

/** Minutes without a key or a pointer before the app shows the user away, unless they choose otherwise. */
export const DEFAULT_IDLE_MINUTES = 10;

/** How the user wants the chat to behave: kept with the settings, changed from the chat screen. */
export const Preferences = v.strictObject({
  /** The public chat neither counts nor notifies; mentions and direct messages still do. */
  mutePublic: v.boolean(),
  /** Joins and leaves are lines of the public chat (collapsed when several follow each other). */
  showJoins: v.optional(v.boolean(), true),
  /** The desktop app starts when the user logs in (the browser ignores it). */
  startAtLogin: v.optional(v.boolean(), false),
  /** Away after this many idle minutes (0: never automatically). */
  idleMinutes: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(0, 'idle minutes must be 0 (never) or more'),
    v.maxValue(24 * 60, 'idle minutes must be at most a day (1440)'),
  ),
});
export type Preferences = v.InferOutput<typeof Preferences>;

export const DEFAULT_PREFERENCES: Readonly<Preferences> = Object.freeze({
  mutePublic: false,
  showJoins: true,
  startAtLogin: false,
  idleMinutes: DEFAULT_IDLE_MINUTES,
});

export interface Settings extends Preferences {
  name: string;
  port: number;
  address: string;
  replica: boolean;
  /** The app said once where it went when its window was closed (to the tray). */
  closeNoticeShown?: boolean;
}

/** Everything the UI hears, in order, through one subscription. */
export type SessionEvent =
  | { kind: 'frame'; frame: ClientInbound }
  | { kind: 'status'; status: ConnectionStatus; detail?: string }
  /** The user sent `text`; it shows as pending until the server's event with this `cid` arrives. */
  | { kind: 'pending'; cid: string; text: string; to?: string }
  /** These sends never reached a server (the chat was lost for good). */
  | { kind: 'failed'; cids: string[] }
  | { kind: 'hosts'; hosts: DiscoveredHost[] }
  /** The app menu asked for something the window does (Go to Conversation…, Search). */
  | { kind: 'command'; command: 'jump' | 'search' };

/** The API the preload exposes as `window.chatty` (and the browser bridge implements). */
export interface ChattyApi {
  readonly mode: BridgeMode;
  host(request: HostRequest): Promise<Result<SessionInfo>>;
  join(request: JoinRequest): Promise<Result<SessionInfo>>;
  /** Resolves with the send's client id (the timeline shows it pending until the server has it). */
  send(text: string): Promise<Result<string>>;
  /** A direct message: to that buddy only. Resolves with the send's client id, as send does. */
  sendDirect(request: DirectRequest): Promise<Result<string>>;
  /** Presence by hand (or after the user is idle): everyone sees it. */
  setStatus(status: v.InferOutput<typeof Status>): Promise<Result<void>>;
  /** The user is typing in the public chat, or (`to`) to one buddy. */
  typing(to?: string): Promise<Result<void>>;
  /** Full-text search; the answer arrives as a `search_results` frame. */
  search(query: string): Promise<Result<void>>;
  /** Whom a name belongs to (its safety number); the answer arrives as a `whois` frame. */
  whois(name: string): Promise<Result<void>>;
  /** Ask for the page of history before the event `before`; it arrives as a `history` frame. */
  loadOlder(before: string): Promise<Result<void>>;
  leave(): Promise<Result<void>>;
  /** Replace the invite of the chat this app's node is in (every server of the set takes it); answers the new session info. */
  newInvite(): Promise<Result<SessionInfo>>;
  /** Take a server out of the set this app's node is in (the rest re-key: new invites); answers the new session info. */
  revokeServer(server: string): Promise<Result<SessionInfo>>;
  /** Free a name from its devices on every server of the set (for someone who lost theirs): this app's node must run a server. */
  releaseName(name: string): Promise<Result<void>>;
  /** Links in messages open only through here, after validation. */
  openLink(url: string): Promise<Result<void>>;
  /** The remembered name, port, address and replica choice, and the preferences (defaults the first time). */
  settings(): Promise<Result<Settings>>;
  /** Keep new preferences (and apply them: muting is the notifier's business); answers all settings. */
  setPreferences(preferences: Preferences): Promise<Result<Settings>>;
  subscribe(listener: (event: SessionEvent) => void): () => void;
}

/** The ChattyApi methods that cross IPC as request → result calls. */
export type InvokeMethod = Exclude<keyof ChattyApi, 'mode' | 'subscribe'>;

/** IPC channel names: one constant per invoke method, and one for events; main checks them first. */
export const Channel = {
  host: 'chatty:host',
  join: 'chatty:join',
  send: 'chatty:send',
  sendDirect: 'chatty:send-direct',
  setStatus: 'chatty:set-status',
  typing: 'chatty:typing',
  search: 'chatty:search',
  whois: 'chatty:whois',
  loadOlder: 'chatty:load-older',
  leave: 'chatty:leave',
  newInvite: 'chatty:new-invite',
  revokeServer: 'chatty:revoke-server',
  releaseName: 'chatty:release-name',
  openLink: 'chatty:open-link',
  settings: 'chatty:settings',
  setPreferences: 'chatty:set-preferences',
  /** main → renderer: SessionEvent */
  event: 'chatty:event',
} as const satisfies Record<InvokeMethod | 'event', string>;

export type InvokeChannel = (typeof Channel)[InvokeMethod];

/** What an invoke method answers: always a Result. */
export type ResultOf<M extends InvokeMethod> = Awaited<ReturnType<ChattyApi[M]>>;

/**
 * Main's side of the contract, derived from ChattyApi: one handler per channel, taking the
 * untrusted payload (parsed before use) and answering exactly what the API method promises.
 */
export type InvokeHandlers = { [M in InvokeMethod as (typeof Channel)[M]]: (payload: unknown) => Promise<ResultOf<M>> };

// --- payload schemas: IPC payloads are parsed, never cast

const Name = v.pipe(v.string(), v.minLength(1), v.maxLength(200));

/** `private`: people need the invite to join (the app shows it). */
export const HostRequest = v.strictObject({ name: Name, port: Port, private: v.optional(v.boolean()) });
export const JoinRequest = v.strictObject({
  name: Name,
  /** An invite link (chatty://HOST:PORT/#invite=…&fp=…), or wss://HOST:PORT, HOST:PORT or HOST (port 4000). */
  address: v.pipe(v.string(), v.minLength(1), v.maxLength(Limits.URL_MAX_CHARS)),
  /** A private chat's invite code or passphrase, for people who have that rather than the invite link. */
  passphrase: v.optional(v.pipe(v.string(), v.maxLength(1024))),
  /** Run a local replica that joins the address (the chat survives the host quitting). */
  replica: v.boolean(),
});
export const SendRequest = v.pipe(v.string(), v.maxLength(Limits.TEXT_MAX_CHARS * 2));
export const DirectRequest = v.strictObject({ to: Name, text: SendRequest });
export const StatusRequest = Status;
export const TypingRequest = v.optional(Name);
export const SearchRequest = v.pipe(v.string(), v.maxLength(200));
export const WhoisRequest = Name;
export const ReleaseNameRequest = Name;
export const LoadOlderRequest = v.pipe(v.string(), v.minLength(1), v.maxLength(64));
export const OpenLinkRequest = v.pipe(v.string(), v.maxLength(Limits.URL_MAX_CHARS));
export const RevokeRequest = v.pipe(v.string(), v.maxLength(Limits.URL_MAX_CHARS), v.check(isServerUrl, 'must be a server address like wss://HOST:PORT'));

export type HostRequest = v.InferOutput<typeof HostRequest>;
export type JoinRequest = v.InferOutput<typeof JoinRequest>;
export type DirectRequest = v.InferOutput<typeof DirectRequest>;

/** Parse an untrusted payload; a bad one becomes an error result, never an exception. */
export function parsePayload<S extends v.GenericSchema>(schema: S, payload: unknown): Result<v.InferOutput<S>> {
  const r = v.safeParse(schema, payload);
  if (r.success) return ok(r.output);
  const issue = r.issues[0];
  const where = issue.path?.map((p) => String(p.key)).join('.') ?? 'request';
  return fail(ErrorCode.BAD_INPUT, `invalid ${where}: ${issue.message}`);
}

/** Only web links leave the app, and only through the system browser. */
export function safeExternalUrl(input: string): Result<string> {
  try {
    const url = new URL(input);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password) return ok(url.href);
  } catch {
    // fall through
  }
  return fail(ErrorCode.BAD_INPUT, 'only http and https links can be opened');
}
