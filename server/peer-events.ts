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
  // The operator of any server of the set may release a name (§ Identity; § Trust says what that allows).
  if (event.type === 'release') return { ok: true };
  if (event.type === 'join') return judgeClaim(event.name, ctx, event);
  if (event.type === 'back') {
    const holder = ctx.roster.holder(event.name);
    if (!holder) return judgeClaim(event.name, ctx, event);
    if (holder.name !== event.name) return refuse(`back for "${event.name}", whose look-alike "${holder.name}" is present`);
    // A buddy that was on the peer already comes back on its own server's word.
    if (holder.server === ctx.peer) return { ok: true };
    // From anywhere else, a resume shows the buddy's resume key (the buddy proved its token on the
    // peer): without it, no server can claim an away buddy and lock the real one out. With it, it
    // wins over a connection elsewhere that has not closed yet (a frozen server, a close on its way).
    if (holder.key !== undefined) return event.key === holder.key ? { ok: true } : refuse(`back for "${event.name}" without that buddy's resume key`);
    // A buddy known only by name (a roster from before keys): away, or its server gone.
    return holder.away || !ctx.linked(holder.server) ? { ok: true } : refuse(`back for "${event.name}", who is present on ${holder.server}`);
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
