// `chatty host`: run a node until Ctrl-C, which is the seminar's `disconnect`.
import { httpBaseOf } from '../shared/files.js';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { ChatNode, NodeStartError, StoreError, type ChatNodeOptions } from '../server/chat-node.js';
import { advertiseNode, LanDiscovery, reachableFromLan } from '../server/lan-discovery.js';
import { staticFiles } from '../server/static-files.js';
import { fingerprintForPeople } from '../shared/auth.js';
import { browserInviteLink, formatInvite } from '../shared/invite.js';
import { formatServers } from './seminar-format.js';
import { CliError } from './errors.js';

export interface HostOptions extends ChatNodeOptions {
  /** Serve the browser bundle's source maps (for debugging the page). */
  sourceMaps?: boolean;
  /** Advertise over mDNS (as the app does) when the LAN can reach this server. Default true. */
  mdns?: boolean;
}

export async function startHost(options: HostOptions, out: NodeJS.WritableStream = process.stdout): Promise<ChatNode> {
  const logger = pino({ level: process.env.CHATTY_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  let node: ChatNode | undefined;
  const ui = browserUi(options.sourceMaps, () => node?.servers() ?? []);
  try {
    node = await ChatNode.start({ ...options, logger, httpHandler: ui });
  } catch (err) {
    if (err instanceof NodeStartError) {
      throw new CliError(err.code === 'PORT_IN_USE' ? `${err.message} (choose another with --port)` : err.message);
    }
    if (err instanceof StoreError) throw new CliError(err.message);
    throw err;
  }
  const everywhere = options.bind === '0.0.0.0' || options.bind === '::' ? ' (all interfaces)' : '';
  out.write(`Chatty server listening on ${node.url}${everywhere}\n`);
  printInvite(node, out);
  if (existsSync(`${rendererDir}/app.js`)) out.write(`Chat in a browser: ${browserUrl(node)}\n`);
  out.write(`${formatServers(node.servers())}\n`);
  node.on('servers', (servers) => out.write(`${formatServers(servers)}\n`));
  node.on('keys', () => {
    out.write("The chat's invite changed (this server joined the set, or one of its servers made a new invite).\n");
    printInvite(node!, out);
  });
  if (options.mdns !== false && reachableFromLan(options.bind ?? '127.0.0.1')) {
    // App users find it in their Join list, as they find each other's.
    const discovery = new LanDiscovery();
    advertiseNode(discovery, node, () => userInfo().username, node.port!);
    out.write('Advertised on the local network (mDNS); --no-mdns turns that off.\n');
    beforeStop.set(node, () => discovery.destroy());
  }
  return node;
}

/**
 * The built renderer, served to browsers on the node's port (http://HOST:PORT/): dist/renderer,
 * seen from dist/cli (compiled) or from cli/ (tests run the sources).
 */
export const rendererDir =
  ['../renderer/', '../dist/renderer/'].map((relative) => fileURLToPath(new URL(relative, import.meta.url))).find((dir) => existsSync(`${dir}/app.js`)) ??
  fileURLToPath(new URL('../renderer/', import.meta.url));

function browserUi(sourceMaps: boolean | undefined, connectTo: () => string[]) {
  return existsSync(`${rendererDir}/app.js`) ? staticFiles(rendererDir, { sourceMaps: sourceMaps === true, connectTo }) : undefined;
}

/** http(s)://… where a browser opens the chat of a node. */
export function browserUrl(node: ChatNode): string {
  return `${httpBaseOf(node.url)}/`;
}

/** What people (and replicas) join with, and what to compare the certificate with. */
export function printInvite(node: ChatNode, out: NodeJS.WritableStream): void {
  const invite = node.invite();
  out.write(`Invite (${invite.private ? 'needed to join: this chat is private' : 'for replicas; people may join without it'}):\n`);
  out.write(`  ${formatInvite(invite)}\n`);
  out.write(`  in a browser: ${browserInviteLink(invite)}\n`);
  out.write(`  code: ${invite.code}\n`);
  if (invite.fingerprint) out.write(`Certificate fingerprint (SHA-256): ${fingerprintForPeople(invite.fingerprint)}\n`);
  else out.write('Not encrypted (--insecure): anyone on the network can read this chat.\n');
}

/** What a host does before its node disconnects: say goodbye on mDNS. */
const beforeStop = new WeakMap<ChatNode, () => Promise<void>>();

/** The seminar's `disconnect`, after the goodbyes a host owes the LAN. */
export async function stopHost(node: ChatNode): Promise<void> {
  await beforeStop.get(node)?.();
  await node.disconnect();
}

/** Disconnect cleanly on SIGINT/SIGTERM, then resolve with the exit code. */
export function untilSignal(node: ChatNode, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      stopHost(node).then(() => {
        out.write('Server disconnected\n');
        resolve(0);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
