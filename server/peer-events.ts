// What a peer server may say (docs/protocol.md § Trust): a peer speaks only for its own clients.
// Every join, leave, message and roster name from a link is judged here before it is applied or
// relayed; a refused one is logged by the node and goes no further.
import type { ChatEvent } from '../shared/protocol.js';
import type { Holder, Roster } from './roster.js';

/**
 * Two joins of the same name on two servers within this many milliseconds are concurrent: the one
 * with the smaller (ts, server) keeps the name on every server. A later join of a held name is
 * refused, whatever its ts says, so no peer can take a present buddy's name.
 */
export const CONCURRENT_CLAIM_MS = 2_000;

export type Verdict = { ok: true; displaced?: Holder } | { ok: false; reason: string };

const refuse = (reason: string): Verdict => ({ ok: false, reason });

export interface PeerContext {
  roster: Roster;
  /** The peer's address: the link the event came on. */
  peer: string;
  maxClients: number;
  now: number;
}

export function judgePeerEvent(event: ChatEvent, ctx: PeerContext): Verdict {
  if (event.server !== ctx.peer) return refuse(`event under another server's address (${event.server})`);
  if (event.type === 'join') return judgeClaim(event.name, event.ts, ctx);
  return ctx.roster.isOn(ctx.peer, event.name) ? { ok: true } : refuse(`${event.type} for "${event.name}", who is not on that server`);
}

/** A name a peer says is on it, by a join (with its ts) or in a roster (ts 0: held before). */
export function judgeClaim(name: string, ts: number, ctx: PeerContext): Verdict {
  const { roster, peer } = ctx;
  const holder = roster.holder(name);
  if (!holder) {
    return roster.countOn(peer) >= ctx.maxClients ? refuse(`more than ${ctx.maxClients} buddies on one server`) : { ok: true };
  }
  if (holder.server === peer) return refuse(`"${name}" is already on that server`);
  const concurrent = ts > 0 && holder.since > 0 && Math.abs(ctx.now - holder.since) <= CONCURRENT_CLAIM_MS;
  if (concurrent && (ts < holder.since || (ts === holder.since && peer < holder.server))) return { ok: true, displaced: holder };
  return refuse(`"${name}" is held by a buddy on ${holder.server}`);
}
