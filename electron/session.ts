// What the desktop app does for its user, without Electron: host a node, or join one (as a replica
// or as a client only), chat through the shared ChatClient, and quit cleanly (the seminar's
// `disconnect`). main.ts wires this to IPC; tests drive it directly against real nodes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { SessionEvent, SessionInfo } from '../shared/bridge.js';
import type { ChatClient, SocketFactory } from '../shared/chat-client.js';
import { connectReporting } from '../shared/session-events.js';
import { ErrorCode, fail, ok, type ChatError, type Result } from '../shared/errors.js';
import { parseServerAddress, validateName } from '../shared/protocol.js';
import { ChatNode, NodeStartError } from '../server/chat-node.js';

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
  logger?: Logger;
}

export class ChatSession {
  #node: ChatNode | undefined;
  #client: ChatClient | undefined;
  #busy = false;

  constructor(private readonly opts: SessionOptions) {}

  get node(): ChatNode | undefined {
    return this.#node;
  }

  get client(): ChatClient | undefined {
    return this.#client;
  }

  /** "Host server": run a node on `port` and join it as `name`. */
  host(request: { name: string; port: number }): Promise<Result<SessionInfo>> {
    return this.#start(request.name, async () => {
      const node = await ChatNode.start({
        port: request.port,
        bind: this.opts.bind ?? '0.0.0.0',
        httpHandler: this.opts.httpHandler,
        logger: this.opts.logger,
      });
      return { node, server: node.url };
    });
  }

  /**
   * "Join server": with `replica`, run a local node that joins `address` (so the chat survives the
   * host quitting) and talk to it; without, talk to `address` directly.
   */
  join(request: { name: string; address: string; replica: boolean }): Promise<Result<SessionInfo>> {
    const address = parseServerAddress(request.address);
    if (!address.ok) return Promise.resolve(address);
    return this.#start(request.name, async () => {
      if (!request.replica) return { node: undefined, server: address.value };
      const node = await ChatNode.start({
        port: 0,
        bind: this.opts.bind ?? '0.0.0.0',
        join: address.value,
        httpHandler: this.opts.httpHandler,
        logger: this.opts.logger,
      });
      return { node, server: node.url };
    });
  }

  async send(text: string): Promise<Result<void>> {
    if (!this.#client) return fail(ErrorCode.NOT_JOINED, 'not in a chat');
    return this.#client.send(text);
  }

  /** Leave the chat; a node this app runs disconnects too (it tells the other servers). */
  async leave(): Promise<Result<void>> {
    const client = this.#client;
    const node = this.#node;
    this.#client = undefined;
    this.#node = undefined;
    if (client) {
      this.opts.emit({ kind: 'status', status: 'leaving' });
      await client.leave();
    }
    if (node) {
      await node.disconnect();
      this.opts.onNode?.(undefined);
    }
    this.opts.emit({ kind: 'status', status: 'idle' });
    return ok(undefined);
  }

  /** Quitting the app is the seminar's `disconnect`. */
  quit(): Promise<Result<void>> {
    return this.leave();
  }

  async #start(name: string, startNode: () => Promise<{ node: ChatNode | undefined; server: string }>): Promise<Result<SessionInfo>> {
    const validName = validateName(name);
    if (!validName.ok) return validName;
    if (this.#client || this.#busy) return fail(ErrorCode.ALREADY_CONNECTED, 'already in a chat: leave it first');
    this.#busy = true;
    this.opts.emit({ kind: 'status', status: 'connecting' });
    let node: ChatNode | undefined;
    try {
      const started = await startNode();
      node = started.node;
      const client = await connectReporting(started.server, name, this.opts.createSocket, this.opts.emit);
      this.#node = node;
      this.#client = client;
      client.onClose(() => {
        if (this.#client === client) this.#client = undefined;
      });
      if (node) this.opts.onNode?.(node);
      return ok({ name, server: started.server, runsNode: node !== undefined, ...(node ? { nodeUrl: node.url } : {}) });
    } catch (err) {
      await node?.disconnect();
      const error = toChatError(err);
      this.opts.emit({ kind: 'status', status: 'idle', detail: error.message });
      return { ok: false, error };
    } finally {
      this.#busy = false;
    }
  }
}

function toChatError(err: unknown): ChatError {
  if (err instanceof NodeStartError) {
    return { code: err.code === 'PORT_IN_USE' ? ErrorCode.PORT_IN_USE : ErrorCode.UNREACHABLE, message: err.message };
  }
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) return err as ChatError;
  return { code: ErrorCode.UNREACHABLE, message: String(err) };
}
