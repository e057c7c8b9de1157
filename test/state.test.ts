import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../shared/bridge.js';
import { initialState, reduce, TIMELINE_LIMIT } from '../shared/chat-state.js';

const S = 'ws://10.0.0.1:4000';
const T = 'ws://10.0.0.2:4000';
const frame = (f: object): SessionEvent => ({ kind: 'frame', frame: f as never });
const meta = (n: number, server = S) => ({ id: `x-${n}`, server, ts: n });

describe('chat state', () => {
  it('builds buddies and the timeline from welcome, join, leave, roster and messages', () => {
    const state = [
      frame({
        type: 'welcome',
        name: 'Ann',
        server: S,
        servers: [S, T],
        buddies: [
          { name: 'Zed', server: T },
          { name: 'Ann', server: S },
        ],
      }),
      frame({ type: 'join', name: 'Ann', ...meta(1) }),
      frame({ type: 'roster', server: T, names: ['Bob'] }),
      frame({ type: 'message', name: 'Ann', text: 'mine', ...meta(2) }),
      frame({ type: 'message', name: 'Ann', text: 'same name, other server', ...meta(3, T) }),
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
    let state = reduce(initialState, frame({ type: 'welcome', name: 'Ann', server: S, servers: [S], buddies: [] }));
    for (let i = 0; i < TIMELINE_LIMIT + 10; i++) state = reduce(state, frame({ type: 'message', name: 'Bob', text: `${i}`, ...meta(i) }));
    expect(state.timeline).toHaveLength(TIMELINE_LIMIT);
    expect(state.timeline[0]).toMatchObject({ text: '10' });
  });

  it('a lost connection empties the buddies and says so in the timeline', () => {
    let state = reduce(initialState, frame({ type: 'welcome', name: 'Ann', server: S, servers: [S], buddies: [{ name: 'Ann', server: S }] }));
    state = reduce(state, { kind: 'status', status: 'connected' });
    state = reduce(state, { kind: 'status', status: 'disconnected', detail: 'Lost the connection to the server' });
    expect(state.buddies).toEqual([]);
    expect(state.timeline.at(-1)).toMatchObject({ kind: 'notice', text: 'Lost the connection to the server' });
  });
});
