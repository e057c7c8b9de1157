// The UI's business model: the chat state in one signal, fed by the bridge's single subscription,
// and the actions the views call. Views stay dumb: they read signals and call these.
import { computed, effect, signal } from '@preact/signals';
import { type ChattyApi, DEFAULT_IDLE_MINUTES, DEFAULT_PREFERENCES, type Preferences, type SessionInfo, type Settings } from '../shared/bridge.js';
import {
  closeSearch,
  conversationOf,
  initialState,
  openConversation,
  PUBLIC,
  reduce,
  type ChatState,
  type TimelineEntry,
  withKnownKeys,
} from '../shared/chat-state.js';
import { validateFileName, validateText } from '../shared/protocol.js';
import { ErrorCode, fail, ok, type Result } from '../shared/errors.js';
import { downloadUrl, formatBytes, PICTURE_TYPES, THUMBNAIL_MAX_BYTES, uploadUrl } from '../shared/files.js';
import { newClientId } from '../shared/chat-client.js';
import { watchAttention } from './browser-attention.js';
import { download, save, upload } from './file-transfer.js';

/** A file going up (keyed by its upload's client id) or down (keyed by its event's id). */
export interface Transfer {
  name: string;
  direction: 'up' | 'down';
  /** 0–1. */
  progress: number;
  /** Why it stopped, for people. */
  error?: string;
}

export type Model = ReturnType<typeof createModel>;

/** The server counts one "typing" every 2 s; the page sends no more than that. */
const TYPING_EVERY_MS = 2_000;
/**
 * Away after the chosen idle minutes without input (0: never), back on the next input — only when
 * it was the idle timer that set it.
 */
function watchIdle(api: ChattyApi, state: () => ChatState, idleMinutes: () => number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let idleAway = false;
  const mine = () => state().buddies.find((b) => b.name === state().me);
  const active = () => {
    clearTimeout(timer);
    if (idleAway) {
      idleAway = false;
      void api.setStatus('available');
    }
    const minutes = idleMinutes();
    if (minutes === 0) return;
    timer = setTimeout(() => {
      if (state().status !== 'connected' || mine()?.status === 'away') return; // set by hand: left alone
      idleAway = true;
      void api.setStatus('away');
    }, minutes * 60_000);
  };
  for (const type of ['keydown', 'pointerdown', 'pointermove']) window.addEventListener(type, active, { passive: true });
  active();
  return active; // a new idle time counts from now
}

/**
 * The keys of the people the user talked with (localStorage: this browser's, for this chat's
 * origin; the app's, for its window), so a changed one is said in their conversation next time too.
 */
const KNOWN_KEYS = 'chatty.known-keys';

function knownKeys(): Record<string, string> {
  try {
    const kept = JSON.parse(window.localStorage.getItem(KNOWN_KEYS) ?? '{}') as unknown;
    if (kept === null || typeof kept !== 'object') return {};
    return Object.fromEntries(Object.entries(kept).filter(([, key]) => typeof key === 'string')) as Record<string, string>;
  } catch {
    return {}; // damaged or unavailable: nothing known
  }
}

/** What the tab keeps across a reload (sessionStorage): what was being written, and where. */
const DRAFT_KEY = 'chatty.draft';
const CONVERSATION_KEY = 'chatty.conversation';

const hasPicture = (
  entry: TimelineEntry,
): entry is TimelineEntry & { kind: 'message'; file: NonNullable<Extract<TimelineEntry, { kind: 'message' }>['file']> } =>
  entry.kind === 'message' && entry.file !== undefined && PICTURE_TYPES.has(entry.file.type) && entry.file.size <= THUMBNAIL_MAX_BYTES;

const pick = (s: Settings | undefined): Partial<Preferences> =>
  s ? { mutePublic: s.mutePublic, showJoins: s.showJoins, startAtLogin: s.startAtLogin, idleMinutes: s.idleMinutes } : {};

