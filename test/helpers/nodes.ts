// Real nodes on 127.0.0.1, port 0; every node a test starts is disconnected after it.
import { afterEach } from 'vitest';
import { ChatNode, type ChatNodeOptions } from '../../server/chat-node.js';

const started = new Set<ChatNode>();

afterEach(async () => {
  const nodes = [...started].reverse();
  started.clear();
  await Promise.all(nodes.map((n) => n.disconnect()));
});

/** For tests of something else than the rate limits that send thousands of messages at once. */
export const NO_RATE_LIMITS = { limits: { clientBurst: 1e6, clientRate: 1e6 } } as const;

export async function startNode(options: ChatNodeOptions = {}): Promise<ChatNode> {
  const node = await ChatNode.start({ port: 0, bind: '127.0.0.1', ...options });
  started.add(node);
  return node;
}

/** Options that make a new node a replica of `node`, with its invite (as `chatty host --join INVITE`). */
export function joining(node: ChatNode): Pick<ChatNodeOptions, 'join' | 'joinInvite'> {
  return { join: node.url, joinInvite: node.invite().code };
}
