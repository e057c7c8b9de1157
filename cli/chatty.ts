// The `chatty` command: argument parsing and dispatch only; the work is in host.ts,
// terminal-client.ts and the node itself.
import { userInfo } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { passphraseWeakness } from '../shared/auth.js';
import { formatInvite, parseInvite } from '../shared/invite.js';
import { DEFAULT_PORT, parsePort, parseServerAddress, validateName } from '../shared/protocol.js';
import { DEFAULT_LIMITS, resolveLimits, type ServerLimits } from '../server/limits.js';
import { defaultDataFolder } from './data-folder.js';
import { electronBinary, launchDesktopApp } from './desktop.js';
import { browserUrl, hostCommands, releaseName, startHost, untilSignal } from './host.js';
import { runTerminalClient } from './terminal-client.js';
import { CliError, UsageError } from './errors.js';

const USAGE = `Usage:
  chatty host [--port ${DEFAULT_PORT}] [--bind 127.0.0.1|0.0.0.0] [--join SERVER-INVITE] [--advertise wss://HOST:PORT]
              [--private] [--passphrase] [--new-invite] [--new-server-invite] [--no-replicas] [--insecure]
              [--require-keys] [--release-name NAME]...
              [--heartbeat 10000] [--data DIR|:memory:] [--max-file-size 100M] [--allow-origin ORIGIN]...
              [--limit NAME=VALUE]... [--source-maps] [--no-mdns]
      Run a chat server; it prints the invite people join with (chatty://HOST:PORT/#invite=…&fp=…)
      and, on a line of its own, the server invite (Server invite: chatty://…#server-invite=…).
      With --join SERVER-INVITE it becomes a replica of the server that invite is from (a plain
      address works once this data folder belongs to that set); the people's invite runs no server.
      --private: people need the invite (or the passphrase) to join; --passphrase takes one from
      the CHATTY_PASSPHRASE variable. --new-invite replaces the invite (the old one stops working);
      --new-server-invite replaces the server invite. --no-replicas: no new server may join.
      While it runs, type "servers" to list the set, or "revoke ADDRESS" to take a server out of it:
      the others re-key (new secret, certificate and invites), so what it held stops working.
      A name belongs to the device that first joined as it (the app, the page and chatty client
      each keep a key). --release-name NAME (or "release NAME" typed while it runs) frees it on
      every server, for someone who lost their device. --require-keys refuses clients with no
      key (the seminar's plain join) under any name.
      --insecure serves plain http:// and ws:// (anyone on the network can read the chat).
      --advertise is the address others reach it at (default: from --bind and --port).
      --heartbeat is the ping period in ms; a server or client that misses a ping is dropped.
      --data is where the chat's history is kept, so a restarted server has it back (default: a
      folder per port in your user data folder; :memory: keeps nothing; with --port 0, nothing).
      --max-file-size is the largest file people may share through this server (K, M or G; default 100M).
      --allow-origin lets web pages from ORIGIN (like http://intranet:8080, or * for any) connect;
      by default only the pages this server and its set serve may.
      --limit changes a rate or count limit (${Object.keys(DEFAULT_LIMITS).join(', ')}),
      e.g. --limit clientRate=50.
      --source-maps serves the browser bundle's source maps.
      A server the LAN can reach (--bind 0.0.0.0) is advertised over mDNS, so the app's Join list
      shows it; --no-mdns turns that off.
      Ctrl-C disconnects it (the other servers are told).
  chatty client INVITE|HOST[:PORT] NAME [--give-up 120]
      Chat in this terminal. An invite link pins the chat's certificate; with a plain address the
      first certificate seen is trusted and shown. A private chat's passphrase: CHATTY_PASSPHRASE. Type a line to send it; type "exit" to leave. If the server goes
      away, the client moves to another server of the set (or waits for one) and goes on; it
      exits after --give-up seconds with none.
  chatty start [NAME] [--port ${DEFAULT_PORT}] [--bind 0.0.0.0] [--no-app] [--no-mdns]
      Open the desktop app. Where Electron is not installed (or with --no-app): host a server
      on the LAN (advertised over mDNS), serve the chat to browsers at https://localhost:${DEFAULT_PORT}/,
      and chat on it from this terminal.
  chatty help`;

