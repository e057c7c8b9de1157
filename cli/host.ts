// `chatty host`: run a node until Ctrl-C, which is the seminar's `disconnect`. Starting it, the
// page and the LAN advert are server/hosting.ts's (the app's too); this file says what happens.
import { httpBaseOf } from '../shared/files.js';
import { userInfo } from 'node:os';
import { pino } from 'pino';
import type { ChatServer } from '../server/chat-server.js';
import { type HostOptions as HostingOptions, type Hosted, host } from '../server/hosting.js';
import { fingerprintForPeople } from '../shared/auth.js';
import { ErrorCode } from '../shared/errors.js';
import { browserInviteLink, formatInvite } from '../shared/invite.js';
import { createInterface } from 'node:readline';
import { parseServerAddress } from '../shared/protocol.js';
import { formatServers } from './seminar-format.js';
import { CliError, UsageError } from './errors.js';
import { logLevelFrom } from '../server/log-level.js';

export interface HostOptions extends Omit<HostingOptions, 'lan' | 'logger' | 'servePage'> {
  /** Advertise over mDNS (as the app does) when the LAN can reach this server. Default true. */
  mdns?: boolean;
}

export async function startHost(options: HostOptions, out: NodeJS.WritableStream = process.stdout): Promise<Hosted> {
  const level = logLevelFrom();
  if (!level.ok) throw new UsageError(level.error.message);
  const logger = pino({ level: level.value }, pino.destination(2));
  const { mdns = true, ...rest } = options;
  // App users find it in their Join list, as they find each other's.
  const started = await host({ ...rest, logger, ...(mdns ? { lan: { host: () => userInfo().username } } : {}) });
  if (!started.ok) {
    const { code, message } = started.error;
    throw new CliError(code === ErrorCode.PORT_IN_USE ? `${message} (choose another with --port)` : message);
  }
  const hosted = started.value;
  const { node } = hosted;
  const everywhere = options.bind === '0.0.0.0' || options.bind === '::' ? ' (all interfaces)' : '';
  out.write(`Chatty server listening on ${node.url}${everywhere}\n`);
  printInvite(node, out);
  if (hosted.servesPage) out.write(`Chat in a browser: ${browserUrl(node)}\n`);
  out.write(`${formatServers(node.servers())}\n`);
  node.on('servers', (servers) => out.write(`${formatServers(servers)}\n`));
  node.on('keys', () => {
    out.write("The chat's invites changed (this server joined the set, or one of its servers made a new invite).\n");
    printInvite(node, out);
  });
  if (hosted.advertised) out.write('Advertised on the local network (mDNS); --no-mdns turns that off.\n');
  return hosted;
}

/** http(s)://… where a browser opens the chat of a node. */
export function browserUrl(node: ChatServer): string {
  return `${httpBaseOf(node.url)}/`;
}

/** What people join with, what more servers join with, and what to compare the certificate with. */
export function printInvite(node: ChatServer, out: NodeJS.WritableStream): void {
  const invite = node.invite();
  out.write(`Invite (${invite.private ? 'needed to join: this chat is private' : 'people may join without it'}):\n`);
  out.write(`  ${formatInvite(invite)}\n`);
  out.write(`  in a browser: ${browserInviteLink(invite)}\n`);
  out.write(`  code: ${invite.code}\n`);
  if (node.admitsServers) {
    out.write(`Server invite: ${formatInvite(node.serverInvite())}\n`);
    out.write('  (keep it for starting more servers of this chat: chatty host --join SERVER-INVITE; it is not for people)\n');
  }
  if (invite.fingerprint) out.write(`Certificate fingerprint (SHA-256): ${fingerprintForPeople(invite.fingerprint)}\n`);
  else out.write('Not encrypted (--insecure): anyone on the network can read this chat.\n');
}

/** Release a name across the set (`--release-name`, or `release NAME` typed), and say what happened. */
export function releaseName(node: ChatServer, name: string, out: NodeJS.WritableStream): void {
  if (node.releaseName(name)) out.write(`Released "${name}" on every server of the set: the next person to join as it claims it.\n`);
  else out.write(`release: "${name}" is not bound to any device here: nothing to release.\n`);
}

/**
 * What the operator types while the server runs: `servers` lists the set, `revoke ADDRESS` takes a
 * server out of it (the set re-keys: new invites are printed), `release NAME` frees a name from
 * its devices. Nothing else is read from the input.
 */
export function hostCommands(node: ChatServer, input: NodeJS.ReadableStream = process.stdin, out: NodeJS.WritableStream = process.stdout): void {
  if ((input as { isTTY?: boolean }).isTTY) {
    out.write('Type "servers" to list the servers of this chat, "revoke ADDRESS" to take one out of it, "release NAME" to free a name.\n');
  }
  const lines = createInterface({ input, terminal: false });
  lines.on('line', (line) => {
    const [command, argument] = line.trim().split(/\s+/);
    if (!command) return;
    if (command === 'servers') return void out.write(`${formatServers(node.servers())}\n`);
    if (command === 'release' && argument) return releaseName(node, line.trim().slice('release'.length).trim(), out);
    if (command !== 'revoke' || !argument) {
      return void out.write('Commands: "servers", "revoke ADDRESS" (wss://HOST:PORT or HOST:PORT), "release NAME".\n');
    }
    const address = parseServerAddress(argument);
    if (!address.ok) return void out.write(`revoke: ${address.error.message}\n`);
    void node
      .revoke(address.value)
      .then((refused) =>
        out.write(
          refused ? `revoke: ${refused}\n` : `Revoked ${address.value}: it is out of the set, and the set has new keys (give people the new invite).\n`,
        ),
      );
  });
}

/** Disconnect cleanly on SIGINT/SIGTERM, then resolve with the exit code. */
export function untilSignal(hosted: Hosted, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      hosted.stop().then(() => {
        out.write('Server disconnected\n');
        resolve(0);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
