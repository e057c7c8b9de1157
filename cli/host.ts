// `chatty host`: run a node until Ctrl-C, which is the seminar's `disconnect`.
import { pino } from 'pino';
import { ChatNode, NodeStartError, type ChatNodeOptions } from '../electron/node/chat-node.js';
import { formatServers } from './seminar-format.js';
import { CliError } from './usage-error.js';

export async function startHost(options: ChatNodeOptions, out: NodeJS.WritableStream = process.stdout): Promise<ChatNode> {
  const logger = pino({ level: process.env.CHATTY_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  let node: ChatNode;
  try {
    node = await ChatNode.start({ ...options, logger });
  } catch (err) {
    if (err instanceof NodeStartError) {
      throw new CliError(err.code === 'PORT_IN_USE' ? `${err.message} (choose another with --port)` : err.message);
    }
    throw err;
  }
  const everywhere = options.bind === '0.0.0.0' || options.bind === '::' ? ' (all interfaces)' : '';
  out.write(`Chatty server listening on ${node.url}${everywhere}\n`);
  out.write(`${formatServers(node.servers())}\n`);
  node.on('servers', (servers) => out.write(`${formatServers(servers)}\n`));
  return node;
}

/** Disconnect cleanly on SIGINT/SIGTERM, then resolve with the exit code. */
export function untilSignal(node: ChatNode, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      node.disconnect().then(() => {
        out.write('Server disconnected\n');
        resolve(0);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
