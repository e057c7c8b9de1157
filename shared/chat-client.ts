// The one Chatty client (seminar: client.erl): joins with a name, sends texts, leaves, and hands
// every validated frame from the server to its listeners. It runs over any WebSocket that has the
// browser's API — the browser's own, or `ws` in Node — so the CLI, the Electron main process and
// the renderer in a browser share it.
//
// Beyond the seminar it keeps the conversation going when a server fails: it notices a dead or
// frozen server (an application-level ping), reconnects with backoff to any server of the set,
// resumes as itself (token + last event id: exactly the missed events come back), and re-sends
// what the server had not acknowledged (the server drops a resend it has already published).
// It runs past 300 lines because joining, sending, liveness and resuming share one socket's
// state and must hand it over together; the UI-side session is client-session.ts.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { answerHello, inviteKey, normalizeInviteCode, passphraseKey, sameProof } from './auth.js';
import { type DeviceSigner, proveDevice } from './device-key.js';
import { CloseCode, codeOfCloseReason, ErrorCode, fail, LEFT_REASON, ok, type Result } from './errors.js';
import {
  type ChatEvent,
  type ClientAuth,
  type ClientInbound,
  type ClientJoinReq,
  type DeviceProof,
  decodeClientInbound,
  batchEvents,
  historyEvents,
  isChatEvent,
  isNotice,
  frame,
  type Hello,
  type Status,
  validateName,
  validateText,
  type Welcome,
} from './protocol.js';

/** The part of the WebSocket API the client uses (browser WebSocket and `ws` both have it). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
  /** The TLS channel binding, where the socket can read it (Node; not browsers). */
  channelBinding?(): Uint8Array | undefined;
}

/** What lets a person into a private chat: its invite code, or the passphrase the host chose. */
export interface Credentials {
  invite?: string;
  passphrase?: string;
}

/**
 * Credentials from an invite link's code and what the person typed in the one "invite code or
 * passphrase" box: text that reads as an invite code is one; anything else is a passphrase.
 */
export function credentialsFrom(linkCode: string | undefined, typed: string | undefined): Credentials {
  const typedCode = typed ? normalizeInviteCode(typed) : undefined;
  const invite = linkCode ?? typedCode;
  return { ...(invite ? { invite } : {}), ...(typed && !typedCode ? { passphrase: typed } : {}) };
}

export type SocketFactory = (url: string) => SocketLike;

/** A session's key: the SHA-256 (hex) of its resume token, which is what the servers keep of it. */
export function sessionKeyOf(token: string): string {
  return bytesToHex(sha256(utf8ToBytes(token)));
}

const OPEN = 1;

export interface CloseInfo {
  code: number;
  reason: string;
  /** True when the close follows our own leave(); false when the server or network ended it. */
  expected: boolean;
}

/** Where the client is between a lost connection and a resumed one. */
export type LinkState = { kind: 'reconnecting'; trying: string; attempt: number } | { kind: 'resumed'; server: string } | { kind: 'rejoined'; server: string };

export interface ClientOptions {
  /** Send a ping this often while connected. Default 3,000 ms. */
  pingMs?: number;
  /** No frame for this long means the server is gone (or frozen). Default 9,000 ms. */
  deadMs?: number;
  /** Stop trying to reconnect after this long. Default 120,000 ms; 0 never reconnects. */
  giveUpMs?: number;
  /** First wait between attempts; it doubles (with jitter) up to 5 s. Default 250 ms. */
  backoffMs?: number;
  /** For a private chat. Default: none (an open chat). */
  credentials?: Credentials;
  /** This device's key: every join and resume proves it (docs/protocol.md § Identity). Default: none. */
  device?: DeviceSigner | undefined;
}

const DEFAULTS: Required<Omit<ClientOptions, 'device'>> & Pick<ClientOptions, 'device'> = {
  pingMs: 3_000,
  deadMs: 9_000,
  giveUpMs: 120_000,
  backoffMs: 250,
  credentials: {},
};
const MAX_BACKOFF_MS = 5_000;
/** After a STORE_FULL (the server's disk is full), unacked sends go again this much later. */
const STORE_RETRY_MS = 5_000;

interface Outgoing {
  cid: string;
  text: string;
  /** A direct message's addressee. */
  to?: string;
}

