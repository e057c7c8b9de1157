// What peers bring in (seminar: `RelayMessage`): live events and rosters from the other servers of
// the set, judged by the peer rules (peer-events.ts), applied to the roster and relayed to this
// server's clients; and, when a link opens, the two servers' histories compared (`sync`) and what
// either lacks sent over (`backfill`), so a restarted server or a healed split converges.
import type { Logger } from 'pino';
import { type ChatEvent, frame, type IsTyping, isIdentityEvent, Limits, type Roster as RosterFrame, type Sync } from '../shared/protocol.js';
import type { Grace } from './grace.js';
import type { Identities, OwnerChange } from './identities.js';
import { compareEvents, type History } from './history.js';
import type { ServerLimits } from './limits.js';
import type { LocalClients } from './local-clients.js';
import type { PeerHandlers, PeerLink } from './mesh.js';
import { judgeClaim, judgePeerEvent, type PeerContext } from './peer-events.js';
import type { Holder, Roster } from './roster.js';
import { encode } from './json-bytes.js';
import { type SignerKeys, signatureFault } from './server-key.js';

/** Refused peer frames are logged this many times per link, then once every thousand. */
const REFUSALS_LOGGED = 10;
/** A backfill frame stays well under the 64 KiB a server accepts. */
const BACKFILL_BYTES = 48 * 1024;

export interface PeerRelayDeps {
  self: string;
  roster: Roster;
  history: History;
  /** Whom names belong to: a peer's buddy under a bound name must have proved one of its keys. */
  identities: Identities;
  grace: Grace;
  clients: LocalClients;
  /** Whom a name belongs to changed: this server's client under it may have to go. */
  ownerChanged: (change: OwnerChange) => void;
  /** The set of servers as this server sees it. */
  servers: () => string[];
  limits: Readonly<ServerLimits>;
  log: Logger;
  /** This server saw a peer's Lamport clock (so its next event comes after). */
  observeClock: (clock: number) => void;
  /** A notice for this server's clients only (not history): a buddy of another server is away, back or gone. */
  notice: (type: 'away' | 'back' | 'leave', name: string, server: string) => void;
  /** An event reached this server's clients. */
  onRelayed: (event: ChatEvent) => void;
  /** This server's own client `name` lost its name to an earlier claim elsewhere: close it. */
  evictLocal: (name: string) => boolean;
  /** This server's own client `name` resumed on another server: its connection here is stale. */
  movedAway: (name: string) => void;
  /** An event of the history as a peer gets it: this server's own signed (if it is not yet). */
  signed: (event: ChatEvent) => ChatEvent;
  /** Where the keys an event's origin signs with are learnt (its file tokens are checked with them). */
  signers: Pick<SignerKeys, 'note'>;
}

/** The mesh's handler: what every link brings in. */
export class PeerRelay implements PeerHandlers {
  readonly #refusals = new WeakMap<PeerLink, number>();
  /**
   * Names a peer's roster claimed that a buddy elsewhere holds — after a split, both sides gave the
   * name away. Settled when the peer's join for it arrives by backfill: the earlier claim in the
   * set's order keeps the name, on both sides alike.
   */
  readonly #clashes = new Map<string, Map<string, string | undefined>>();

  constructor(private readonly deps: PeerRelayDeps) {}

