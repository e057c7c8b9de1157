// The client half of a chat session, shared by the desktop app's main process (ChatSession) and
// the page in a browser (browser-bridge.ts): join through a ChatClient, report everything it hears
// as SessionEvents in the order the UI's reducer expects, send, and leave. The status sequence
// is written once, here: connecting → connected (⇄ reconnecting; → disconnected) → leaving → idle.
import type { SessionEvent } from './bridge.js';
import { ChatClient, type Credentials, type SocketFactory } from './chat-client.js';
import type { DeviceSigner } from './device-key.js';
import { ErrorCode, fail, ok, type Result } from './errors.js';
import { hostOf, type Status, validateName } from './protocol.js';

export class ClientSession {
  #client: ChatClient | undefined;
  #busy = false;

  /**
   * @param sockets sockets that trust the chat's certificate `fingerprint` (Node pins it; a
   *   browser has its own trust and ignores it)
   */
  /**
   * @param device this device's key, which every join proves (loading it may take a moment: a
   *   browser's comes from IndexedDB); none: joins without one
   */
  constructor(
    private readonly sockets: (fingerprint: string | undefined) => SocketFactory,
    private readonly emit: (event: SessionEvent) => void,
    private readonly device: () => Promise<DeviceSigner | undefined> = async () => undefined,
  ) {}

  get client(): ChatClient | undefined {
    return this.#client;
  }

  /**
   * Join `server` as `name`, after `prepare` (which may start a local node and say where to
   * connect, which certificate to `pin`, the `credentials` of a private chat, and the
   * `resumeToken` of a session to come back as). On failure the UI hears `idle` with the reason, and `cleanUp` undoes `prepare`.
   */
  async join<T extends { server: string; pin?: string; credentials?: Credentials; resumeToken?: string }>(
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
      const { server, pin, credentials = {}, resumeToken } = prepared.value;
      const device = await this.device();
      const joined = await ChatClient.connect(server, name, this.sockets(pin), { credentials, device }, resumeToken);
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

  /** Send `text` (with `to`: to that buddy only); the UI shows it pending until the server's copy arrives. */
  send(text: string, to?: string): Result<string> {
    if (!this.#client) return fail(ErrorCode.NOT_JOINED, 'not in a chat');
    const sent = this.#client.send(text, to);
    if (sent.ok) this.emit({ kind: 'pending', cid: sent.value, text, ...(to !== undefined ? { to } : {}) });
    return sent;
  }

  setStatus(status: Status): Result<void> {
    if (!this.#client) return fail(ErrorCode.NOT_JOINED, 'not in a chat');
    this.#client.setStatus(status);
    return ok(undefined);
  }

  search(query: string): Result<void> {
    if (!this.#client) return fail(ErrorCode.NOT_JOINED, 'not in a chat');
    if (!query.trim()) return fail(ErrorCode.TEXT_INVALID, 'search for something');
    this.#client.search(query.trim());
    return ok(undefined);
  }

  whois(name: string): Result<void> {
    if (!this.#client) return fail(ErrorCode.NOT_JOINED, 'not in a chat');
    this.#client.whois(name);
    return ok(undefined);
  }

  typing(to?: string): Result<void> {
    this.#client?.typing(to);
    return ok(undefined);
  }

  loadOlder(before: string): Result<void> {
    if (!this.#client) return fail(ErrorCode.NOT_JOINED, 'not in a chat');
    this.#client.requestHistory(before);
    return ok(undefined);
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
    client.onLinkState((state) => {
      if (state.kind === 'reconnecting') {
        this.emit({ kind: 'status', status: 'reconnecting', detail: `Reconnecting to the chat… trying ${hostOf(state.trying)}` });
      } else {
        this.emit({
          kind: 'status',
          status: 'connected',
          detail: `${state.kind === 'resumed' ? 'Back in the chat' : 'Joined the chat again'} on ${hostOf(state.server)}`,
        });
      }
    });
    client.onClose((info) => {
      if (this.#client === client) this.#client = undefined;
      const unsent = client.unacked();
      if (unsent.length) this.emit({ kind: 'failed', cids: unsent });
      if (info.expected) return;
      this.emit({ kind: 'status', status: 'disconnected', detail: `Lost the connection to the chat${info.reason ? ` (${info.reason})` : ''}` });
    });
    this.emit({ kind: 'status', status: 'connected' });
  }
}