export function createModel(api: ChattyApi) {
  const state = signal<ChatState>(withKnownKeys(initialState, knownKeys()));
  const settings = signal<Settings | undefined>(undefined);
  /** What host/join answered: where this app is, and (when it runs a node) the invite to give people. */
  const session = signal<SessionInfo | undefined>(undefined);
  /** On narrow screens the buddy list is a drawer: open or not. */
  const drawerOpen = signal(false);
  const transfers = signal<Readonly<Record<string, Transfer>>>({});
  /** Thumbnails: object URLs of pictures fetched, by event id ('' while fetching; none after a failure, so it is tried again). */
  const pictures = signal<Readonly<Record<string, string>>>({});
  /** What cancels each transfer under way, by its key. */
  const cancels = new Map<string, AbortController>();
  /** Uploads go one after another, so files picked together arrive in the order they were picked. */
  let uploads: Promise<unknown> = Promise.resolve();
  const setTransfer = (key: string, transfer: Transfer | undefined) => {
    const { [key]: _old, ...rest } = transfers.value;
    transfers.value = transfer ? { ...rest, [key]: transfer } : rest;
  };
  let lastTyping = 0;
  const restartIdle = watchIdle(
    api,
    () => state.value,
    () => settings.value?.idleMinutes ?? DEFAULT_IDLE_MINUTES,
  );
  // The desktop app asks for attention from its main process; a page does it here.
  const attention = api.mode === 'browser' ? watchAttention(api, () => state.value.me) : undefined;
  const remember = (result: Result<SessionInfo>) => {
    if (!result.ok) return result;
    session.value = result.value;
    // What was used is remembered now: the start screen shows it after Leave.
    void api.settings().then((s) => settled(s));
    return result;
  };
  const commands = new Set<(command: 'jump' | 'search') => void>();
  // A reloaded tab comes back to the conversation it showed, with what was being written.
  const tab = window.sessionStorage;
  const draft = signal(tab.getItem(DRAFT_KEY) ?? '');
  let reopen = tab.getItem(CONVERSATION_KEY) ?? undefined;
  // Whose each person the user talks with privately is (whois), asked once a session per name.
  const asked = new Set<string>();
  const ask = (name: string | undefined) => {
    if (name === undefined || name === PUBLIC || asked.has(name) || state.value.status !== 'connected') return;
    asked.add(name);
    void api.whois(name);
  };
  api.subscribe((event) => {
    if (event.kind === 'frame' && event.frame.type === 'welcome') asked.clear();
    let next = reduce(state.value, event);
    if (reopen !== undefined && event.kind === 'frame' && event.frame.type === 'welcome') {
      if (event.frame.resumed) next = openConversation(next, reopen);
      reopen = undefined;
    }
    state.value = next;
    if (event.kind === 'command') for (const run of commands) run(event.command);
    if (event.kind === 'frame') {
      const { frame } = event;
      if ((frame.type === 'direct' || frame.type === 'file') && frame.to !== undefined) ask(frame.name === next.me ? frame.to : frame.name);
      // Someone the user knows comes (back), or their name was released: whose is it now?
      if ((frame.type === 'join' || frame.type === 'release') && next.knownKeys[frame.name] !== undefined) {
        asked.delete(frame.name);
        if (frame.type === 'join') ask(frame.name);
      }
    }
  });
  effect(() => ask(state.value.status === 'connected' ? state.value.conversation : undefined));
  const keys = computed(() => state.value.knownKeys);
  effect(() => {
    try {
      window.localStorage.setItem(KNOWN_KEYS, JSON.stringify(keys.value));
    } catch {
      // storage full or off: the next session asks again
    }
  });
  // Written when the conversation shown changes, not on every event.
  const shown = computed(() => (state.value.me === undefined ? undefined : state.value.conversation));
  effect(() => {
    if (shown.value !== undefined) tab.setItem(CONVERSATION_KEY, shown.value);
  });
  effect(() => (draft.value ? tab.setItem(DRAFT_KEY, draft.value) : tab.removeItem(DRAFT_KEY)));
  const settled = (s: Result<Settings>) => {
    if (!s.ok) return s;
    settings.value = s.value;
    attention?.setMutePublic(s.value.mutePublic);
    restartIdle();
    return s;
  };
  void api.settings().then(settled);

  return {
    mode: api.mode,
    state,
    /** What the composer holds, not sent yet (kept for the tab). */
    draft,
    settings,
    session,
    host: async (name: string, port: number, isPrivate = false) => remember(await api.host({ name, port, private: isPrivate })),
    join: async (name: string, address: string, replica: boolean, passphrase?: string) => {
      attention?.askPermission(); // on the Join click: browsers ask for permissions only on a gesture
      return remember(await api.join({ name, address, replica, ...(passphrase ? { passphrase } : {}) }));
    },
    /**
     * Sends to the conversation shown (the public chat, or a buddy). Checks the text with the
     * protocol's rule first, so an empty text never leaves the composer.
     */
    async send(text: string): Promise<Result<string>> {
      const valid = validateText(text);
      if (!valid.ok) return valid;
      const to = state.value.conversation;
      return to === PUBLIC ? api.send(text) : api.sendDirect({ to, text });
    },
    search: (query: string) => api.search(query),
    closeSearch() {
      state.value = closeSearch(state.value);
    },
    /** A search result: its conversation opens, the results close, and the message is brought into view. */
    jumpTo(entry: TimelineEntry) {
      state.value = closeSearch(openConversation(state.value, conversationOf(entry)));
      requestAnimationFrame(() => document.querySelector(`[data-id="${CSS.escape(entry.id)}"]`)?.scrollIntoView({ block: 'center' }));
    },
    /** Show the public chat (PUBLIC) or the direct messages with a buddy. */
    open(conversation: string) {
      state.value = openConversation(state.value, conversation);
      drawerOpen.value = false;
    },
    drawerOpen,
    /** What the app menu asks of the window (Go to Conversation…, Search); returns the unsubscribe. */
    onCommand(run: (command: 'jump' | 'search') => void): () => void {
      commands.add(run);
      return () => commands.delete(run);
    },
    /** The page of history before the oldest entry shown. */
    loadOlder: () => {
      const oldest = state.value.timeline.find((e) => e.kind !== 'notice' && !e.id.startsWith('pending-'));
      return oldest ? api.loadOlder(oldest.id) : Promise.resolve({ ok: true as const, value: undefined });
    },
    leave: () => api.leave(),
    setStatus: (status: 'available' | 'away') => api.setStatus(status),
    /** The user typed in the composer: tell the conversation, at most every TYPING_EVERY_MS. */
    typing() {
      const now = Date.now();
      if (now - lastTyping < TYPING_EVERY_MS) return;
      lastTyping = now;
      const to = state.value.conversation;
      void api.typing(to === PUBLIC ? undefined : to);
    },
    transfers,
    pictures,
    /**
     * Share files in the conversation shown (picked, dropped or pasted): each is checked with the
     * protocol's rules and the server's size limit first, then uploaded with its progress shown.
     */
    sendFiles(files: readonly File[]): Result<void> {
      const { files: access, me, server, conversation } = state.value;
      if (!access || !me || !server) return fail(ErrorCode.UNSUPPORTED, 'Files can be shared only while connected to a server that takes them.');
      for (const file of files) {
        const name = validateFileName(file.name);
        if (!name.ok) return fail(name.error.code, `“${file.name}”: ${name.error.message}`);
        if (file.size > access.maxBytes) {
          return fail(ErrorCode.FILE_TOO_LARGE, `“${file.name}” is ${formatBytes(file.size)}: this chat takes files up to ${formatBytes(access.maxBytes)}.`);
        }
      }
      for (const file of files) {
        const cid = newClientId();
        const to = conversation === PUBLIC ? undefined : conversation;
        const cancel = new AbortController();
        cancels.set(cid, cancel);
        setTransfer(cid, { name: file.name, direction: 'up', progress: 0 });
        const url = uploadUrl(server, me, access, { name: file.name, cid, ...(to ? { to } : {}) });
        uploads = uploads.then(async () => {
          if (cancel.signal.aborted) return;
          const done = await upload(url, file, (progress) => setTransfer(cid, { name: file.name, direction: 'up', progress }), cancel.signal);
          cancels.delete(cid);
          if (!cancel.signal.aborted) setTransfer(cid, done.ok ? undefined : { name: file.name, direction: 'up', progress: 0, error: done.error.message });
        });
      }
      return ok(undefined);
    },
    /** Fetch a shared file (progress shown on it) and hand it to the browser's downloads. */
    async downloadFile(entry: TimelineEntry): Promise<void> {
      const { files: access, me, server } = state.value;
      if (entry.kind !== 'message' || !entry.file) return;
      const { name } = entry.file;
      if (!access || !me || !server)
        return setTransfer(entry.id, { name, direction: 'down', progress: 0, error: 'Not connected: try again once the chat is back.' });
      setTransfer(entry.id, { name, direction: 'down', progress: 0 });
      const cancel = new AbortController();
      cancels.set(entry.id, cancel);
      const got = await download(
        downloadUrl(server, entry.id, me, access),
        entry.file,
        (progress) => setTransfer(entry.id, { name, direction: 'down', progress }),
        cancel.signal,
      );
      cancels.delete(entry.id);
      if (cancel.signal.aborted) return;
      if (got.ok) save(got.value, name);
      setTransfer(entry.id, got.ok ? undefined : { name, direction: 'down', progress: 0, error: got.error.message });
    },
    /** Stop an upload (not sent: nobody sees it) or a download under way. */
    cancelTransfer(key: string) {
      cancels.get(key)?.abort();
      cancels.delete(key);
      setTransfer(key, undefined);
    },
    /** Forget a failed transfer's notice. */
    dismissTransfer: (key: string) => setTransfer(key, undefined),
    /** Whether the entry's file is shown as a picture (raster types only, never SVG; not too large). */
    hasPicture,
    /** A picture's thumbnail (fetched once), once it is here. */
    picture(entry: TimelineEntry): string | undefined {
      if (!hasPicture(entry)) return undefined;
      if (entry.id in pictures.value) return pictures.value[entry.id] || undefined;
      const { files: access, me, server } = state.value;
      if (!access || !me || !server) return undefined;
      pictures.value = { ...pictures.value, [entry.id]: '' };
      const file = entry.file;
      void download(downloadUrl(server, entry.id, me, access), file, () => {}).then((got) => {
        if (got.ok) pictures.value = { ...pictures.value, [entry.id]: URL.createObjectURL(got.value) };
        else
          setTimeout(() => {
            const { [entry.id]: _failed, ...rest } = pictures.value; // tried again on the next render
            pictures.value = rest;
          }, 5_000);
      });
      return undefined;
    },
    /** Mute the public chat, or choose the idle time: kept, and applied at once. */
    setPreferences: async (patch: Partial<Preferences>) => settled(await api.setPreferences({ ...DEFAULT_PREFERENCES, ...pick(settings.value), ...patch })),
    newInvite: async () => remember(await api.newInvite()),
    revokeServer: async (server: string) => remember(await api.revokeServer(server)),
    /** Free a name from its devices on every server (this app runs one): for someone who lost their device. */
    releaseName: (name: string) => api.releaseName(name.trim()),
    openLink: (url: string) => api.openLink(url),
  };
}
