import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../shared/bridge.js';
import { Attention } from '../shared/attention.js';

const S = 'ws://10.0.0.1:4000';
const message = (name: string, text: string, server = S): SessionEvent => ({
  kind: 'frame',
  frame: { type: 'message', name, text, id: `0123456789abcdef-${text.length}`, origin: '0123456789abcdef', seq: text.length, clock: 1, server, ts: 1 },
});
const me = { name: 'Ann', server: S };

describe('Attention', () => {
  it("counts others' messages while unfocused and notifies for each", () => {
    const attention = new Attention();
    expect(attention.onEvent(message('Bob', 'hi'), false, me)).toEqual({ unread: 1, title: '(1) Chatty', notification: { title: 'Chatty: Bob', body: 'hi' } });
    expect(attention.onEvent(message('Bob', 'again'), false, me)).toMatchObject({ unread: 2, title: '(2) Chatty' });
    expect(attention.onFocus()).toEqual({ unread: 0, title: 'Chatty' });
  });

  it('stays quiet while focused, for own messages, and for joins and leaves', () => {
    const attention = new Attention();
    expect(attention.onEvent(message('Bob', 'hi'), true, me)).toBeUndefined();
    expect(attention.onEvent(message('Ann', 'mine'), false, me)).toBeUndefined();
    expect(
      attention.onEvent(
        { kind: 'frame', frame: { type: 'join', name: 'Cid', id: '0123456789abcdef-9', origin: '0123456789abcdef', seq: 9, clock: 1, server: S, ts: 1 } },
        false,
        me,
      ),
    ).toBeUndefined();
    // Names are unique across the set: the user's own message is still theirs after moving to another server.
    expect(attention.onEvent(message('Ann', 'sent after a failover', 'ws://10.0.0.2:4000'), false, me)).toBeUndefined();
  });

  it('shortens long texts in the notification', () => {
    const update = new Attention().onEvent(message('Bob', 'x'.repeat(1000)), false, me);
    expect(update?.notification?.body).toHaveLength(200);
    expect(update?.notification?.body.endsWith('…')).toBe(true);
  });

  it('says when a message mentions the user, or is for them only', () => {
    const attention = new Attention();
    expect(attention.onEvent(message('Bob', 'hey @ann, look'), false, me)?.notification?.title).toBe('Chatty: Bob mentioned you');
    expect(attention.onEvent(message('Bob', 'mail@annex.org is not you'), false, me)?.notification?.title).toBe('Chatty: Bob');
    const direct: SessionEvent = {
      kind: 'frame',
      frame: {
        type: 'direct',
        name: 'Bob',
        to: 'Ann',
        text: 'psst',
        id: '0123456789abcdef-77',
        origin: '0123456789abcdef',
        seq: 77,
        clock: 1,
        server: S,
        ts: 1,
      },
    };
    expect(attention.onEvent(direct, false, me)?.notification).toEqual({ title: 'Chatty: Bob (to you only)', body: 'psst' });
  });

  it('with the public chat muted: public messages neither count nor notify; mentions, direct messages and files to the user do', () => {
    const attention = new Attention();
    attention.setMutePublic(true);
    expect(attention.onEvent(message('Bob', 'lunch anyone?'), false, me)).toBeUndefined();
    expect(attention.onEvent(message('Bob', '@Ann lunch?'), false, me)).toMatchObject({ unread: 1, notification: { title: 'Chatty: Bob mentioned you' } });
    const meta = { origin: '0123456789abcdef', clock: 1, server: S, ts: 1 };
    const direct: SessionEvent = {
      kind: 'frame',
      frame: { type: 'direct', name: 'Bob', to: 'Ann', text: 'psst', id: '0123456789abcdef-20', seq: 20, ...meta },
    };
    expect(attention.onEvent(direct, false, me)).toMatchObject({ unread: 2, notification: { title: 'Chatty: Bob (to you only)' } });
    const file = (to?: string): SessionEvent => ({
      kind: 'frame',
      frame: {
        type: 'file',
        name: 'Bob',
        ...(to ? { to } : {}),
        file: { name: 'plan.pdf', size: 2048, type: 'application/pdf', hash: 'a'.repeat(64) },
        id: '0123456789abcdef-21',
        seq: 21,
        ...meta,
      },
    });
    expect(attention.onEvent(file(), false, me)).toBeUndefined();
    expect(attention.onEvent(file('Ann'), false, me)).toMatchObject({
      unread: 3,
      notification: { title: 'Chatty: Bob (to you only)', body: 'shared plan.pdf (2.0 KB)' },
    });
    attention.setMutePublic(false);
    expect(attention.onEvent(file(), false, me)).toMatchObject({ unread: 4, notification: { title: 'Chatty: Bob', body: 'shared plan.pdf (2.0 KB)' } });
  });
});
