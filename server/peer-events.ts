// What a peer server may say (docs/protocol.md § Trust): a peer speaks only for its own clients.
// Every join, leave, message, away, back and roster name from a link is judged here before it is
// applied or relayed; a refused one is logged by the node and goes no further.
import type { ChatEvent } from '../shared/protocol.js';
import { compareEvents } from './history.js';
import type { Holder, Roster } from './roster.js';

/**
 * Two joins of the same name on two servers within this many milliseconds are concurrent: the one
 * earlier in the set's order (Lamport clock, then origin) keeps the name on every server. A later
 * join of a held name is refused, whatever it says, so no peer can take a present buddy's name.
 */
export const CONCURRENT_CLAIM_MS = 2_000;

export type Verdict = { ok: true; displaced?: Holder } | { ok: false; reason: string };

const refuse = (reason: string): Verdict => ({ ok: false, reason });

export interface PeerContext {
  roster: Roster;
  /** The peer's address: the link the event came on. */
  peer: string;
  /** Addresses of the servers this one has an open link to. */
  linked: (url: string) => boolean;
  maxClients: number;
  now: number;
}

export function judgePeerEvent(event: ChatEvent, ctx: PeerContext): Verdict {
  if (event.id !== `${event.origin}-${event.seq}`) return refuse(`event id "${event.id}" is not its origin-seq`);
  if (event.server !== ctx.peer) return refuse(`event under another server's address (${event.server})`);
  if (event.type === 'join') return judgeClaim(event.name, ctx, event);
  if (event.type === 'back') {
    // A buddy resumed on the peer: fine if it was away, or its server is gone, or it was there already.
    const holder = ctx.roster.holder(event.name);
    if (!holder) return judgeClaim(event.name, ctx, event);
    if (holder.name === event.name && (holder.away || holder.server === ctx.peer || !ctx.linked(holder.server))) return { ok: true };
    // It proved the buddy's resume token on the peer: newer than a connection elsewhere that has not
    // closed yet — one on a server that was frozen, or whose close is still on its way.
    if (holder.name === event.name && event.key !== undefined && event.key === holder.key) return { ok: true };
    return refuse(`back for "${event.name}", who is present on ${holder.server}`);
  }
  return ctx.roster.isOn(ctx.peer, event.name) ? { ok: true } : refuse(`${event.type} for "${event.name}", who is not on that server`);
}

/** A name a peer says is on it, by a join (`event`) or in a roster (no event: held before). */
export function judgeClaim(name: string, ctx: PeerContext, event?: ChatEvent): Verdict {
  const { roster, peer } = ctx;
  const holder = roster.holder(name);
  if (!holder) {
    return roster.countOn(peer) >= ctx.maxClients ? refuse(`more than ${ctx.maxClients} buddies on one server`) : { ok: true };
  }
  if (holder.server === peer) return holder.name === name && !event ? { ok: true } : refuse(`"${name}" is already on that server`);
  const concurrent = event !== undefined && holder.since > 0 && Math.abs(ctx.now - holder.since) <= CONCURRENT_CLAIM_MS;
  if (concurrent && compareEvents(event, holder) < 0) return { ok: true, displaced: holder };
  return refuse(`"${name}" is held by a buddy on ${holder.server}`);
}