function portFlag(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PORT;
  const port = parsePort(value);
  if (!port.ok) throw new UsageError(`--port: ${port.error.message}`);
  return port.value;
}

function parseMs(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 50) throw new UsageError(`${flag} must be a number of milliseconds (50 or more), not "${value}"`);
  return Number(value);
}

/** `--join SERVER-INVITE`: the server to join, and the server invite's code (if the link has one). */
function joinFlag(value: string | undefined): { join?: string; joinInvite?: string } {
  if (value === undefined) return {};
  const invite = parseInvite(value);
  if (!invite.ok) throw new UsageError(`--join: ${invite.error.message}`);
  if (invite.value.code) {
    throw new UsageError(
      "--join: that is the people's invite, which lets people chat. To run a server of this chat, use its server invite: the line 'Server invite:' that its host printed (in the app: Invite, then Server invite).",
    );
  }
  return { join: invite.value.server, ...(invite.value.serverCode ? { joinInvite: invite.value.serverCode } : {}) };
}

/** `--passphrase`: read from the environment (an argument would show in every user's process list). */
function passphraseFlag(wanted: boolean, env = process.env): string | undefined {
  if (!wanted) return undefined;
  const passphrase = env.CHATTY_PASSPHRASE;
  if (!passphrase) throw new UsageError('--passphrase takes the passphrase from the CHATTY_PASSPHRASE variable, which is not set');
  const weakness = passphraseWeakness(passphrase);
  if (weakness) process.stderr.write(`chatty: warning: that passphrase is easy to guess (${weakness}); anyone on the network may try it\n`);
  return passphrase;
}

function addressFlag(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const address = parseServerAddress(value);
  if (!address.ok) throw new UsageError(`${flag}: ${address.error.message}`);
  return address.value;
}

/** `--max-file-size 100M`: bytes, or K, M or G of them (powers of 1024, as file managers count). */
function sizeFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)\s*([KMG]?)(?:i?B)?$/i.exec(value.trim());
  const bytes = match ? Number(match[1]) * 1024 ** ' KMG'.indexOf((match[2] || ' ').toUpperCase()) : Number.NaN;
  if (!(bytes > 0) || !Number.isSafeInteger(bytes)) throw new UsageError(`${flag} must be a size like 100M, 512K or 1G, not "${value}"`);
  return bytes;
}

