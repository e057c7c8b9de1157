// The client half of a chat session, shared by the desktop app's main process (ChatSession) and
// the page in a browser (browser-bridge.ts): join through a ChatClient, report everything it hears
// as SessionEvents in the order the UI's reducer expects, send, and leave. The status sequence
// is written once, here: connecting → connected (→ disconnected) → leaving → idle.
import type { SessionEvent } from './bridge.js';
import { ChatClient, type SocketFactory } from './chat-client.js';
import { ErrorCode, fail, ok, type Result } from './errors.js';
import { validateName } from './protocol.js';

export class ClientSession {
  #client: ChatClient | undefined;
  #busy = false;

  constructor(
    private readonly createSocket: SocketFactory,
    private readonly emit: (event: SessionEvent) => void,
  ) {}

  get client(): ChatClient | undefined {
    return this.#client;
  }

  /**
   * Join `server` as `name`, after `prepare` (which may start a local node and say where to
   * connect). On failure the UI hears `idle` with the reason, and `cleanUp` undoes `prepare`.
   */
  async join<T extends { server: string }>(
    name: string,
    prepare: () => Promise<Result<T>>,
    cleanUp: (prepared: T) => Promise<void> = async () => {},
  ): Promise<Result<T>> {
    const valid = validateName(name);
    if (!valid.ok) return valid;
    if (this.#client?.connected || this.#busy) return fail(ErrorCode.ALREADY_CONNECTED, 'already in a chat: leave it first');
    this.#busy = true;
    this.emit({ kind: 'status', status: 'connecting' });
    try {
      const prepared = await prepare();
      if (!prepared.ok) return this.#failed(prepared);
      const joined = await ChatClient.connect(prepared.value.server, name, this.createSocket);
      if (!joined.ok) {
        await cleanUp(prepared.value);
        return this.#failed(joined);
      }
      this.#report(joined.value);
      return prepared;
    } finally {
      this.#busy = false;
    }
  }

  send(text: string): Result<void> {
    return this.#client ? this.#client.send(text) : fail(ErrorCode.NOT_JOINED, 'not in a chat');
  }

  /** Leave the chat (if in one); the UI hears `leaving`, then whatever `after` does, then `idle`. */
  async leave(after: () => Promise<void> = async () => {}): Promise<Result<void>> {
    const client = this.#client;
    this.#client = undefined;
    if (client) {
      this.emit({ kind: 'status', status: 'leaving' });
      await client.leave();
    }
    await after();
    this.emit({ kind: 'status', status: 'idle' });
    return ok(undefined);
  }

  #failed<T>(result: { ok: false } & Result<T>): Result<T> {
    this.emit({ kind: 'status', status: 'idle', detail: result.error.message });
    return result;
  }

  #report(client: ChatClient): void {
    this.#client = client;
    this.emit({ kind: 'frame', frame: client.welcome });
    client.onFrame((frame) => this.emit({ kind: 'frame', frame }));
    client.onClose((info) => {
      if (this.#client === client) this.#client = undefined;
      if (info.expected) return;
      this.emit({ kind: 'status', status: 'disconnected', detail: `Lost the connection to the server${info.reason ? ` (${info.reason})` : ''}` });
    });
    this.emit({ kind: 'status', status: 'connected' });
  }
}