/** One socket's join: its welcome, and the frames that followed it before the client took over. */
interface Attempt {
  socket: SocketLike;
  welcome: Welcome;
  /** The frames so far; collecting stops (the client listens itself from then on). */
  takeEarly(): ClientInbound[];
}

export class ChatClient {
  readonly name: string;
  /** The first welcome (the one connect() resolved with). */
  readonly welcome: Welcome;
  #socket: SocketLike;
  #server: string;
  #servers: string[];
  /** The resume token of the session (a fresh join after the grace period gets a new one). */
  #token: string | undefined;
  readonly #createSocket: SocketFactory;
  readonly #opts: typeof DEFAULTS;
  readonly #prover: Prover;
  readonly #frameListeners = new Set<(frame: ClientInbound) => void>();
  readonly #closeListeners = new Set<(info: CloseInfo) => void>();
  readonly #stateListeners = new Set<(state: LinkState) => void>();
  /** Sent (or to send) and not acknowledged yet, in order. */
  readonly #unacked = new Map<string, Outgoing>();
  /** The newest event of the set's history this client has (what a resume continues from). */
  #last: ChatEvent | undefined;
  /** Per origin, the highest seq of the events it got: sent with a resume, so none published at the same time as the last is missed. */
  readonly #seenSeq = new Map<string, number>();
  #leaving: Promise<void> | undefined;
  #closed: CloseInfo | undefined;
  #reconnecting = false;
  #lastHeard = Date.now();
  #pinger: ReturnType<typeof setInterval> | undefined;
  #resendTimer: ReturnType<typeof setTimeout> | undefined;
  /** Frames that came between welcome and the first subscription. */
  #pending: ClientInbound[] | undefined;

  private constructor(attempt: Attempt, createSocket: SocketFactory, opts: typeof DEFAULTS) {
    const early = attempt.takeEarly();
    this.welcome = attempt.welcome;
    this.name = attempt.welcome.name;
    this.#token = attempt.welcome.token;
    this.#createSocket = createSocket;
    this.#opts = opts;
    this.#prover = new Prover(opts.credentials);
    this.#socket = attempt.socket;
    this.#server = attempt.welcome.server;
    this.#servers = attempt.welcome.servers;
    this.#pending = early;
    for (const f of early) this.#note(f);
    this.#adopt(attempt.socket);
  }

  /**
   * Connect to a server and join as `name` (seminar: client:start(ServerPid, MyName)), or with
   * `resumeToken` come back as that session (its name kept; a fresh join once the grace period has
   * ended). Resolves
   * once the server's `welcome` arrives, or with the error that stopped it (name taken,
   * unreachable, …); never rejects. Frames that arrive before the caller subscribes are queued
   * and delivered on subscribe.
   */
  static async connect(url: string, name: string, createSocket: SocketFactory, options: ClientOptions = {}, resumeToken?: string): Promise<Result<ChatClient>> {
    const valid = validateName(name);
    if (!valid.ok) return valid;
    const opts = { ...DEFAULTS, ...options };
    // With the token of a session this person had (a reloaded page): the same session, from the latest page of history.
    const resume = resumeToken ? { token: resumeToken } : undefined;
    const joined = await join(url, name, (auth, device) => frame.clientJoinReq(name, resume, auth, device), createSocket, opts, new Prover(opts.credentials));
    if (!joined.ok) return joined;
    return ok(new ChatClient(joined.value, createSocket, opts));
  }

