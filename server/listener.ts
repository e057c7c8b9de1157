// The HTTPS (or, with --insecure, HTTP) + WebSocket listener around a chat node: binds the port,
// serves plain HTTP requests (the browser UI), checks each upgrade's Origin, and hands every
// accepted WebSocket, with the address it came from and its TLS channel binding, to the node.
// Transport only: what the sockets say is the node's business.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import WebSocket, { WebSocketServer } from 'ws';
import { ErrorCode } from '../shared/errors.js';
import { channelBinding } from '../shared/node/channel-binding.js';
import { Limits } from '../shared/protocol.js';
import type { OriginPolicy } from './origin.js';

/** Thrown by ChatServer.start() with a code from the catalogue that a CLI or UI explains in one line. */
export class ServerStartError extends Error {
  constructor(
    readonly code: typeof ErrorCode.PORT_IN_USE | typeof ErrorCode.BIND_FAILED | typeof ErrorCode.JOIN_FAILED,
    message: string,
  ) {
    super(message);
  }
}

export interface ListenOptions {
  port: number;
  bind: string;
  httpHandler: (req: IncomingMessage, res: ServerResponse) => void;
  /** HTTP requests one address may have under way at once; more get 429 at once. */
  maxRequestsPerAddress: number;
  origins: OriginPolicy;
  log: Logger;
  /** The set's certificate and key: serve https and wss. Without, plain http and ws. */
  tls: TlsIdentity | undefined;
  onConnection: (ws: WebSocket, remoteAddress: string, binding: Uint8Array | undefined) => void;
}

export interface TlsIdentity {
  cert: string;
  key: string;
}

export class Listener {
  private constructor(
    readonly http: Server | HttpsServer,
    readonly wss: WebSocketServer,
    readonly secure: boolean,
  ) {}

  static async listen(opts: ListenOptions): Promise<Listener> {
    const handler = limitPerAddress(opts.maxRequestsPerAddress, opts.httpHandler);
    const http = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttpServer(handler);
    // A stranger that opens TLS and says nothing, or speaks something else, is no error of ours.
    http.on('tlsClientError', (err: Error, socket: { remoteAddress?: string }) =>
      opts.log.debug({ err: err.message, from: socket.remoteAddress }, 'TLS handshake failed'),
    );
    await new Promise<void>((resolve, reject) => {
      http.once('error', (err: NodeJS.ErrnoException) => {
        reject(
          err.code === 'EADDRINUSE'
            ? new ServerStartError(ErrorCode.PORT_IN_USE, `port ${opts.port} is already in use on ${opts.bind}`)
            : new ServerStartError(ErrorCode.BIND_FAILED, `cannot listen on ${opts.bind}:${opts.port}: ${err.code ?? err.message}`),
        );
      });
      http.listen(opts.port, opts.bind, () => resolve());
    });
    const wss = new WebSocketServer({
      server: http,
      maxPayload: Limits.MAX_FRAME_BYTES,
      verifyClient: ({ origin, req }: { origin: string | undefined; req: IncomingMessage }, accept: (ok: boolean, code?: number, message?: string) => void) => {
        // Browsers always send Origin; `ws` gives '' or undefined when there is none.
        const allowed = opts.origins.allows(origin || undefined);
        if (!allowed) opts.log.warn({ origin, from: req.socket.remoteAddress }, 'refused a WebSocket from a foreign web page');
        accept(allowed, 403, 'Forbidden: this page may not connect to this Chatty server');
      },
    });
    wss.on('connection', (ws, req) => opts.onConnection(ws, req.socket.remoteAddress ?? 'unknown', channelBinding(req.socket)));
    wss.on('error', (err) => opts.log.error({ err: err.message }, 'listener error'));
    return new Listener(http, wss, opts.tls !== undefined);
  }

  /** The set's certificate changed (this server joined a set): new connections get the new one. */
  setCertificate(tls: TlsIdentity): void {
    if ('setSecureContext' in this.http) this.http.setSecureContext({ cert: tls.cert, key: tls.key });
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** Stop accepting, and close what is left (the node closes its sockets first). */
  async close(sockets: WebSocket[]): Promise<void> {
    await Promise.race([
      Promise.all(sockets.map((ws) => (ws.readyState === WebSocket.CLOSED ? undefined : new Promise((r) => ws.once('close', r))))),
      new Promise((r) => setTimeout(r, 1_000).unref()),
    ]);
    for (const ws of sockets) ws.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    // The port is free as soon as close() is called; a connection the HTTP server does not track (one
    // still in its TLS handshake) may delay the callback, and a stopping server does not wait on it.
    await Promise.race([new Promise<void>((resolve) => this.http.close(() => resolve())), new Promise((r) => setTimeout(r, 2_000).unref())]);
  }
}

/**
 * `handler`, with at most `max` requests under way per address: one member's hundred slow
 * downloads or uploads must not hold every socket and file handle the server has.
 */
function limitPerAddress(max: number, handler: ListenOptions['httpHandler']): ListenOptions['httpHandler'] {
  const underWay = new Map<string, number>();
  return (req, res) => {
    const address = req.socket.remoteAddress ?? 'unknown';
    const mine = underWay.get(address) ?? 0;
    if (mine >= max) {
      const body = JSON.stringify({ code: ErrorCode.RATE_LIMITED, message: `at most ${max} requests from one address at once: wait for some to finish` });
      res.writeHead(429, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        connection: 'close',
        'retry-after': '1',
      });
      res.end(body);
      return;
    }
    underWay.set(address, mine + 1);
    res.once('close', () => {
      const left = (underWay.get(address) ?? 1) - 1;
      if (left > 0) underWay.set(address, left);
      else underWay.delete(address);
    });
    handler(req, res);
  };
}
