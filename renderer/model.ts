// The UI's business model: the chat state in one signal, fed by the bridge's single subscription,
// and the actions the views call. Views stay dumb: they read signals and call these.
import { signal } from '@preact/signals';
import type { ChattyApi, SessionInfo, Settings } from '../shared/bridge.js';
import { closeSearch, conversationOf, initialState, openConversation, PUBLIC, reduce, type ChatState, type TimelineEntry } from '../shared/chat-state.js';
import { validateText } from '../shared/protocol.js';
import type { Result } from '../shared/errors.js';
import { watchAttention } from './browser-attention.js';

export type Model = ReturnType<typeof createModel>;

/** The server counts one "typing" every 2 s; the page sends no more than that. */
const TYPING_EVERY_MS = 2_000;
/** After this long without a key or a pointer, the user shows as away (and available again on the next one). */
export const IDLE_MS = 10 * 60_000;

/** Away after IDLE_MS without input, back on the next input — only when it was the idle timer that set it. */
function watchIdle(api: ChattyApi, state: () => ChatState): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let idleAway = false;
  const mine = () => state().buddies.find((b) => b.name === state().me);
  const active = () => {
    clearTimeout(timer);
    if (idleAway) {
      idleAway = false;
      void api.setStatus('available');
    }
    timer = setTimeout(() => {
      if (state().status !== 'connected' || mine()?.status === 'away') return; // set by hand: left alone
      idleAway = true;
      void api.setStatus('away');
    }, IDLE_MS);
  };
  for (const type of ['keydown', 'pointerdown', 'pointermove']) window.addEventListener(type, active, { passive: true });
  active();
}

export function createModel(api: ChattyApi) {
  const state = signal<ChatState>(initialState);
  const settings = signal<Settings | undefined>(undefined);
  /** What host/join answered: where this app is, and (when it runs a node) the invite to give people. */
  const session = signal<SessionInfo | undefined>(undefined);
  let lastTyping = 0;
  watchIdle(api, () => state.value);
  // The desktop app asks for attention from its main process; a page does it here.
  const attention = api.mode === 'browser' ? watchAttention(api, () => state.value.me) : undefined;
  const remember = (result: Result<SessionInfo>) => {
    if (result.ok) session.value = result.value;
    return result;
  };
  api.subscribe((event) => {
    state.value = reduce(state.value, event);
  });
  void api.settings().then((s) => {
    if (s.ok) settings.value = s.value;
  });

  return {
    mode: api.mode,
    state,
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
    newInvite: async () => remember(await api.newInvite()),
    openLink: (url: string) => api.openLink(url),
  };
}
