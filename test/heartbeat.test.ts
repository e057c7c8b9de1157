// server/heartbeat.ts: a socket that stops answering pings is dropped; one that answers stays; pings go out in slices.
import { describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { Heartbeat } from '../server/heartbeat.js';
import { RawSocket } from './helpers/sockets.js';
import { eventually } from './helpers/waiters.js';

describe('Heartbeat', () => {
  it('terminates a socket that misses a ping, and keeps one that answers', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    const heartbeat = new Heartbeat(50);
    const accepted: WebSocket[] = [];
    wss.on('connection', (ws) => {
      accepted.push(ws);
      heartbeat.track(ws);
    });
    heartbeat.start();
    try {
      const lively = await RawSocket.open(url);
      const frozen = await RawSocket.open(url);
      // A frozen process reads nothing, so it never answers a ping (SIGSTOP does this for real in cli.test.ts).
      (frozen.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      await new Promise((r) => setTimeout(r, 400));
      expect(accepted.map((ws) => ws.readyState)).toEqual([1, 3]); // OPEN, CLOSED
      expect(lively.closed).toBeUndefined();
    } finally {
      heartbeat.stop();
      wss.close();
    }
  });

  it('spreads the pings of an interval over it, a slice at a time, not all in one turn', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    const heartbeat = new Heartbeat(2_000); // 50 slices 40 ms apart, one of the 20 sockets each
    wss.on('connection', (ws) => heartbeat.track(ws));
    const clients = await Promise.all(Array.from({ length: 20 }, () => RawSocket.open(url)));
    const pinged = new Set<number>();
    for (const [i, c] of clients.entries()) c.ws.on('ping', () => pinged.add(i));
    heartbeat.start();
    try {
      await eventually(() => expect(pinged.size).toBeGreaterThan(0)); // the first slice (at 40 ms)
      await new Promise((r) => setTimeout(r, 20)); // all of that slice's pings are here
      expect(pinged.size).toBeLessThan(10); // one a slice
      await eventually(() => expect(pinged.size).toBe(20)); // within the interval (2 s)
      expect(clients.every((c) => c.closed === undefined)).toBe(true); // every one answered
    } finally {
      heartbeat.stop();
      for (const c of clients) c.ws.terminate();
      wss.close();
    }
  });

  it('pings the sockets that came during a pass within about an interval, however many came', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    const heartbeat = new Heartbeat(1_000); // 50 slices 20 ms apart
    wss.on('connection', (ws) => heartbeat.track(ws));
    const pinged = new Set<RawSocket>();
    const open = async () => {
      const c = await RawSocket.open(url);
      c.ws.on('ping', () => pinged.add(c));
      return c;
    };
    const clients = await Promise.all(Array.from({ length: 100 }, open));
    heartbeat.start();
    try {
      // A pass starts with 100 sockets, two a slice: it takes the interval. 400 more come while it
      // runs (a storm of joins); at two a slice they would wait 4 s more.
      await eventually(() => expect(pinged.size).toBeGreaterThan(0));
      clients.push(...(await Promise.all(Array.from({ length: 400 }, open))));
      await eventually(() => expect(pinged.size).toBe(500), 3_500);
      expect(clients.every((c) => c.closed === undefined)).toBe(true);
    } finally {
      heartbeat.stop();
      for (const c of clients) c.ws.terminate();
      wss.close();
    }
  });
});
