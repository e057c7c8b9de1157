import { describe, expect, it } from 'vitest';
import { closeReason, codeOfCloseReason, ErrorCode } from '../shared/errors.js';
import {
  CLIENT_REQUEST_TYPES,
  type ChatEvent,
  EVENT_TYPES,
  decodeClientInbound,
  decodeServerInbound,
  frame,
  isChatEvent,
  isClientRequest,
  isNotice,
  isPeerFrame,
  Limits,
  PEER_FRAME_TYPES,
  parsePort,
  parseServerAddress,
  validateName,
  validateText,
} from '../shared/protocol.js';

const decode = (frame: unknown) => decodeServerInbound(typeof frame === 'string' ? frame : JSON.stringify(frame));
const codeOf = (frame: unknown) => {
  const r = decode(frame);
  return r.ok ? 'ok' : r.error.code;
};

describe('protocol', () => {
  describe('decodeServerInbound', () => {
    it('accepts the seminar messages', () => {
      expect(decode({ type: 'client_join_req', name: 'John' })).toEqual({ ok: true, value: { type: 'client_join_req', name: 'John' } });
      expect(codeOf({ type: 'client_leave_req', name: 'John' })).toBe('ok');
      expect(codeOf({ type: 'send', name: 'John', text: 'hi!\nsecond line' })).toBe('ok');
      expect(codeOf({ type: 'server_join_req', from: 'ws://10.0.0.2:4000' })).toBe('ok');
      expect(codeOf({ type: 'update_servers', servers: ['ws://10.0.0.2:4000'] })).toBe('ok');
      const meta = { id: '0123456789abcdef-1', origin: '0123456789abcdef', seq: 1, clock: 1, server: 'ws://h:1', ts: 1 };
      expect(codeOf({ type: 'join', name: 'A', ...meta })).toBe('ok');
      // Without its place in the set's order, an event is not one.
      expect(codeOf({ type: 'join', name: 'A', id: 'x-1', server: 'ws://h:1', ts: 1 })).toBe('BAD_FRAME');
    });

    it('accepts what keeps a conversation going: acked sends, resume, history pages, pings', () => {
      expect(codeOf({ type: 'send', name: 'John', text: 'hi', cid: 'c-1' })).toBe('ok');
      expect(codeOf({ type: 'client_join_req', name: 'John', resume: { token: 'abc', after: '0123456789abcdef-7' } })).toBe('ok');
      expect(codeOf({ type: 'history_req', before: '0123456789abcdef-7', limit: 50 })).toBe('ok');
      expect(codeOf({ type: 'history_req', limit: 501 })).toBe('BAD_FRAME');
      expect(codeOf({ type: 'ping' })).toBe('ok');
      expect(codeOf({ type: 'sync', seen: { '0123456789abcdef': 7 } })).toBe('ok');
      expect(codeOf({ type: 'sync', seen: { 'not-hex': 7 } })).toBe('BAD_FRAME');
    });

    it('names what is wrong with a frame', () => {
      expect(codeOf('not json')).toBe('BAD_JSON');
      expect(codeOf([1, 2])).toBe('BAD_FRAME');
      expect(codeOf({ name: 'x' })).toBe('BAD_FRAME');
      expect(codeOf({ type: 'shout', name: 'x' })).toBe('UNKNOWN_TYPE');
      expect(codeOf({ type: 'toString' })).toBe('UNKNOWN_TYPE');
      expect(codeOf({ type: 'send', name: 'x' })).toBe('TEXT_INVALID');
      expect(codeOf({ type: 'send', name: 'x', text: 'hi', extra: 1 })).toBe('BAD_FRAME');
      expect(codeOf({ type: 'client_join_req' })).toBe('NAME_INVALID');
      expect(codeOf({ type: 'server_join_req', from: 'http://x' })).toBe('BAD_FRAME');
    });

    it('reports the unexpected field by name', () => {
      const r = decode({ type: 'send', name: 'x', text: 'hi', admin: true });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.message).toContain('"admin"');
    });
  });

  describe('names', () => {
    it('allows 1–32 printable characters, emoji and accents included', () => {
      expect(validateName('Zoë').ok).toBe(true);
      expect(validateName('👩‍💻 dev').ok).toBe(true);
      expect(validateName('x'.repeat(Limits.NAME_MAX_CHARS)).ok).toBe(true);
    });

    it('counts characters as people see them: 32 accented letters of two code units each are 32', () => {
      const accented = 'e\u0301'; // é as e and a combining accent: one character, two UTF-16 units
      expect(validateName(accented.repeat(Limits.NAME_MAX_CHARS)).ok).toBe(true);
      expect(validateName(accented.repeat(Limits.NAME_MAX_CHARS + 1))).toMatchObject({
        ok: false,
        error: { code: 'NAME_INVALID', message: 'name must be at most 32 characters' },
      });
    });

    it('refuses empty, long, padded and control-character names', () => {
      for (const bad of ['', 'x'.repeat(33), ' John', 'John ', 'a\u001b[31mb', 'a\nb', 'evil\u202Eman', '   ']) {
        expect(validateName(bad), JSON.stringify(bad)).toMatchObject({ ok: false, error: { code: 'NAME_INVALID' } });
      }
    });
  });

  describe('texts', () => {
    it('allows up to 4,000 characters and refuses blank text', () => {
      expect(validateText('x'.repeat(4000)).ok).toBe(true);
      expect(validateText('x'.repeat(4001))).toMatchObject({ ok: false, error: { code: 'TEXT_INVALID' } });
      expect(validateText(' \n\t ')).toMatchObject({ ok: false, error: { code: 'TEXT_INVALID' } });
    });
  });

  describe('decodeClientInbound', () => {
    it('accepts what servers send and refuses client requests', () => {
      expect(decodeClientInbound('{"type":"exit"}').ok).toBe(true);
      expect(decodeClientInbound('{"type":"error","code":"SOMETHING_NEW","message":"m"}').ok).toBe(true);
      expect(decodeClientInbound('{"type":"send","name":"a","text":"b"}')).toMatchObject({ ok: false, error: { code: 'UNKNOWN_TYPE' } });
    });
  });
});