  /** Every frame from the server after `welcome`: events, history, acks, server list, rosters, errors, exit. */
  onFrame(listener: (frame: ClientInbound) => void): () => void {
    this.#frameListeners.add(listener);
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) for (const msg of pending) listener(msg);
    return () => this.#frameListeners.delete(listener);
  }

  /** The connection ended for good; `expected` tells a clean leave from a lost chat. */
  onClose(listener: (info: CloseInfo) => void): () => void {
    if (this.#closed) {
      listener(this.#closed);
      return () => {};
    }
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /** Reconnecting, resumed, or rejoined (the grace period had ended: a fresh join). */
  onLinkState(listener: (state: LinkState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /** In the chat: connected now, or reconnecting (sends wait and go out on resume). */
  /**
   * The SHA-256 (hex) of this session's resume token: what the servers of the set keep of it, and
   * what a link to one file is signed with (files.ts). It cannot resume the session.
   */
  get sessionKey(): string | undefined {
    return this.#token === undefined ? undefined : sessionKeyOf(this.#token);
  }

  /** The resume token: what lets this person come back as this session (a reloaded page keeps it for its tab). */
  get resumeToken(): string | undefined {
    return this.#token;
  }

  get connected(): boolean {
    return !this.#closed && (this.#reconnecting || this.#socket.readyState === OPEN);
  }

  get server(): string {
    return this.#server;
  }

  /**
   * Seminar: ServerPid ! {send, MyName, Text}; with `to`, a direct message for that buddy only.
   * The text is checked here with the server's rule. Returns the send's client id: the server
   * acks it, and until then it is re-sent on resume.
   */
  send(text: string, to?: string): Result<string> {
    const valid = validateText(text);
    if (!valid.ok) return valid;
    if (to !== undefined) {
      const name = validateName(to);
      if (!name.ok) return name;
    }
    if (!this.connected || this.#leaving) return fail(ErrorCode.NOT_JOINED, 'not connected to a server');
    const cid = newClientId();
    const out: Outgoing = { cid, text, ...(to !== undefined ? { to } : {}) };
    this.#unacked.set(cid, out);
    if (!this.#reconnecting) this.#socket.send(JSON.stringify(frame.send(this.name, text, cid, to)));
    return ok(cid);
  }

  /** Sends not acknowledged yet (shown as pending by a UI). */
  unacked(): string[] {
    return [...this.#unacked.keys()];
  }

  /** Presence by hand: `away` or `available` (everyone sees it). */
  setStatus(status: Status): void {
    if (this.#socket.readyState === OPEN && !this.#reconnecting) this.#socket.send(JSON.stringify(frame.setStatus(status)));
  }

  /** "I am typing" in the public chat or (`to`) to one buddy; the server counts one every 2 s. */
  typing(to?: string): void {
    if (this.#socket.readyState === OPEN && !this.#reconnecting) this.#socket.send(JSON.stringify(frame.typing(to)));
  }

  /** Full-text search of what the server holds (the answer is a `search_results` frame). */
  search(query: string): void {
    if (this.#socket.readyState === OPEN && !this.#reconnecting) this.#socket.send(JSON.stringify(frame.searchReq(query)));
  }

  /** Whom `name` belongs to (the answer is a `whois` frame: § Identity). */
  whois(name: string): void {
    if (this.#socket.readyState === OPEN && !this.#reconnecting) this.#socket.send(JSON.stringify(frame.whoisReq(name)));
  }

  /** Ask for the page of history before the event `before` (the answer is a `history` frame). */
  requestHistory(before: string, limit?: number): void {
    if (this.#socket.readyState === OPEN && !this.#reconnecting) this.#socket.send(JSON.stringify(frame.historyReq(before, limit)));
  }

  /** Seminar: ServerPid ! {client_leave_req, MyName, self()}; resolves when `exit` (or the close) arrives. */
  leave(timeoutMs = 5_000): Promise<void> {
    this.#leaving ??= new Promise<void>((resolve) => {
      if (this.#reconnecting || this.#socket.readyState !== OPEN) {
        this.#finish(1000, 'left');
        return resolve();
      }
      const timer = setTimeout(() => {
        this.#socket.close(CloseCode.NORMAL, LEFT_REASON);
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

  // --- one socket at a time

  #adopt(socket: SocketLike): void {
    this.#socket = socket;
    this.#lastHeard = Date.now();
    socket.addEventListener('message', ({ data }) => {
      if (socket !== this.#socket || typeof data !== 'string') return;
      this.#lastHeard = Date.now();
      const decoded = decodeClientInbound(data);
      if (!decoded.ok) return; // a newer server's frame we do not know: ignored, as the protocol asks
      for (const msg of oneByOne(decoded.value)) this.#deliver(msg);
    });
    socket.addEventListener('close', ({ code, reason }) => {
      if (socket === this.#socket) this.#onLost(code, reason);
    });
    clearInterval(this.#pinger);
    if (this.#opts.pingMs > 0) {
      this.#pinger = setInterval(() => this.#ping(socket), this.#opts.pingMs);
      (this.#pinger as { unref?: () => void }).unref?.();
    }
  }

  #ping(socket: SocketLike): void {
    if (socket !== this.#socket || socket.readyState !== OPEN) return;
    if (Date.now() - this.#lastHeard > this.#opts.deadMs) {
      // A frozen server keeps its TCP connections open: only silence tells. Give up on it.
      this.#onLost(CloseCode.NO_ANSWER, 'the server stopped answering');
      socket.close(CloseCode.NO_ANSWER, 'no answer');
      return;
    }
    socket.send(JSON.stringify(frame.ping()));
  }

  #deliver(msg: ClientInbound): void {
    this.#note(msg);
    if (this.#pending) {
      this.#pending.push(msg);
      return;
    }
    for (const listener of [...this.#frameListeners]) listener(msg);
  }

  /** What the client itself needs to know of a frame: acks, the server list, the newest event. */
  #note(msg: ClientInbound): void {
    switch (msg.type) {
      case 'ack':
        this.#unacked.delete(msg.cid);
        return;
      case 'update_servers':
        this.#servers = msg.servers;
        return;
      case 'history':
        for (const event of historyEvents(msg.events)) this.#seen(event);
        return;
      case 'batch':
        for (const event of batchEvents(msg)) this.#seen(event);
        return;
      case 'error':
        // A send refused for good (nobody of that name is here) is not sent again.
        if (msg.cid !== undefined) this.#unacked.delete(msg.cid);
        // The server could not save it (a full disk): what is unacked goes again, later.
        if (msg.code === ErrorCode.STORE_FULL) this.#resendLater();
        return;
      default:
        // Only an ack settles a send: it comes once the event is written, its echo may come before.
        if (isChatEvent(msg)) this.#seen(msg);
    }
  }

  #resendLater(): void {
    if (this.#resendTimer) return;
    this.#resendTimer = setTimeout(() => {
      this.#resendTimer = undefined;
      if (this.#closed || this.#reconnecting) return; // a resume sends them again anyway
      this.#resendUnacked();
    }, STORE_RETRY_MS);
  }

  /** What the server has not acked goes again; one it had taken is acked, not published twice. */
  #resendUnacked(): void {
    for (const out of this.#unacked.values()) this.#socket.send(JSON.stringify(frame.send(this.name, out.text, out.cid, out.to)));
  }

  #seen(event: ChatEvent): void {
    if (isNotice(event)) return; // a server's local notice: not in the set's history
    if (event.seq > (this.#seenSeq.get(event.origin) ?? 0)) this.#seenSeq.set(event.origin, event.seq);
    if (!this.#last || event.clock > this.#last.clock || (event.clock === this.#last.clock && event.origin > this.#last.origin)) this.#last = event;
  }

  #onLost(code: number, reason: string): void {
    if (this.#closed || this.#reconnecting) return;
    if (this.#leaving || this.#opts.giveUpMs === 0 || !this.#token || isFinal(reason)) return this.#finish(code, reason);
    void this.#reconnect(code, reason);
  }

  /** Try every server of the set, the one we lost last, with backoff and jitter, until one resumes us. */
  async #reconnect(code: number, reason: string): Promise<void> {
    this.#reconnecting = true;
    clearInterval(this.#pinger);
    const deadline = Date.now() + this.#opts.giveUpMs;
    const lost = this.#server;
    const order = [...this.#servers.filter((s) => s !== lost), lost];
    let wait = this.#opts.backoffMs;
    for (let attempt = 1; Date.now() < deadline && !this.#leaving; attempt++) {
      const url = order[(attempt - 1) % order.length]!;
      this.#tell({ kind: 'reconnecting', trying: url, attempt });
      const seen = this.#seenSeq.size <= 1024 ? { seen: Object.fromEntries(this.#seenSeq) } : {};
      const resume = { token: this.#token!, ...(this.#last ? { after: this.#last.id, ...seen } : {}) };
      const joined = await join(
        url,
        this.name,
        (auth, device) => frame.clientJoinReq(this.name, resume, auth, device),
        this.#createSocket,
        this.#opts,
        this.#prover,
      );
      if (this.#leaving) {
        if (joined.ok) joined.value.socket.close(CloseCode.NORMAL, LEFT_REASON);
        break;
      }
      if (joined.ok) {
        this.#reconnecting = false;
        this.#server = joined.value.welcome.server;
        this.#servers = joined.value.welcome.servers;
        this.#token = joined.value.welcome.token ?? this.#token;
        const early = joined.value.takeEarly();
        this.#adopt(joined.value.socket);
        this.#deliver(joined.value.welcome);
        for (const f of early) this.#deliver(f);
        this.#resendUnacked();
        this.#tell({ kind: joined.value.welcome.resumed ? 'resumed' : 'rejoined', server: this.#server });
        return;
      }
      if (joined.error.code === ErrorCode.NAME_TAKEN || joined.error.code === ErrorCode.NAME_BOUND)
        return this.#finish(CloseCode.NAME_LOST, joined.error.message);
      if (attempt % order.length === 0) {
        await sleep(Math.min(wait, Math.max(0, deadline - Date.now())) * (0.5 + Math.random() / 2));
        wait = Math.min(wait * 2, MAX_BACKOFF_MS);
      }
    }
    this.#finish(code, reason || 'could not reach any server of the chat');
  }

  #tell(state: LinkState): void {
    for (const listener of [...this.#stateListeners]) listener(state);
  }

  #finish(code: number, reason: string): void {
    if (this.#closed) return;
    this.#reconnecting = false;
    clearInterval(this.#pinger);
    clearTimeout(this.#resendTimer);
    this.#closed = { code, reason, expected: this.#leaving !== undefined };
    for (const listener of [...this.#closeListeners]) listener(this.#closed);
    this.#closeListeners.clear();
  }
}

/** Closes after which reconnecting would not help: the user is out, or was refused for cause. */
function isFinal(reason: string): boolean {
  const code = codeOfCloseReason(reason);
  return reason === LEFT_REASON || (code !== undefined && FINAL_CODES.has(code));
}
const FINAL_CODES = new Set<ErrorCode>([
  ErrorCode.SLOW_CONSUMER,
  ErrorCode.RATE_LIMITED,
  ErrorCode.NAME_TAKEN,
  ErrorCode.NAME_BOUND,
  ErrorCode.KEY_REQUIRED,
  ErrorCode.AUTH_REQUIRED,
  ErrorCode.AUTH_FAILED,
]);

/** Answers a private chat's `hello` with the person's credentials (the passphrase's key is made once per salt). */
class Prover {
  #passphraseKey: { salt: string; key: Uint8Array } | undefined;

  constructor(private readonly credentials: Credentials) {}

  answer(hello: Hello, binding: Uint8Array | undefined): { auth: ClientAuth; expect: string } | undefined {
    if (!hello.private) return undefined;
    const { invite, passphrase } = this.credentials;
    let key: Uint8Array;
    if (invite) key = inviteKey(invite);
    else if (passphrase && hello.salt) {
      if (this.#passphraseKey?.salt !== hello.salt) this.#passphraseKey = { salt: hello.salt, key: passphraseKey(passphrase, hello.salt) };
      key = this.#passphraseKey.key;
    } else return undefined;
    const { expect, ...answer } = answerHello(key, 'client', hello.nonce, binding);
    return { auth: { with: invite ? 'invite' : 'passphrase', ...answer }, expect };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Open a socket to `url`, answer the server's `hello` with `request` (and, for a private chat, the
 * proof of the person's credentials, whose `auth_ok` must prove the same key back); resolves with
 * the welcome, or with the reason it failed — also when nothing answers within `timeoutMs` (a
 * frozen server still accepts TCP).
 */
function join(
  url: string,
  name: string,
  request: (auth?: ClientAuth, device?: DeviceProof) => ClientJoinReq,
  createSocket: SocketFactory,
  { deadMs: timeoutMs, device }: { deadMs: number; device?: DeviceSigner | undefined },
  prover: Prover,
): Promise<Result<Attempt>> {
  return new Promise((resolve) => {
    const early: ClientInbound[] = [];
    let collecting = true;
    let socket: SocketLike;
    try {
      socket = createSocket(url);
    } catch (err) {
      resolve(fail(ErrorCode.UNREACHABLE, `cannot connect to ${url}: ${(err as Error).message}`));
      return;
    }
    let settled = false;
    let socketError = '';
    /** The proof auth_ok must carry, once we proved ourselves; '' when it came and was right. */
    let expect: string | undefined;
    const settle = (result: Result<Attempt>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const refuse = (code: ErrorCode, message: string) => {
      settle(fail(code, message));
      socket.close(CloseCode.NORMAL, 'join refused');
    };
    const timer = setTimeout(() => {
      settle(fail(ErrorCode.UNREACHABLE, `cannot reach ${url}: no answer`));
      socket.close(CloseCode.NO_ANSWER, 'no answer');
    }, timeoutMs);
    socket.addEventListener('error', (event) => {
      socketError ||= describeSocketError(event); // the first says why; later ones only that it closed
    });
    socket.addEventListener('message', ({ data }) => {
      if (settled || typeof data !== 'string') return;
      const decoded = decodeClientInbound(data);
      if (!decoded.ok) return;
      const msg = decoded.value;
      if (msg.type === 'hello') {
        let answer: ReturnType<Prover['answer']>;
        try {
          answer = prover.answer(msg, socket.channelBinding?.());
        } catch (err) {
          return refuse(ErrorCode.AUTH_FAILED, `cannot use that passphrase: ${(err as Error).message}`);
        }
        expect = answer?.expect;
        // With a device key, the join also proves it (an async signature: WebCrypto's is).
        const binding = socket.channelBinding?.();
        const proof = device ? proveDevice(device, msg.nonce, name, binding) : Promise.resolve(undefined);
        proof.then(
          (deviceProof) => {
            if (!settled) socket.send(JSON.stringify(request(answer?.auth, deviceProof)));
          },
          (err: unknown) => refuse(ErrorCode.AUTH_FAILED, `this device could not sign its join: ${(err as Error).message}`),
        );
      } else if (msg.type === 'auth_ok') {
        if (expect === undefined || !sameProof(msg.proof, expect)) {
          return refuse(ErrorCode.AUTH_FAILED, `${url} could not prove it knows this chat's invite: it may be an impostor`);
        }
        expect = '';
      } else if (msg.type === 'welcome') {
        if (expect) return refuse(ErrorCode.AUTH_FAILED, `${url} let us in without proving it knows this chat's invite: it may be an impostor`);
        const takeEarly = () => {
          collecting = false;
          return early;
        };
        settle(ok({ socket, welcome: msg, takeEarly }));
      } else if (msg.type === 'error') {
        // Codes from a newer server pass through as they are.
        settle({ ok: false, error: { code: msg.code as ErrorCode, message: msg.message } });
        socket.close(CloseCode.NORMAL, 'join refused');
      }
    });
    // Frames after the welcome and before the client adopts the socket (its history) are kept.
    socket.addEventListener('message', ({ data }) => {
      if (!settled || !collecting || typeof data !== 'string') return;
      const decoded = decodeClientInbound(data);
      if (decoded.ok && decoded.value.type !== 'welcome') early.push(...oneByOne(decoded.value));
    });
    socket.addEventListener('close', ({ code, reason }) => {
      // A socket that refused the server's certificate says so first (node-socket.ts).
      const certificate = socketError.startsWith(`${ErrorCode.CERT_MISMATCH}: `);
      if (certificate) return settle(fail(ErrorCode.CERT_MISMATCH, socketError.slice(ErrorCode.CERT_MISMATCH.length + 2)));
      settle(fail(ErrorCode.UNREACHABLE, `cannot reach ${url}: ${reason || socketError || `connection closed (${code})`}`));
    });
  });
}

function describeSocketError(event: unknown): string {
  // ws puts the cause on event.error (ECONNREFUSED, ENOTFOUND…); browsers say nothing more.
  const error = (event as { error?: { code?: string; message?: string } } | undefined)?.error;
  return error?.code ?? error?.message ?? '';
}

/** Frames as listeners get them: a `batch` as the events it stands for. */
function oneByOne(msg: ClientInbound): ClientInbound[] {
  return msg.type === 'batch' ? batchEvents(msg) : [msg];
}

let clientIds = 0;
/** A fresh client id (`cid`) for a send or an upload: the server acks it, and a resend with it is not published twice. */
export function newClientId(): string {
  return `${Date.now().toString(36)}-${(++clientIds).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
