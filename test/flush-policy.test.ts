// server/flush-policy.ts: when a turn's writes go out — at once, or spaced under load.
import { describe, expect, it } from 'vitest';
import { FLUSH_SPACING_MS, FlushPolicy, LOADED_FRAMES_PER_SOCKET } from '../server/wire/flush-policy.js';

describe('FlushPolicy', () => {
  it('flushes right after the turn until a flush finds the sockets loaded', () => {
    const policy = new FlushPolicy();
    expect(policy.delay(1_000)).toBe(0);
    policy.flushing(1_000, 1_000, 1_000); // one frame per socket: a broadcast at a time
    expect(policy.delay(1_001)).toBe(0);
    policy.flushing(1_001, 3, LOADED_FRAMES_PER_SOCKET * 3 - 1);
    expect(policy.delay(1_002)).toBe(0);
  });

  it('under load, the next flush starts FLUSH_SPACING_MS after the last began, and not later', () => {
    const policy = new FlushPolicy();
    policy.flushing(1_000, 1_000, LOADED_FRAMES_PER_SOCKET * 1_000);
    expect(policy.delay(1_000)).toBe(FLUSH_SPACING_MS);
    expect(policy.delay(1_010)).toBe(FLUSH_SPACING_MS - 10);
    expect(policy.delay(1_000 + FLUSH_SPACING_MS + 5)).toBe(0); // already late: at once
  });

  it('a flush that finds fewer frames ends the spacing; one that writes no client socket changes nothing', () => {
    const policy = new FlushPolicy();
    policy.flushing(1_000, 10, LOADED_FRAMES_PER_SOCKET * 10);
    policy.flushing(1_010, 0, 0); // only peer links (corked) were written
    expect(policy.delay(1_011)).toBe(FLUSH_SPACING_MS - 11);
    policy.flushing(1_025, 10, 10);
    expect(policy.delay(1_026)).toBe(0);
    policy.flushing(1_030, 0, 0);
    expect(policy.delay(1_031)).toBe(0);
  });
});
