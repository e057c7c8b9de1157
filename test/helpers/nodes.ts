// Real nodes on 127.0.0.1, port 0; every node a test starts is disconnected after it.
import { afterEach } from 'vitest';
import { expect } from 'vitest';
import { ChatServer, type ChatServerOptions } from '../../server/chat-server.js';
import { freePort } from './ports.js';
import { TcpProxy } from './proxy.js';
import { eventually } from './waiters.js';

const started = new Set<ChatServer>();

afterEach(async () => {
  const nodes = [...started].reverse();
  started.clear();
  await Promise.all(nodes.map((n) => n.disconnect()));
});

/** For tests of something else than the rate limits that send thousands of messages at once. */
export const NO_RATE_LIMITS = { limits: { clientBurst: 1e6, clientRate: 1e6 } } as const;

export async function startNode(options: ChatServerOptions = {}): Promise<ChatServer> {
  const node = await ChatServer.start({ port: 0, bind: '127.0.0.1', ...options });
  started.add(node);
  return node;
}

/** Options that make a new node a replica of `node`, with its server invite (as `chatty host --join SERVER-INVITE`). */
export function joining(node: ChatServer): Pick<ChatServerOptions, 'join' | 'joinInvite'> {
  return { join: node.url, joinInvite: node.serverInvite().serverCode };
}

/**
 * Two linked nodes, A reached by B only through a TCP proxy the test controls — then split: the
 * proxy is cut and each side is alone. `aUrl` reaches A directly (its own clients stay with it).
 * The caller heals the proxy and closes it.
 */
export async function splitPair(): Promise<{ a: ChatServer; b: ChatServer; aUrl: string; proxy: TcpProxy }> {
  const aPort = await freePort();
  const proxy = await TcpProxy.start(aPort);
  const a = await startNode({ port: aPort, advertise: `wss://127.0.0.1:${proxy.port}` });
  const b = await startNode({ ...joining(a) });
  await eventually(() => expect(a.servers()).toHaveLength(2));
  proxy.cut();
  await eventually(() => expect(b.servers()).toEqual([b.url]));
  return { a, b, aUrl: `wss://127.0.0.1:${aPort}`, proxy };
}
