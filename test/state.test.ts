import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../shared/bridge.js';
import { conversationOf, initialState, openConversation, PUBLIC, reduce, TIMELINE_LIMIT, withKnownKeys } from '../shared/chat-state.js';
import { safetyNumber } from '../shared/fingerprint.js';

const S = 'ws://10.0.0.1:4000';
const T = 'ws://10.0.0.2:4000';
const frame = (f: object): SessionEvent => ({ kind: 'frame', frame: f as never });
const ORIGIN = 'aaaaaaaaaaaaaaaa';
const meta = (n: number, server = S, origin = ORIGIN) => ({ id: `${origin}-${n}`, origin, seq: n, clock: n, server, ts: n });

describe('chat state', () => {
  it('learns whose a name is (whois): a key other than the one seen before is said in that conversation only', () => {
    const [k1, k2] = ['A'.repeat(43), 'B'.repeat(43)];
    const welcomed = reduce(withKnownKeys(initialState, { Bob: k1 }), frame({ type: 'welcome', name: 'Ann', server: S, servers: [S], roster: {} }));
    const same = reduce(welcomed, frame({ type: 'whois', name: 'Bob', key: k1, devices: 1, since: 5 }));
    expect(same.people.Bob).toEqual({ key: k1, safetyNumber: safetyNumber(k1), devices: 1, since: 5 });
    expect(same.timeline).toEqual([]);
    const changed = reduce(same, frame({ type: 'whois', name: 'Bob', key: k2, devices: 1, since: 9 }));
    expect(changed.knownKeys).toEqual({ Bob: k2 });
    expect(changed.timeline).toHaveLength(1);
    expect(changed.timeline[0]).toMatchObject({ kind: 'notice', with: 'Bob', text: expect.stringContaining(safetyNumber(k2)) });
    expect(conversationOf(changed.timeline[0]!)).toBe('Bob');
    // Bound to nobody: nothing to compare, nothing said.
    const free = reduce(changed, frame({ type: 'whois', name: 'Cid' }));
    expect(free.people.Cid).toEqual({});
    expect(free.timeline).toHaveLength(1);
    expect(safetyNumber(k1)).toMatch(/^(\d{5} ){5}\d{5}$/);
  });

  it('builds buddies and the timeline from welcome, join, leave, roster and messages', () => {
    const state = [
      frame({
        type: 'welcome',
        name: 'Ann',
        server: S,
        servers: [S, T],
        roster: { [T]: ['Zed'], [S]: ['Ann'] },
      }),
      frame({ type: 'join', name: 'Ann', ...meta(1) }),
      frame({ type: 'roster', server: T, names: ['Bob'] }),
      frame({ type: 'message', name: 'Ann', text: 'mine', ...meta(2) }),
      frame({ type: 'message', name: 'Bob', text: 'from Bob', ...meta(3, T) }),
      frame({ type: 'leave', name: 'Zed', ...meta(4, T) }),
    ].reduce(reduce, initialState);
    expect(state.me).toBe('Ann');
    expect(state.buddies).toEqual([
      { name: 'Ann', server: S },
      { name: 'Bob', server: T },
    ]);
    expect(state.timeline.map((e) => e.kind)).toEqual(['join', 'message', 'message', 'leave']);
    expect(state.timeline.filter((e) => e.kind === 'message').map((e) => e.kind === 'message' && e.mine)).toEqual([true, false]);
  });

  it('keeps at most TIMELINE_LIMIT entries', () => {
    let state = reduce(initialState, frame({ type: 'welcome', name: 'Ann', server: S, servers: [S], roster: {} }));
    for (let i = 0; i < TIMELINE_LIMIT + 10; i++) state = reduce(state, frame({ type: 'message', name: 'Bob', text: `${i}`, ...meta(i) }));
    expect(state.timeline).toHaveLength(TIMELINE_LIMIT);
    expect(state.timeline[0]).toMatchObject({ text: '10' });
  });

  it('a lost connection empties the buddies and says so in the timeline', () => {
    let state = reduce(initialState, frame({ type: 'welcome', name: 'Ann', server: S, servers: [S], roster: { [S]: ['Ann'] } }));
    state = reduce(state, { kind: 'status', status: 'connected' });
    state = reduce(state, { kind: 'status', status: 'disconnected', detail: 'Lost the connection to the server' });
    expect(state.buddies).toEqual([]);
    expect(state.timeline.at(-1)).toMatchObject({ kind: 'notice', text: 'Lost the connection to the server' });
  });

  it('places late events in the set order, shows each once, and a resend through another server once', () => {
    const B = 'bbbbbbbbbbbbbbbb';
    let state = reduce(initialState, frame({ type: 'welcome', name: 'Ann', server: S, servers: [S, T], roster: {} }));
    state = reduce(state, frame({ type: 'message', name: 'Bob', text: 'third', ...meta(3) }));
    state = reduce(state, frame({ type: 'message', name: 'Bob', text: 'first', ...meta(1) })); // backfilled after a split
    state = reduce(state, frame({ type: 'message', name: 'Bob', text: 'first', ...meta(1) })); // and again, live
    state = reduce(state, frame({ type: 'history', events: [{ type: 'message', name: 'Cid', text: 'second', ...meta(2, T, B) }], more: false }));
    // Bob's resend (same cid) was published by two servers: the one earlier in the set's order stays, wherever it arrives.
    state = reduce(state, frame({ type: 'message', name: 'Bob', text: 'once', cid: 'c1', ...meta(5, T, B) }));
    state = reduce(state, frame({ type: 'message', name: 'Bob', text: 'once', cid: 'c1', ...meta(4) }));
    expect(state.timeline.map((e) => e.kind === 'message' && e.text)).toEqual(['first', 'second', 'third', 'once']);
    expect(state.timeline.at(-1)).toMatchObject({ id: `${ORIGIN}-4` });
  });

  it('shows a send as pending until its event arrives, and failed when the chat is lost', () => {
    let state = reduce(initialState, frame({ type: 'welcome', name: 'Ann', server: S, servers: [S], roster: {} }));
    state = reduce(state, frame({ type: 'message', name: 'Bob', text: 'hi', ...meta(7) }));
    state = reduce(state, { kind: 'pending', cid: 'c1', text: 'hello' });
    state = reduce(state, { kind: 'pending', cid: 'c2', text: 'are you there?' });
    expect(state.timeline.map((e) => e.kind === 'message' && [e.text, e.pending])).toEqual([
      ['hi', undefined],
      ['hello', 'sending'],
      ['are you there?', 'sending'],
    ]);
    state = reduce(state, frame({ type: 'message', name: 'Ann', text: 'hello', cid: 'c1', ...meta(8) }));
    state = reduce(state, { kind: 'failed', cids: ['c2'] });
    expect(state.timeline.map((e) => e.kind === 'message' && [e.text, e.pending])).toEqual([
      ['hi', undefined],
      ['hello', undefined],
      ['are you there?', 'failed'],
    ]);
  });

  it('a resumed welcome keeps the timeline; a new one starts from the history that follows', () => {
    let state = reduce(initialState, frame({ type: 'welcome', name: 'Ann', server: S, servers: [S], roster: {} }));
    state = reduce(state, frame({ type: 'message', name: 'Bob', text: 'before', ...meta(1) }));
    state = reduce(state, frame({ type: 'welcome', name: 'Ann', server: T, servers: [S, T], roster: {}, resumed: true }));
    state = reduce(state, frame({ type: 'history', events: [{ type: 'message', name: 'Bob', text: 'missed', ...meta(2) }], more: false }));
    expect(state.timeline.map((e) => e.kind === 'message' && e.text)).toEqual(['before', 'missed']);
    expect(state.server).toBe(T);
    state = reduce(state, frame({ type: 'welcome', name: 'Ann', server: T, servers: [S, T], roster: {} }));
    expect(state.timeline).toEqual([]);
  });

  it('keeps direct messages in their conversation, counts what comes while another is shown, and clears it when opened', () => {
    let state = [
      frame({ type: 'welcome', name: 'Ann', server: S, servers: [S], roster: {} }),
      frame({ type: 'direct', name: 'Bob', to: 'Ann', text: 'psst', ...meta(1) }),
      frame({ type: 'direct', name: 'Bob', to: 'Ann', text: 'psst', ...meta(1) }), // the same event twice: counted once
      frame({ type: 'message', name: 'Cid', text: 'public', ...meta(2) }),
    ].reduce(reduce, initialState);
    expect(state.timeline.map((e) => [conversationOf(e), e.kind === 'message' ? e.text : e.kind])).toEqual([
      ['Bob', 'psst'],
      [PUBLIC, 'public'],
    ]);
    expect(state.unread).toEqual({ Bob: 1 });
    state = openConversation(state, 'Bob');
    expect(state.unread).toEqual({});
    // Ann's own direct message (pending, then confirmed) belongs to the conversation with Bob, and is never unread.
    state = reduce(state, { kind: 'pending', cid: 'c1', text: 'hi Bob', to: 'Bob' });
    state = reduce(state, frame({ type: 'direct', name: 'Ann', to: 'Bob', text: 'hi Bob', cid: 'c1', ...meta(3) }));
    expect(state.timeline.filter((e) => conversationOf(e) === 'Bob').map((e) => (e.kind === 'message' ? [e.text, e.pending ?? 'sent'] : e.kind))).toEqual([
      ['psst', 'sent'],
      ['hi Bob', 'sent'],
    ]);
    state = reduce(state, frame({ type: 'message', name: 'Cid', text: 'again', ...meta(4) }));
    expect(state.unread).toEqual({ [PUBLIC]: 1 });
  });
});
