// What the desktop app does for its user, without Electron: host a node, or join one (as a replica
// or as a client only), chat through the shared ChatClient, and quit cleanly (the seminar's
// `disconnect`). main.ts wires this to IPC; tests drive it directly against real nodes.
import type { Logger } from 'pino';
import type { SessionEvent, SessionInfo } from '../shared/bridge.js';
import { type ChatClient, type Credentials, credentialsFrom, type SocketFactory } from '../shared/chat-client.js';
import { ClientSession } from '../shared/client-session.js';
import type { DeviceSigner } from '../shared/device-key.js';
import { ErrorCode, fail, ok, type Result } from '../shared/errors.js';
import { fingerprintForPeople } from '../shared/auth.js';
import { CertificatePin } from '../shared/node/node-socket.js';
import { formatInvite, parseInvite } from '../shared/invite.js';
import { hostOf } from '../shared/protocol.js';
import { join } from 'node:path';
import type { ChatServer, ChatServerOptions } from '../server/chat-server.js';
import { type Hosted, type HostOptions, host } from '../server/hosting.js';
import { MEMORY } from '../server/options.js';
import { certificateFingerprint, type SecretsCodec } from '../server/set-keys.js';
import { writePrivateFile } from '../server/private-file.js';
import { readFile } from 'node:fs/promises';
import { parsePort } from '../shared/protocol.js';

/** In a replica's data folder: the port it listened on, taken again on the next join. */
const REPLICA_PORT_FILE = 'replica-port';

/** The port kept in `file`, if there is a valid one. */
async function readPort(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const port = parsePort(text.trim());
  return port.ok && port.value > 0 ? port.value : undefined;
}

export interface SessionOptions {
  /** Every SessionEvent for the UI, in order. */
  emit: (event: SessionEvent) => void;
  /** Sockets that present the server's certificate to `pin` (Node: nodeSockets). */
  sockets: (pin: CertificatePin) => SocketFactory;
  /** Interface a hosted or replica node binds. Default 0.0.0.0: buddies on the LAN can reach it. */
  bind?: string;
  /** Serve the chat page from the node's port, so a buddy can join with only a browser. Default true. */
  servePage?: boolean;
  /** Advertise a node this app runs on the LAN (the app's discovery, which its Join screen browses too). Default: not advertised. */
  lan?: HostOptions['lan'];
  /** Where the nodes this app runs keep their data (one folder per hosted port or joined set). Default: nothing kept. */
  dataDir?: string;
  /** Seals the chat's keys in those folders (Electron's safeStorage). Default: files only the user can read. */
  secretsCodec?: SecretsCodec;
  /** This device's key (docs/protocol.md § Identity), which every join proves. Default: none. */
  device?: DeviceSigner;
  logger?: Logger;
}

const NEEDS_SERVER_INVITE =
  "That is the people's invite: it lets you chat, not run a server. To run a replica, paste the chat's server invite (the host's Invite panel, under Server invite), or turn Run a replica off.";

export class ChatSession {
  #hosted: Hosted | undefined;
  #pin: CertificatePin | undefined;
  /** The server a replica this app runs joined (undefined when it hosts). */
  #joined: string | undefined;
  readonly #chat: ClientSession;

  constructor(private readonly opts: SessionOptions) {
    // One pin per join: the invite's fingerprint, or (a plain address) the first one seen.
    this.#chat = new ClientSession(
      (fingerprint) => {
        this.#pin = new CertificatePin(fingerprint);
        return opts.sockets(this.#pin);
      },
      (event) => {
        // The set re-keyed (a server was taken out): the next connections expect its new certificate.
        if (event.kind === 'frame' && event.frame.type === 'certificate') this.#pin?.repin(event.frame.fingerprint);
        opts.emit(event);
      },
      async () => opts.device,
    );
  }

  /**
   * Whether a certificate (PEM) the window met is this chat's: the one pinned at join. The window
   * fetches files over https from the chat's servers, whose certificate is self-signed.
   */
  trustsCertificate(pem: string): boolean {
    const pinned = this.#pin?.fingerprint;
    try {
      return pinned !== undefined && certificateFingerprint(pem) === pinned;
    } catch {
      return false; // not a certificate at all
    }
  }

  get node(): ChatServer | undefined {
    return this.#hosted?.node;
  }

  get client(): ChatClient | undefined {
    return this.#chat.client;
  }

  /** The chat as a client: presence and typing go straight through. */
  get chat(): ClientSession {
    return this.#chat;
  }

