// The desktop app's session as main.ts has it, recording what it would send to the window; every
// session a test makes quits after it.
import { afterEach } from 'vitest';
import type { SessionEvent } from '../../shared/bridge.js';
import { initialState, reduce } from '../../shared/chat-state.js';
import { ChatSession } from '../../electron/session.js';
import { nodeSockets } from '../../shared/node/node-socket.js';

const sessions: ChatSession[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.quit()));
});

/** @param dataDir where its nodes keep their data (default: nothing kept) */
export function newSession(dataDir?: string) {
  const events: SessionEvent[] = [];
  const session = new ChatSession({ emit: (e) => events.push(e), sockets: nodeSockets, bind: '127.0.0.1', ...(dataDir ? { dataDir } : {}) });
  sessions.push(session);
  const state = () => events.reduce(reduce, initialState);
  return { session, events, state };
}
