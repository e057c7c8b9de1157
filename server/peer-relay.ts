// What peers bring in (seminar: `RelayMessage`): events and rosters from the other servers of the
// set, judged by the peer rules (peer-events.ts), applied to the roster and relayed to this
// server's clients — and this server's own roster, sent when a link opens.
import type { Logger } from 'pino';
import { type ChatEvent, frame, Limits, type Roster as RosterFrame } from '../shared/protocol.js';
import type { ServerLimits } from './limits.js';
import type { LocalClients } from './local-clients.js';
import type { Mesh, PeerLink } from './mesh.js';
import { judgeClaim, judgePeerEvent } from './peer-events.js';
import type { Holder, Roster } from './roster.js';
import { encode } from './wire.js';

/** Refused peer frames are logged this many times per link, then once every thousand. */
const REFUSALS_LOGGED = 10;

export interface PeerRelayDeps {
  self: string;
  roster: Roster;
  clients: LocalClients;
  mesh: () => Mesh;
  limits: Readonly<ServerLimits>;
  log: Logger;
  /** A new event of this server's (a `leave` seen here for a buddy of a vanished server). */
  makeEvent: (type: 'leave', name: string, server: string) => ChatEvent;
  /** An event reached this server's clients. */
  onRelayed: (event: ChatEvent) => void;
  /** This server's own client `name` lost its name to an earlier claim elsewhere: close it. */
  evictLocal: (name: string) => boolean;
}

export class PeerRelay {
  readonly #refusals = new WeakMap<PeerLink, number>();

  constructor(private readonly deps: PeerRelayDeps) {}

  /** A join, leave or message from a peer; a `ts` far from this server's clock is replaced. */
  onEvent(link: PeerLink, event: ChatEvent, raw: Buffer): void {
    const { roster, limits } = this.deps;
    const now = Date.now();
    if (Math.abs(event.ts - now) > limits.maxClockSkewMs) {
      event = { ...event, ts: now };
      raw = encode(event);
    }
    const verdict = judgePeerEvent(event, { roster, peer: link.url, maxClients: limits.maxClients, now });
    if (!verdict.ok) return this.#refuse(link, verdict.reason, event.type, event.name);
    if (verdict.displaced) this.#displace(verdict.displaced);
    if (event.type === 'join') roster.add(link.url, event.name, event.ts);
    if (event.type === 'leave') roster.remove(link.url, event.name);
    this.deps.clients.broadcast(raw);
    this.deps.onRelayed(event);
  }

  /** A peer's own buddies; each name is judged like a join (and never displaces anyone). */
  onRoster(link: PeerLink, roster: RosterFrame): void {
    if (roster.server !== link.url) return this.#refuse(link, `roster under another server's address (${roster.server})`, 'roster');
    const accepted: string[] = [];
    const now = Date.now();
    for (const name of roster.names) {
      const verdict = judgeClaim(name, 0, { roster: this.deps.roster, peer: link.url, maxClients: this.deps.limits.maxClients, now });
      if (!verdict.ok) {
        this.#refuse(link, verdict.reason, 'roster', name);
        continue;
      }
      this.deps.roster.add(link.url, name);
      accepted.push(name);
    }
    if (accepted.length) this.deps.clients.broadcast(encode(frame.roster(link.url, accepted)));
  }

  /** A link opened: tell the peer who is here, in chunks that stay under the frame limit. */
  onLinkUp(link: PeerLink): void {
    this.deps.roster.dropServer(link.url); // it is about to tell us afresh
    const names = this.deps.clients.names();
    for (let i = 0; i < names.length; i += Limits.ROSTER_CHUNK) {
      this.deps.mesh().sendTo(link, encode(frame.roster(this.deps.self, names.slice(i, i + Limits.ROSTER_CHUNK))));
    }
  }

  /** A peer left or failed: its buddies leave, as far as this server's clients can tell. */
  onLinkDown(url: string): void {
    for (const name of this.deps.roster.dropServer(url)) this.#localLeave(name, url);
  }

  /** Two servers gave one name away at the same instant, and the other claim came first. */
  #displace(holder: Holder): void {
    this.deps.log.info({ name: holder.name, server: holder.server }, 'name claimed first on another server');
    if (holder.server === this.deps.self && this.deps.evictLocal(holder.name)) return;
    this.deps.roster.remove(holder.server, holder.name);
    this.#localLeave(holder.name, holder.server);
  }

  /** A `leave` this server's clients see for a buddy of another server (not sent to peers). */
  #localLeave(name: string, server: string): void {
    const event = this.deps.makeEvent('leave', name, server);
    this.deps.clients.broadcast(encode(event));
    this.deps.onRelayed(event);
  }

  #refuse(link: PeerLink, reason: string, type: string, name?: string): void {
    const count = (this.#refusals.get(link) ?? 0) + 1;
    this.#refusals.set(link, count);
    if (count <= REFUSALS_LOGGED || count % 1000 === 0) {
      this.deps.log.warn({ peer: link.url, type, name, reason, count }, 'refused a frame from a peer');
    }
  }
}