  /** "Host server": run a node on `port` and join it as `name`. */
  host(request: { name: string; port: number; private?: boolean }): Promise<Result<SessionInfo>> {
    this.#joined = undefined;
    return this.#start(request.name, {
      port: request.port,
      data: this.#dataFolder(request.port ? `host-${request.port}` : undefined),
      ...(request.private !== undefined ? { private: request.private } : {}),
    });
  }

  /**
   * "Join server": `address` is an invite link (or a plain address, for an open chat). With
   * `replica`, run a local node that joins the set with the invite (so the chat survives the host
   * quitting) and talk to it; without, talk to the server directly.
   */
  join(request: { name: string; address: string; replica: boolean; passphrase?: string }): Promise<Result<SessionInfo>> {
    const invite = parseInvite(request.address);
    if (!invite.ok) return Promise.resolve(invite);
    const { server, code, serverCode, fingerprint } = invite.value;
    const credentials = credentialsFrom(code, request.passphrase);
    // A server invite is for running a server of the chat; the people's invite never runs one.
    const replica = request.replica || serverCode !== undefined;
    if (!replica) return this.#start(request.name, { server, pin: fingerprint, credentials });
    if (code) return Promise.resolve(fail(ErrorCode.INVITE_INVALID, NEEDS_SERVER_INVITE));
    const folder = `replica-${hostOf(server).replace(/[^\w.-]/g, '_')}`;
    this.#joined = server;
    return this.#startReplica(request.name, { join: server, ...(serverCode ? { joinInvite: serverCode } : {}), data: this.#dataFolder(folder) }, credentials);
  }

  /**
   * A replica keeps its port (so its address, and the invites it shows, stay the same) across
   * joins of the same chat: the port is kept in its data folder. Taken meanwhile: any free one.
   */
  async #startReplica(name: string, options: ChatServerOptions & { data: string }, credentials: Credentials): Promise<Result<SessionInfo>> {
    const portFile = options.data === MEMORY ? undefined : join(options.data, REPLICA_PORT_FILE);
    const kept = portFile ? await readPort(portFile) : undefined;
    let started = kept ? await this.#start(name, { ...options, port: kept }, credentials) : undefined;
    if (!started || (!started.ok && started.error.code === ErrorCode.PORT_IN_USE)) started = await this.#start(name, { ...options, port: 0 }, credentials);
    const port = this.node?.port;
    if (started.ok && portFile && port && port !== kept) {
      try {
        writePrivateFile(portFile, `${port}\n`);
      } catch {
        // Only a convenience: the next join takes another port.
      }
    }
    return started;
  }

  /** A new invite for the chat this app's node is in; the old one lets nobody new in. */
  async newInvite(): Promise<Result<SessionInfo>> {
    const node = this.#hosted?.node;
    const client = this.#chat.client;
    if (!node || !client) return fail(ErrorCode.UNSUPPORTED, 'only a host or a replica can make a new invite');
    node.newInvite();
    return ok(this.#nodeInfo(client.name, node));
  }

  /** Take a server out of the set this app's node is in: the rest re-key (new secret, certificate, invites). */
  async revokeServer(server: string): Promise<Result<SessionInfo>> {
    const node = this.#hosted?.node;
    const client = this.#chat.client;
    if (!node || !client) return fail(ErrorCode.UNSUPPORTED, 'only a host or a replica can take a server out of the chat');
    const refused = await node.revoke(server);
    return refused ? fail(ErrorCode.BAD_INPUT, refused) : ok(this.#nodeInfo(client.name, node));
  }

  /** Free a name from its devices on every server of the set (docs/protocol.md § Identity). */
  async releaseName(name: string): Promise<Result<void>> {
    const node = this.#hosted?.node;
    if (!node) return fail(ErrorCode.UNSUPPORTED, 'only a host or a replica can release a name');
    return node.releaseName(name) ? ok(undefined) : fail(ErrorCode.BAD_INPUT, `"${name}" is not bound to any device: nothing to release`);
  }

  async send(text: string, to?: string): Promise<Result<string>> {
    return this.#chat.send(text, to);
  }

  async loadOlder(before: string): Promise<Result<void>> {
    return this.#chat.loadOlder(before);
  }

  /** Leave the chat; a node this app runs disconnects too (it tells the other servers). */
  leave(): Promise<Result<void>> {
    const hosted = this.#hosted;
    this.#hosted = undefined;
    return this.#chat.leave(async () => {
      await hosted?.stop();
    });
  }

  /** What the window shows of a node this app runs: where it is, its invite and certificate. */
  #nodeInfo(name: string, node: ChatServer): SessionInfo {
    const invite = node.invite();
    return {
      name,
      server: node.url,
      runsNode: true,
      nodeUrl: node.url,
      ...(this.#joined ? { joined: this.#joined } : {}),
      invite: formatInvite(invite),
      ...(node.admitsServers ? { serverInvite: formatInvite(node.serverInvite()) } : {}),
      ...(invite.fingerprint ? { fingerprint: fingerprintForPeople(invite.fingerprint) } : {}),
    };
  }

  #dataFolder(name: string | undefined): string {
    return this.opts.dataDir && name ? join(this.opts.dataDir, name) : MEMORY;
  }

  /** Quitting the app is the seminar's `disconnect`. */
  quit(): Promise<Result<void>> {
    return this.leave();
  }

  /** Join as `name`: a server (with its pin and credentials), or a node to run here first (host, replica). */
  async #start(
    name: string,
    target: { server: string; pin: string | undefined; credentials: Credentials } | ChatServerOptions,
    credentials: Credentials = {},
  ): Promise<Result<SessionInfo>> {
    const joined = await this.#chat.join(
      name,
      async (): Promise<Result<SessionInfo & { pin?: string; credentials?: Credentials }>> => {
        if ('server' in target && target.server) {
          return ok({ name, server: target.server, runsNode: false, pin: target.pin, credentials: target.credentials });
        }
        const { bind = '0.0.0.0', servePage, lan, logger, secretsCodec } = this.opts;
        const started = await host({ bind, servePage, logger, secretsCodec, ...(lan ? { lan } : {}), ...(target as ChatServerOptions) });
        if (!started.ok) return started;
        this.#hosted = started.value;
        const { node } = started.value;
        // This app's own node: its certificate (the set's, once joined) and its invite are known.
        const invite = node.invite();
        return ok({ ...this.#nodeInfo(name, node), pin: invite.fingerprint, credentials: { invite: invite.code, ...credentials } });
      },
      async () => {
        await this.#hosted?.stop();
        this.#hosted = undefined;
      },
    );
    if (!joined.ok) return joined;
    // The pin and the credentials stay here: the window gets what it shows — for a plain address,
    // the fingerprint trusted on first use, for the person to compare with the host's.
    const { pin: _pin, credentials: _credentials, ...info } = joined.value;
    const seen = this.#pin?.fingerprint;
    return ok({ ...info, ...(seen && !info.fingerprint ? { fingerprint: fingerprintForPeople(seen) } : {}) });
  }
}
