// ChattyApi in a plain browser, for a buddy who opened http://HOST:4000/ without the app: the page
// joins the server it was served from, over the browser's own WebSocket. It cannot host.
import type { ChattyApi, SessionEvent, Settings } from '../shared/bridge.js';
import { safeExternalUrl } from '../shared/bridge.js';
import type { ChatClient } from '../shared/chat-client.js';
import { ErrorCode, fail, ok, type ChatError } from '../shared/errors.js';
import { connectReporting } from '../shared/session-events.js';

const NAME_KEY = 'chatty.name';

export function createBrowserBridge(location: Location, storage: Storage): ChattyApi {
  const listeners = new Set<(event: SessionEvent) => void>();
  const emit = (event: SessionEvent) => {
    for (const listener of listeners) listener(event);
  };
  const server = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
  let client: ChatClient | undefined;

  return {
    mode: 'browser',
    host: async () => fail(ErrorCode.UNSUPPORTED, 'A browser cannot host a server: install the Chatty app for that.'),
    async join({ name }) {
      if (client?.connected) return fail(ErrorCode.ALREADY_CONNECTED, 'already in a chat: leave it first');
      emit({ kind: 'status', status: 'connecting' });
      try {
        client = await connectReporting(server, name, (url) => new WebSocket(url), emit);
      } catch (err) {
        emit({ kind: 'status', status: 'idle' });
        return { ok: false, error: err as ChatError };
      }
      storage.setItem(NAME_KEY, name);
      return ok({ name, server, runsNode: false });
    },
    send: async (text) => (client ? client.send(text) : fail(ErrorCode.NOT_JOINED, 'not in a chat')),
    async leave() {
      const leaving = client;
      client = undefined;
      if (leaving) {
        emit({ kind: 'status', status: 'leaving' });
        await leaving.leave();
      }
      emit({ kind: 'status', status: 'idle' });
      return ok(undefined);
    },
    async openLink(url) {
      const safe = safeExternalUrl(url);
      if (safe.ok) window.open(safe.value, '_blank', 'noopener,noreferrer');
      return safe.ok ? ok(undefined) : safe;
    },
    settings: async (): Promise<Settings> => ({ name: storage.getItem(NAME_KEY) ?? '', port: Number(location.port) || 80, address: server, replica: false }),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