  /** A live event from a peer; a `ts` far from this server's clock is replaced. */
  onEvent(link: PeerLink, event: ChatEvent, raw: Buffer): void {
    const { roster, limits, history, identities } = this.deps;
    if (history.has(event.id) || identities.has(event.id)) return; // it came by backfill already
    const now = Date.now();
    if (Math.abs(event.ts - now) > limits.maxClockSkewMs) {
      event = { ...event, ts: now };
      raw = encode(event);
    }
    const verdict = judgePeerEvent(event, this.#context(link, now));
    if (!verdict.ok) return this.#refuse(link, verdict.reason, event.type, event.name);
    // No server speaks for another: an event must be signed by the key its origin id stands for
    // (checked once per link for the peer's own origin: PeerLink.origin).
    if (event.origin !== link.origin) {
      const forged = signatureFault(event);
      if (forged) return this.#refuse(link, `event ${event.id} is not its origin's own: ${forged}`, event.type, event.name);
      // Only an event that passed the peer rules (its `server` is this link's) binds: a genuine old
      // event of a previous server at the same address could bind that origin; narrow, left as it is.
      link.origin ??= event.origin;
      this.deps.signers.note(event);
    }
    this.#noteIdentity(event);
    if ((event.type === 'join' || event.type === 'back') && !identities.admits(event.name, event.device)) {
      return this.#refuse(link, `${event.type} for "${event.name}" without one of the keys that name is bound to`, event.type, event.name);
    }
    if (verdict.displaced) this.#displace(verdict.displaced);
    this.deps.observeClock(event.clock);
    switch (event.type) {
      case 'back':
        // Its buddy resumed on the peer while this server still counted it as its own (it was
        // frozen, or the close has not come): that connection is stale and ends quietly.
        if (roster.isOn(this.deps.self, event.name)) this.deps.movedAway(event.name);
        roster.claimBy(link.url, event.name, event, event.key);
        this.deps.grace.cancel(event.name);
        break;
      case 'join':
        roster.claimBy(link.url, event.name, event, event.key);
        this.deps.grace.cancel(event.name);
        break;
      case 'leave':
        roster.remove(link.url, event.name);
        this.deps.grace.cancel(event.name);
        break;
      case 'away':
        roster.holder(event.name)!.away = true; // its server keeps the grace period and says how it ends
        break;
      case 'presence': {
        roster.setStatus(roster.holder(event.name)!, event.status);
        break;
      }
      case 'message':
      case 'direct':
      case 'file':
      case 'release':
        break;
    }
    history.add(event, raw.length);
    this.deps.clients.deliver(event, raw);
    this.deps.onRelayed(event);
  }

  /** Someone on the peer is typing: only a buddy of that server, and only to the clients who may see it. */
  onTyping(link: PeerLink, typing: IsTyping, raw: Buffer): void {
    if (typing.server !== link.url || !this.deps.roster.isOn(link.url, typing.name)) {
      return this.#refuse(link, `typing for "${typing.name}", who is not on that server`, 'is_typing', typing.name);
    }
    this.deps.clients.typing(typing, raw);
  }

  /** A peer's own buddies; each name is judged like a join (and never displaces anyone). */
  onRoster(link: PeerLink, roster: RosterFrame): void {
    if (roster.server !== link.url) return this.#refuse(link, `roster under another server's address (${roster.server})`, 'roster');
    const accepted: string[] = [];
    const context = this.#context(link, Date.now());
    if (roster.keys && roster.keys.length !== roster.names.length) return this.#refuse(link, 'roster keys do not match its names', 'roster');
    if (roster.devices && roster.devices.length !== roster.names.length) return this.#refuse(link, 'roster devices do not match its names', 'roster');
    for (const [i, name] of roster.names.entries()) {
      const key = roster.keys?.[i] || undefined;
      if (!this.deps.identities.admits(name, roster.devices?.[i] || undefined)) {
        this.#refuse(link, `roster names "${name}" without one of the keys that name is bound to`, 'roster', name);
        continue;
      }
      const verdict = judgeClaim(name, context);
      if (!verdict.ok) {
        const holder = this.deps.roster.holder(name);
        if (holder && holder.name === name && holder.server !== link.url) {
          const clashes = this.#clashes.get(link.url) ?? new Map<string, string | undefined>();
          this.#clashes.set(link.url, clashes.set(name, key));
        }
        this.#refuse(link, verdict.reason, 'roster', name);
        continue;
      }
      const known = this.deps.roster.holder(name);
      if (known?.server === link.url) {
        // Still there after a lost link (a healed split, a restart within the grace period).
        if (key) known.key = key;
        this.deps.grace.cancel(name);
        if (known.away) {
          known.away = false;
          this.deps.notice('back', name, link.url);
        }
        continue;
      }
      this.deps.roster.add(link.url, name, { since: 0, clock: 0, origin: '', ...(key ? { key } : {}) });
      accepted.push(name);
    }
    if (accepted.length) this.deps.clients.broadcast(encode(frame.roster(link.url, accepted)));
  }

  /**
   * A link opened: tell the peer who is here — after whom their names belong to, so a peer that
   * gave one of them away while apart learns first whose it is — and how far this server has seen
   * the set's history.
   */
  onLinkUp(link: PeerLink): void {
    const { clients, identities, history } = this.deps;
    const names = clients.names();
    this.#sendEvents(link, identities.of(names));
    for (let i = 0; i < names.length; i += Limits.ROSTER_CHUNK) {
      const chunk = names.slice(i, i + Limits.ROSTER_CHUNK);
      const keys = chunk.map((name) => this.deps.roster.holder(name)?.key ?? '');
      const devices = chunk.map((name) => clients.connection(name)?.device ?? '');
      link.outlet.sendEncoded(encode(frame.roster(this.deps.self, chunk, keys, devices)));
    }
    // The history's own: the bindings above may run ahead of the rest of their origins' events.
    link.outlet.sendEncoded(encode(frame.sync(history.seen())));
  }

  /**
   * The peer's view of the history: send it what it lacks, oldest first, in frames that fit — with
   * the identity events it lacks that the history has let go of (those are kept for good).
   */
  onSync(link: PeerLink, sync: Sync): void {
    const missing = this.deps.history.missing(sync.seen);
    const ids = new Set(missing.map((e) => e.id));
    const identities = this.deps.identities.missing(sync.seen).filter((e) => !ids.has(e.id));
    this.#sendEvents(link, identities.length === 0 ? missing : [...missing, ...identities].sort(compareEvents));
  }

  /** Events as `backfill` frames that fit, each signed by its origin. */
  #sendEvents(link: PeerLink, events: readonly ChatEvent[]): void {
    let chunk: ChatEvent[] = [];
    let bytes = 0;
    const flush = () => {
      if (chunk.length) link.outlet.sendEncoded(encode(frame.backfill(chunk)));
      chunk = [];
      bytes = 0;
    };
    for (const missing of events) {
      const event = this.deps.signed(missing);
      const size = JSON.stringify(event).length;
      if (chunk.length >= Limits.BACKFILL_CHUNK || bytes + size > BACKFILL_BYTES) flush();
      chunk.push(event);
      bytes += size;
    }
    flush();
  }

