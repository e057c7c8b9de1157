// ChattyApi in a plain browser, for a buddy who opened http://HOST:4000/ without the app: the page
// joins the server it was served from, over the browser's own WebSocket. It cannot host.
import * as v from 'valibot';
import type { ChattyApi, SessionEvent, Settings } from '../shared/bridge.js';
import { DEFAULT_PREFERENCES, parsePayload, Preferences, safeExternalUrl } from '../shared/bridge.js';
import { normalizeInviteCode } from '../shared/auth.js';
import { credentialsFrom, sessionKeyOf } from '../shared/chat-client.js';
import { ClientSession } from '../shared/client-session.js';
import { ErrorCode, fail, ok } from '../shared/errors.js';
import { browserDeviceKey } from './device-key-store.js';

const NAME_KEY = 'chatty.name';
const PREFERENCES_KEY = 'chatty.preferences';
/** In the tab's own storage: the session a reload (or a reopened tab) comes back as. */
const SESSION_KEY = 'chatty.session';
const TabSession = v.object({ name: v.string(), token: v.string() });

/** How long a join waits for this browser's device key to load. */
const DEVICE_KEY_WAIT_MS = 3_000;

/** Where this origin's tabs ask each other whether a session is theirs. */
const TABS_CHANNEL = 'chatty.sessions';
/** How long a tab waits for another to say a session is its own. */
const TABS_ANSWER_MS = 150;

/** Whether another open tab of this origin is in the session with this key right now. */
function heldByAnotherTab(tabs: BroadcastChannel | undefined, key: string): Promise<boolean> {
  if (!tabs) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), TABS_ANSWER_MS);
    const onAnswer = ({ data }: MessageEvent) => {
      if ((data as { have?: unknown })?.have === key) done(true);
    };
    const done = (held: boolean) => {
      clearTimeout(timer);
      tabs.removeEventListener('message', onAnswer);
      resolve(held);
    };
    tabs.addEventListener('message', onAnswer);
    tabs.postMessage({ ask: key });
  });
}

/** The session this tab was in, if any (damaged or foreign: none). */
function storedSession(tab: Storage): v.InferOutput<typeof TabSession> | undefined {
  try {
    const parsed = v.safeParse(TabSession, JSON.parse(tab.getItem(SESSION_KEY) ?? 'null'));
    return parsed.success ? parsed.output : undefined;
  } catch {
    return undefined;
  }
}

/** What this browser remembers of the preferences; anything damaged or foreign counts as the defaults. */
function storedPreferences(storage: Storage): Preferences {
  try {
    const parsed = v.safeParse(Preferences, JSON.parse(storage.getItem(PREFERENCES_KEY) ?? 'null'));
    return parsed.success ? parsed.output : { ...DEFAULT_PREFERENCES };
  } catch {
    return { ...DEFAULT_PREFERENCES };
  }
}

/**
 * @param storage what this browser remembers (the name, the preferences)
 * @param tab what this tab remembers across a reload: the session it is in
 */
export function createBrowserBridge(location: Location, storage: Storage, tab: Storage): ChattyApi {
  const listeners = new Set<(event: SessionEvent) => void>();
  const emit = (event: SessionEvent) => {
    // The tab keeps the session it is in (its token changes if it had to join afresh), and forgets it once out.
    if (event.kind === 'status' && event.status === 'connected' && chat.client?.resumeToken) {
      tab.setItem(SESSION_KEY, JSON.stringify({ name: chat.client.name, token: chat.client.resumeToken }));
    } else if (event.kind === 'status' && (event.status === 'idle' || event.status === 'disconnected')) tab.removeItem(SESSION_KEY);
    for (const listener of listeners) listener(event);
  };
  const server = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
  // The browser trusts certificates itself (the person accepted this host's once): no pin here.
  // This browser's device key, loaded (or made) once, before the first join needs it — but a
  // storage that never answers must not hold the join: after a few seconds it goes without one.
  const device = Promise.race([browserDeviceKey(), new Promise<undefined>((resolve) => setTimeout(resolve, DEVICE_KEY_WAIT_MS))]);
  const chat = new ClientSession(
    () => (url) => new WebSocket(url),
    emit,
    () => device,
  );
  const settingsOf = (): Settings => ({
    name: storage.getItem(NAME_KEY) ?? '',
    port: Number(location.port) || 80,
    address: server,
    replica: false,
    ...storedPreferences(storage),
  });

  const join = async (name: string, passphrase: string | undefined, resumeToken?: string) => {
    // An invite link opens this page with the invite in its fragment, which never reaches a server.
    const code = normalizeInviteCode(new URLSearchParams(location.hash.slice(1)).get('invite') ?? '');
    const credentials = credentialsFrom(code, passphrase);
    const joined = await chat.join(name, async () => ok({ name, server, runsNode: false, credentials, ...(resumeToken ? { resumeToken } : {}) }));
    if (joined.ok) storage.setItem(NAME_KEY, name);
    return joined;
  };
  // A reload, a reopened tab or a restored browser: back in as the same person, within the
  // server's grace period nobody sees a leave or a join (once the subscribers are in). A tab
  // duplicated from one still in that session copied its storage: it starts afresh instead, or the
  // two would take the session from each other by turns.
  const tabs = typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel(TABS_CHANNEL);
  tabs?.addEventListener('message', ({ data }) => {
    const key = chat.client?.sessionKey;
    if (key && (data as { ask?: unknown })?.ask === key) tabs.postMessage({ have: key });
  });
  const before = storedSession(tab);
  if (before) {
    void heldByAnotherTab(tabs, sessionKeyOf(before.token)).then((held) => {
      if (held) tab.removeItem(SESSION_KEY);
      else void join(before.name, undefined, before.token);
    });
  }

  return {
    mode: 'browser',
    host: async () => fail(ErrorCode.UNSUPPORTED, 'A browser cannot host a server: install the Chatty app for that.'),
    join: ({ name, passphrase }) => join(name, passphrase),
    send: async (text) => chat.send(text),
    sendDirect: async ({ to, text }) => chat.send(text, to),
    setStatus: async (status) => chat.setStatus(status),
    typing: async (to) => chat.typing(to),
    search: async (query) => chat.search(query),
    whois: async (name) => chat.whois(name),
    loadOlder: async (before) => chat.loadOlder(before),
    leave: () => chat.leave(),
    newInvite: async () => fail(ErrorCode.UNSUPPORTED, 'Only the app that hosts the chat can make a new invite.'),
    revokeServer: async () => fail(ErrorCode.UNSUPPORTED, 'Only the app that runs a server of the chat can take a server out of it.'),
    releaseName: async () => fail(ErrorCode.UNSUPPORTED, 'Only the app that runs a server of the chat can release a name.'),
    async openLink(url) {
      const safe = safeExternalUrl(url);
      if (safe.ok) window.open(safe.value, '_blank', 'noopener,noreferrer');
      return safe.ok ? ok(undefined) : safe;
    },
    settings: async () => ok<Settings>(settingsOf()),
    async setPreferences(preferences) {
      const valid = parsePayload(Preferences, preferences);
      if (!valid.ok) return valid;
      storage.setItem(PREFERENCES_KEY, JSON.stringify(valid.value));
      return ok(settingsOf());
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