/** `--limit NAME=VALUE`, repeated: checked against the server's own list of limits. */
function parseLimits(values: string[] | undefined): Partial<ServerLimits> | undefined {
  if (!values?.length) return undefined;
  const limits: Record<string, number> = {};
  for (const entry of values) {
    const match = /^(\w+)=(\d+(?:\.\d+)?)$/.exec(entry);
    if (!match) throw new UsageError(`--limit must look like NAME=NUMBER, not "${entry}"`);
    limits[match[1]!] = Number(match[2]);
  }
  try {
    resolveLimits(limits);
  } catch (err) {
    throw new UsageError(`--limit: ${(err as Error).message}`);
  }
  return limits;
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'host': {
      const { values, positionals } = parse(rest, {
        port: { type: 'string' },
        bind: { type: 'string' },
        join: { type: 'string' },
        advertise: { type: 'string' },
        heartbeat: { type: 'string' },
        data: { type: 'string' },
        'max-file-size': { type: 'string' },
        'allow-origin': { type: 'string', multiple: true },
        limit: { type: 'string', multiple: true },
        'source-maps': { type: 'boolean' },
        private: { type: 'boolean' },
        passphrase: { type: 'boolean' },
        'new-invite': { type: 'boolean' },
        'new-server-invite': { type: 'boolean' },
        'no-replicas': { type: 'boolean' },
        insecure: { type: 'boolean' },
        'require-keys': { type: 'boolean' },
        'release-name': { type: 'string', multiple: true },
        'no-mdns': { type: 'boolean' },
      });
      if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const release = (values['release-name'] as string[] | undefined) ?? [];
      for (const name of release) {
        const valid = validateName(name);
        if (!valid.ok) throw new UsageError(`--release-name: ${valid.error.message}`);
      }
      const port = portFlag(values.port as string | undefined);
      const bind = (values.bind as string | undefined) ?? '127.0.0.1';
      const hosted = await startHost({
        port,
        bind,
        ...joinFlag(values.join as string | undefined),
        advertise: addressFlag('--advertise', values.advertise as string | undefined),
        insecure: values.insecure === true,
        requireKeys: values['require-keys'] === true,
        ...(values.private ? { private: true } : {}),
        passphrase: passphraseFlag(values.passphrase === true),
        newInvite: values['new-invite'] === true,
        newServerInvite: values['new-server-invite'] === true,
        invitedReplicas: values['no-replicas'] !== true,
        heartbeatMs: parseMs('--heartbeat', values.heartbeat as string | undefined),
        data: (values.data as string | undefined) ?? defaultDataFolder(bind, port),
        maxFileBytes: sizeFlag('--max-file-size', values['max-file-size'] as string | undefined),
        allowedOrigins: values['allow-origin'] as string[] | undefined,
        limits: parseLimits(values.limit as string[] | undefined),
        sourceMaps: values['source-maps'] === true,
        mdns: values['no-mdns'] !== true,
      });
      for (const name of release) releaseName(hosted.node, name, process.stdout);
      hostCommands(hosted.node);
      return untilSignal(hosted);
    }
    case 'client': {
      const { values, positionals } = parse(rest, { 'give-up': { type: 'string' } });
      const [url, name, extra] = positionals;
      if (!url || !name) throw new UsageError('client needs a server address and a name: chatty client HOST:PORT NAME');
      if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}" (quote a name with spaces)`);
      const giveUp = values['give-up'] as string | undefined;
      if (giveUp !== undefined && !/^\d+$/.test(giveUp)) throw new UsageError(`--give-up must be a number of seconds, not "${giveUp}"`);
      return runTerminalClient(url, name, undefined, giveUp === undefined ? {} : { giveUpMs: Number(giveUp) * 1000 });
    }
    case 'start': {
      const { values, positionals } = parse(rest, {
        port: { type: 'string' },
        bind: { type: 'string' },
        'no-app': { type: 'boolean' },
        'no-mdns': { type: 'boolean' },
      });
      const electron = values['no-app'] ? undefined : electronBinary();
      if (electron) return launchDesktopApp(electron);
      if (!values['no-app']) process.stdout.write('The desktop app needs Electron, which is not installed here: hosting Chatty for browsers instead.\n');
      const port = portFlag(values.port as string | undefined);
      const bind = (values.bind as string | undefined) ?? '0.0.0.0';
      const hosted = await startHost({ port, bind, data: defaultDataFolder(bind, port), mdns: values['no-mdns'] !== true });
      const { node } = hosted;
      process.stdout.write(`Open ${browserUrl(node).replace(/\/\/[^:/]+/, '//localhost')} here, or the address above from another machine.\n`);
      if (!process.stdin.isTTY) return untilSignal(hosted);
      const name = positionals[0] ?? userInfo().username;
      // Its own node: the invite pins the certificate this process just served (no first-use line).
      const code = await runTerminalClient(formatInvite(node.invite()), name);
      await hosted.stop();
      return code;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

export function run(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`chatty: ${err.message}\nRun "chatty help" for usage.\n`);
        process.exit(2);
      }
      if (err instanceof CliError) {
        process.stderr.write(`chatty: ${err.message}\n`);
        process.exit(1);
      }
      process.stderr.write(`chatty: unexpected failure: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
