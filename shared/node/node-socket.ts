// The shared ChatClient's socket in Node: `ws`, which has the browser's WebSocket API, plus what a
// browser does for itself: deciding whether to trust the server's certificate. Chatty's are
// self-signed, so trust is a pin — the fingerprint an invite carries, or the one seen first (and
// shown to the person) — and one pin serves the whole set, whose servers share one certificate.
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { fingerprintForPeople, fingerprintOf } from '../auth.js';
import type { SocketFactory, SocketLike } from '../chat-client.js';
import { ErrorCode } from '../errors.js';
import { channelBinding } from './channel-binding.js';

/** The certificate a chat is expected to present; learnt on first use when nobody said. */
export class CertificatePin {
  #fingerprint: string | undefined;

  /** @param onFirstUse told the fingerprint seen when there was no pin (to show it, and to remember it) */
  constructor(
    fingerprint?: string,
    private readonly onFirstUse?: (fingerprint: string) => void,
  ) {
    this.#fingerprint = fingerprint;
  }

  get fingerprint(): string | undefined {
    return this.#fingerprint;
  }

  /** The set re-keyed: its server (over a connection this pin let through) names the new certificate. */
  repin(fingerprint: string): void {
    this.#fingerprint = fingerprint;
  }

  /** undefined when `seen` may be trusted; otherwise why not, for people. */
  check(seen: string): string | undefined {
    if (this.#fingerprint === undefined) {
      this.#fingerprint = seen;
      this.onFirstUse?.(seen);
      return undefined;
    }
    if (seen === this.#fingerprint) return undefined;
    return `the server's certificate (${fingerprintForPeople(seen).slice(0, 23)}…) is not the one this chat uses (${fingerprintForPeople(this.#fingerprint).slice(0, 23)}…): someone may be intercepting the connection, so Chatty did not connect`;
  }
}

/** Sockets for ChatClient; `wss://` ones present the server's certificate to `pin` before anything is said. */
export function nodeSockets(pin: CertificatePin = new CertificatePin()): SocketFactory {
  return (url: string): SocketLike => {
    // Chatty's certificates are self-signed: the pin decides, not a certificate authority.
    const ws = new WebSocket(url, { handshakeTimeout: 5_000, rejectUnauthorized: false });
    let binding: Uint8Array | undefined;
    ws.on('upgrade', (res) => {
      const socket = res.socket as TLSSocket;
      if (!socket.encrypted) return;
      const wrong = pin.check(fingerprintOf(socket.getPeerCertificate().raw));
      if (wrong) {
        ws.emit('error', new Error(`${ErrorCode.CERT_MISMATCH}: ${wrong}`));
        ws.terminate();
        return;
      }
      binding = channelBinding(socket);
    });
    return Object.assign(ws, { channelBinding: () => binding }) as unknown as SocketLike;
  };
}
