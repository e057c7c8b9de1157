// The one Chatty client (seminar: client.erl): joins with a name, sends texts, leaves, and hands
// every validated frame from the server to its listeners. It runs over any WebSocket that has the
// browser's API — the browser's own, or `ws` in Node — so the CLI, the Electron main process and
// the renderer in a browser share it.
import { ErrorCode, fail, ok, type Result } from './errors.js';
import { decodeClientInbound, frame, validateName, validateText, type ClientInbound, type Welcome } from './protocol.js';

/** The part of the WebSocket API the client uses (browser WebSocket and `ws` both have it). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

export type SocketFactory = (url: string) => SocketLike;

const OPEN = 1;

export interface CloseInfo {
  code: number;
  reason: string;
  /** True when the close follows our own leave(); false when the server or network ended it. */
  expected: boolean;
}

export class ChatClient {
  readonly name: string;
  readonly welcome: Welcome;
  readonly #socket: SocketLike;
  readonly #frameListeners = new Set<(frame: ClientInbound) => void>();
  readonly #closeListeners = new Set<(info: CloseInfo) => void>();
  #leaving: Promise<void> | undefined;
  #closed: CloseInfo | undefined;

  private constructor(socket: SocketLike, welcome: Welcome) {
    this.#socket = socket;
    this.welcome = welcome;
    this.name = welcome.name;
  }

  /**
   * Connect to a server and join as `name` (seminar: client:start(ServerPid, MyName)). Resolves
   * once the server's `welcome` arrives, or with the error that stopped it (name taken,
   * unreachable, …); never rejects. Frames that arrive before the caller subscribes are queued
   * and delivered on subscribe.
   */
  static connect(url: string, name: string, createSocket: SocketFactory): Promise<Result<ChatClient>> {
    const valid = validateName(name);
    if (!valid.ok) return Promise.resolve(valid);
    return new Promise((resolve) => {
      let socket: SocketLike;
      try {
        socket = createSocket(url);
      } catch (err) {
        resolve(fail(ErrorCode.UNREACHABLE, `cannot connect to ${url}: ${(err as Error).message}`));
        return;
      }
      let client: ChatClient | undefined;
      let refused: Result<never> | undefined;
      const early: ClientInbound[] = [];
      let socketError = '';
      socket.addEventListener('open', () => socket.send(JSON.stringify(frame.clientJoinReq(name))));
      socket.addEventListener('error', (event) => {
        socketError = describeSocketError(event);
      });
      socket.addEventListener('message', ({ data }) => {
        if (typeof data !== 'string') return;
        const decoded = decodeClientInbound(data);
        if (!decoded.ok) return; // a newer server's frame we do not know: ignore, as the protocol asks
        const msg = decoded.value;
        if (client) return client.#deliver(msg);
        if (msg.type === 'welcome') {
          client = new ChatClient(socket, msg);
          client.#pending = early;
          resolve(ok(client));
        } else if (msg.type === 'error') {
          // Codes from a newer server pass through as they are.
          refused = { ok: false, error: { code: msg.code as ErrorCode, message: msg.message } };
          resolve(refused);
          socket.close(1000, 'join refused');
        } else {
          early.push(msg);
        }
      });
      socket.addEventListener('close', ({ code, reason }) => {
        if (client) return client.#onClose(code, reason);
        if (refused) return;
        const why = reason || socketError || `connection closed (${code})`;
        resolve(fail(ErrorCode.UNREACHABLE, `cannot reach ${url}: ${why}`));
      });
    });
  }

  /** Frames that came between welcome and the first subscription. */
  #pending: ClientInbound[] | undefined;

  /** Every frame from the server after `welcome`: events, server list, rosters, errors, exit. */
  onFrame(listener: (frame: ClientInbound) => void): () => void {
    this.#frameListeners.add(listener);
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) for (const msg of pending) listener(msg);
    return () => this.#frameListeners.delete(listener);
  }

  /** The connection ended; `expected` tells a clean leave from a lost server. */
  onClose(listener: (info: CloseInfo) => void): () => void {
    if (this.#closed) {
      listener(this.#closed);
      return () => {};
    }
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  get connected(): boolean {
    return !this.#closed && this.#socket.readyState === OPEN;
  }

  /** Seminar: ServerPid ! {send, MyName, Text}. The text is checked here with the server's rule. */
  send(text: string): Result<void> {
    const valid = validateText(text);
    if (!valid.ok) return valid;
    if (!this.connected || this.#leaving) return fail(ErrorCode.NOT_JOINED, 'not connected to a server');
    this.#socket.send(JSON.stringify(frame.send(this.name, text)));
    return ok(undefined);
  }

  /** Seminar: ServerPid ! {client_leave_req, MyName, self()}; resolves when `exit` (or the close) arrives. */
  leave(timeoutMs = 5_000): Promise<void> {
    this.#leaving ??= new Promise<void>((resolve) => {
      if (!this.connected) return resolve();
      const timer = setTimeout(() => {
        this.#socket.close(1000, 'left');
        resolve();
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#frameListeners.add((msg) => {
        if (msg.type === 'exit') done();
      });
      this.#closeListeners.add(done);
      this.#socket.send(JSON.stringify(frame.clientLeaveReq(this.name)));
    });
    return this.#leaving;
  }

  #deliver(msg: ClientInbound): void {
    if (this.#pending) {
      this.#pending.push(msg);
      return;
    }
    for (const listener of [...this.#frameListeners]) listener(msg);
  }

  #onClose(code: number, reason: string): void {
    this.#closed = { code, reason, expected: this.#leaving !== undefined };
    for (const listener of [...this.#closeListeners]) listener(this.#closed);
    this.#closeListeners.clear();
  }
}

function describeSocketError(event: unknown): string {
  // ws puts the cause on event.error (ECONNREFUSED, ENOTFOUND…); browsers say nothing more.
  const error = (event as { error?: { code?: string; message?: string } } | undefined)?.error;
  return error?.code ?? error?.message ?? '';
}