describe('history pages', () => {
  const origin = '0123456789abcdef';
  const key = 'a'.repeat(64);
  const join = (seq: number, name: string, ts = 1_000, from = origin): ChatEvent => ({
    type: 'join',
    name,
    key,
    id: `${from}-${seq}`,
    origin: from,
    seq,
    clock: seq,
    server: 'ws://h:1',
    ts,
  });
  const events: ChatEvent[] = [
    join(1, 'A'),
    join(2, 'B', 1_200),
    join(3, 'C', 1_900),
    join(4, 'D', 2_500), // more than a second after A: a run of its own
    { type: 'message', name: 'A', text: 'hi', id: `${origin}-5`, origin, seq: 5, clock: 5, server: 'ws://h:1', ts: 2_600 },
    join(6, 'E', 2_700),
    join(8, 'F', 2_700), // a gap in seq
    join(1, 'G', 2_700, 'fedcba9876543210'), // another origin
    { type: 'back', name: 'A', key, id: `${origin}-9`, origin, seq: 9, clock: 9, server: 'ws://h:1', ts: 2_800 },
    { type: 'leave', name: 'E', id: `${origin}-10`, origin, seq: 10, clock: 10, server: 'ws://h:1', ts: 2_900 },
    { type: 'leave', name: 'F', id: `${origin}-11`, origin, seq: 11, clock: 11, server: 'ws://h:1', ts: 2_900 },
  ];

  it('carry runs of joins (or leaves…) as batches, and read back as the events clients get (without resume keys)', () => {
    const sent = frame.history(events, false);
    const items = sent.events.map((e) => (e.type === 'batch' ? `${e.event}:${e.names}` : e.type));
    expect(items).toEqual(['join:A,B,C', 'join', 'message', 'join', 'join', 'join', 'back', 'leave:E,F']);
    expect(JSON.stringify(sent)).not.toContain(key);
    const read = decodeClientInbound(JSON.stringify(sent));
    // A batch's joins all read as at its first one's time; nothing else changes.
    const withoutKeys = events.map(({ key: _, ...rest }: ChatEvent & { key?: string }) => rest);
    withoutKeys[1]!.ts = 1_000;
    withoutKeys[2]!.ts = 1_000;
    expect(read).toEqual({ ok: true, value: { type: 'history', events: withoutKeys, more: false } });
  });

  it('carry notices (no seq of their own) as batches whose ids stay notices, distinct from every other', () => {
    const notice = (name: string, suffix: string): ChatEvent => ({
      type: 'away',
      name,
      id: `${origin}-9.${suffix}`,
      origin,
      seq: 9,
      clock: 9,
      server: 'ws://h:2',
      ts: 5_000,
    });
    const first = frame.history([notice('A', 'aa11'), notice('B', 'bb22'), notice('C', 'cc33')], false);
    expect(first.events).toEqual([
      { type: 'batch', event: 'away', server: 'ws://h:2', origin, seq: 9, clock: 9, ts: 5_000, names: ['A', 'B', 'C'], notice: 'aa11' },
    ]);
    const read = decodeClientInbound(JSON.stringify(first));
    const ids = read.ok && read.value.type === 'history' ? read.value.events.map((e) => e.id) : [];
    expect(ids).toEqual([`${origin}-9.aa11.0`, `${origin}-9.aa11.1`, `${origin}-9.aa11.2`]);
    expect(ids.every((id) => isNotice({ id }))).toBe(true);
    // A notice never joins a run of events, nor an event a run of notices.
    const away: ChatEvent = { type: 'away', name: 'D', id: `${origin}-9`, origin, seq: 9, clock: 9, server: 'ws://h:2', ts: 5_000 };
    expect(frame.history([away, notice('E', 'dd44')], false).events.map((e) => e.type)).toEqual(['away', 'away']);
    expect(frame.history([notice('E', 'dd44'), away], false).events.map((e) => e.type)).toEqual(['away', 'away']);
  });

  it('refuse a malformed batch', () => {
    const bad = { type: 'history', more: false, events: [{ type: 'batch', event: 'join', server: 'ws://h:1', origin, seq: 1, clock: 1, ts: 1, names: [] }] };
    expect(decodeClientInbound(JSON.stringify(bad))).toMatchObject({ ok: false, error: { code: 'BAD_FRAME' } });
  });
});

