// server/heartbeat.ts: a socket that stops answering pings is dropped; one that answers stays.
import { describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { Heartbeat } from '../server/heartbeat.js';
import { RawSocket } from './helpers/sockets.js';

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
});
