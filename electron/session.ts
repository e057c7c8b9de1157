// What the desktop app does for its user, without Electron: host a node, or join one (as a replica
// or as a client only), chat through the shared ChatClient, and quit cleanly (the seminar's
// `disconnect`). main.ts wires this to IPC; tests drive it directly against real nodes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { SessionEvent, SessionInfo } from '../shared/bridge.js';
import type { ChatClient, SocketFactory } from '../shared/chat-client.js';
import { ClientSession } from '../shared/client-session.js';
import { ErrorCode, fail, ok, type Result } from '../shared/errors.js';
import { parseServerAddress } from '../shared/protocol.js';
import { join } from 'node:path';
import { ChatNode, type ChatNodeOptions, NodeStartError, StoreError } from '../server/chat-node.js';
import { MEMORY } from '../server/options.js';

export interface SessionOptions {
  /** Every SessionEvent for the UI, in order. */
  emit: (event: SessionEvent) => void;
  createSocket: SocketFactory;
  /** Interface a hosted or replica node binds. Default 0.0.0.0: buddies on the LAN can reach it. */
  bind?: string;
  /** Serves the browser UI from the node's port, so a buddy can join with only a browser. */
  httpHandler?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Called when this app starts or stops running a node (LAN discovery advertises it). */
  onNode?: (node: ChatNode | undefined) => void;
  /** Where the nodes this app runs keep their data (one folder per hosted port or joined set). Default: nothing kept. */
  dataDir?: string;
  logger?: Logger;
}

export class ChatSession {
  #node: ChatNode | undefined;
  readonly #chat: ClientSession;

  constructor(private readonly opts: SessionOptions) {
    this.#chat = new ClientSession(opts.createSocket, opts.emit);
  }

  get node(): ChatNode | undefined {
    return this.#node;
  }

  get client(): ChatClient | undefined {
    return this.#chat.client;
  }

  /** "Host server": run a node on `port` and join it as `name`. */
  host(request: { name: string; port: number }): Promise<Result<SessionInfo>> {
    return this.#start(request.name, { port: request.port, data: this.#dataFolder(request.port ? `host-${request.port}` : undefined) });
  }

  /**
   * "Join server": with `replica`, run a local node that joins `address` (so the chat survives the
   * host quitting) and talk to it; without, talk to `address` directly.
   */
  join(request: { name: string; address: string; replica: boolean }): Promise<Result<SessionInfo>> {
    const address = parseServerAddress(request.address);
    if (!address.ok) return Promise.resolve(address);
    const folder = `replica-${address.value.replace(/^wss?:\/\//, '').replace(/[^\w.-]/g, '_')}`;
    return this.#start(request.name, request.replica ? { port: 0, join: address.value, data: this.#dataFolder(folder) } : address.value);
  }

  async send(text: string): Promise<Result<string>> {
    return this.#chat.send(text);
  }

  async loadOlder(before: string): Promise<Result<void>> {
    return this.#chat.loadOlder(before);
  }

  /** Leave the chat; a node this app runs disconnects too (it tells the other servers). */
  leave(): Promise<Result<void>> {
    const node = this.#node;
    this.#node = undefined;
    return this.#chat.leave(async () => {
      if (!node) return;
      await node.disconnect();
      this.opts.onNode?.(undefined);
    });
  }

  #dataFolder(name: string | undefined): string {
    return this.opts.dataDir && name ? join(this.opts.dataDir, name) : MEMORY;
  }

  /** Quitting the app is the seminar's `disconnect`. */
  quit(): Promise<Result<void>> {
    return this.leave();
  }

  /** Join `target` as `name`: a server's address, or a node to run here first (host, replica). */
  async #start(name: string, target: string | ChatNodeOptions): Promise<Result<SessionInfo>> {
    const joined = await this.#chat.join(
      name,
      async (): Promise<Result<SessionInfo>> => {
        if (typeof target === 'string') return ok({ name, server: target, runsNode: false });
        try {
          const { bind = '0.0.0.0', httpHandler, logger } = this.opts;
          const node = await ChatNode.start({ bind, httpHandler, logger, ...target });
          this.#node = node;
          return ok({ name, server: node.url, runsNode: true, nodeUrl: node.url });
        } catch (err) {
          if (err instanceof NodeStartError) return fail(err.code, err.message);
          if (err instanceof StoreError) return fail(ErrorCode.DATA_UNUSABLE, err.message);
          throw err;
        }
      },
      async () => {
        await this.#node?.disconnect();
        this.#node = undefined;
      },
    );
    if (joined.ok && this.#node) this.opts.onNode?.(this.#node);
    return joined;
  }
}