describe('parseServerAddress', () => {
  it('accepts what people type', () => {
    expect(parseServerAddress('192.168.1.20')).toEqual({ ok: true, value: 'wss://192.168.1.20:4000' });
    expect(parseServerAddress(' 192.168.1.20:4001 ')).toEqual({ ok: true, value: 'wss://192.168.1.20:4001' });
    expect(parseServerAddress('ws://laptop.local:4000')).toEqual({ ok: true, value: 'ws://laptop.local:4000' });
    expect(parseServerAddress('ws://laptop.local:4000/')).toEqual({ ok: true, value: 'ws://laptop.local:4000' });
  });
  it('refuses what is not a server address', () => {
    for (const bad of ['', 'http://x:4000', 'ws://x:4000/path', 'x:99999', 'a b']) {
      expect(parseServerAddress(bad).ok, bad).toBe(false);
    }
  });
});

describe('parsePort', () => {
  it('is the one port rule: 0 (a free port) to 65535, typed or given', () => {
    expect(parsePort('4000')).toEqual({ ok: true, value: 4000 });
    expect(parsePort(0)).toEqual({ ok: true, value: 0 });
    for (const bad of ['', '-1', '65536', '80.5', 'eighty', 70000]) expect(parsePort(bad).ok, String(bad)).toBe(false);
  });
});

describe('the lists of frame types (derived from the schema maps, never typed again)', () => {
  it('splits what a server receives into client requests and peer frames, events among the latter', () => {
    expect(EVENT_TYPES).toEqual(['join', 'leave', 'message', 'away', 'back', 'direct', 'presence', 'file', 'release']);
    expect(CLIENT_REQUEST_TYPES).toEqual([
      'client_join_req',
      'client_leave_req',
      'send',
      'history_req',
      'ping',
      'set_status',
      'typing',
      'search_req',
      'whois_req',
    ]);
    for (const type of EVENT_TYPES) expect(PEER_FRAME_TYPES).toContain(type);
    for (const type of CLIENT_REQUEST_TYPES) expect(PEER_FRAME_TYPES).not.toContain(type);
    expect(isChatEvent({ type: 'file' })).toBe(true);
    expect(isChatEvent({ type: 'welcome' })).toBe(false);
    expect(isClientRequest({ type: 'search_req' })).toBe(true);
    expect(isPeerFrame({ type: 'server_join_req' })).toBe(true);
    expect(isPeerFrame({ type: 'send' })).toBe(false);
  });

  it('tells bad local input from a bad frame', () => {
    expect(parsePort('eighty')).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
  });
});

describe('close reasons', () => {
  it('carry an error code first, read back without a regex', () => {
    expect(closeReason(ErrorCode.SLOW_CONSUMER, 'you fell too far behind')).toBe('SLOW_CONSUMER: you fell too far behind');
    expect(codeOfCloseReason('SLOW_CONSUMER: you fell too far behind')).toBe('SLOW_CONSUMER');
    expect(codeOfCloseReason(closeReason(ErrorCode.SERVER_FULL))).toBe('SERVER_FULL');
    expect(codeOfCloseReason('left')).toBeUndefined();
    expect(codeOfCloseReason('NOT_A_CODE: x')).toBeUndefined();
  });
});