  /**
   * Events a peer had that this server may lack (its own, or relayed by it from others while this
   * server was away): each new one joins the history and reaches this server's clients, who place
   * it in the set's order. They are history, not news: the roster is not changed by them.
   */
  onBackfill(link: PeerLink, events: ChatEvent[]): void {
    for (const event of [...events].sort(compareEvents)) {
      if (event.id !== `${event.origin}-${event.seq}`) {
        this.#refuse(link, `backfilled event id "${event.id}" is not its origin-seq`, event.type, event.name);
        continue;
      }
      if (this.deps.history.has(event.id) && !isIdentityEvent(event)) continue;
      const forged = signatureFault(event);
      if (forged) {
        this.#refuse(link, `backfilled event ${event.id} is not its origin's own: ${forged}`, event.type, event.name);
        continue;
      }
      this.deps.signers.note(event);
      this.#noteIdentity(event);
      // An identity event older than all the history holds is kept only as that (identities.ts);
      // one ahead of its origin's other events (a link sends its buddies' bindings first) joins the
      // history when the backfill in order brings it again, so what this server says it has seen
      // never skips an event.
      if (this.deps.history.has(event.id) || this.deps.history.before(event)) continue;
      if (isIdentityEvent(event) && event.seq > this.deps.history.seenOf(event.origin) + 1) continue;
      this.deps.history.add(event);
      this.deps.observeClock(event.clock);
      this.deps.clients.deliver(event);
      this.deps.onRelayed(event);
    }
    this.#settleClashes(events);
  }

  /** An event that binds or releases a name is kept; whoever it leaves without their name is told. */
  #noteIdentity(event: ChatEvent): void {
    if (!isIdentityEvent(event)) return;
    const change = this.deps.identities.apply(event);
    if (change) this.deps.ownerChanged(change);
  }

  /** A split revealed one name given away on both sides: the claim earlier in the set's order keeps it. */
  #settleClashes(events: ChatEvent[]): void {
    for (const [peer, names] of this.#clashes) {
      for (const [name, key] of names) {
        const claim = [...events].reverse().find((e) => (e.type === 'join' || e.type === 'back') && e.name === name && e.server === peer);
        if (!claim) continue;
        names.delete(name);
        const holder = this.deps.roster.holder(name);
        if (!holder || holder.server === peer) continue;
        const held = this.#claimOf(holder);
        if (!held || compareEvents(claim, held) > 0) continue; // ours came first: the peer yields
        this.#displace(holder);
        this.deps.roster.claimBy(peer, name, claim, key);
        this.deps.clients.broadcast(encode(frame.roster(peer, [name])));
      }
      if (names.size === 0) this.#clashes.delete(peer);
    }
  }

  /** Where a holder's claim stands in the set's order; from the history when it came in a roster. */
  #claimOf(holder: Holder): { clock: number; origin: string } | undefined {
    if (holder.clock > 0) return holder;
    return this.deps.history.lastClaim(holder.name, holder.server);
  }

  /** A peer left or failed: its buddies are away; those that do not resume somewhere leave. */
  onLinkDown(url: string): void {
    this.#clashes.delete(url);
    for (const holder of this.deps.roster.on(url)) {
      if (!holder.away) this.deps.notice('away', holder.name, url);
      holder.away = true;
      this.deps.grace.start(holder.name, () => {
        if (this.deps.roster.remove(url, holder.name)) this.deps.notice('leave', holder.name, url);
      });
    }
  }

  #context(link: PeerLink, now: number): PeerContext {
    const { servers } = this.deps;
    return { roster: this.deps.roster, peer: link.url, linked: (url) => servers().includes(url), maxClients: this.deps.limits.maxClients, now };
  }

  /** Two servers gave one name away at the same instant, and the other claim came first. */
  #displace(holder: Holder): void {
    this.deps.log.info({ name: holder.name, server: holder.server }, 'name claimed first on another server');
    if (holder.server === this.deps.self && this.deps.evictLocal(holder.name)) return;
    this.deps.roster.remove(holder.server, holder.name);
    this.deps.notice('leave', holder.name, holder.server);
  }

  #refuse(link: PeerLink, reason: string, type: string, name?: string): void {
    const count = (this.#refusals.get(link) ?? 0) + 1;
    this.#refusals.set(link, count);
    if (count <= REFUSALS_LOGGED || count % 1000 === 0) {
      this.deps.log.warn({ peer: link.url, type, name, reason, count }, 'refused a frame from a peer');
    }
  }
}
