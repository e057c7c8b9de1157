// server/mesh.ts on its own: two or three meshes on real WebSocket servers, glued by the few lines
// a node's connections do (first frame server_join_req → the socket is handed to the mesh's accept).
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { Heartbeat } from '../server/heartbeat.js';
import { Mesh } from '../server/mesh.js';
import { RawSocket } from './helpers/sockets.js';
import { eventually } from './helpers/waiters.js';
import { frame } from '../shared/protocol.js';
import { Access } from '../server/access.js';
import { newSetKeysWithoutTls } from '../server/set-keys.js';
import { Wire } from '../server/wire/wire.js';

interface Member {
  url: string;
  mesh: Mesh;
  down: string[];
  close(): void;
}

const members: Member[] = [];
afterEach(() => {
  for (const m of members.splice(0)) m.close();
});

/** The members of these tests are one set: they share its keys. */
const keys = newSetKeysWithoutTls();
const access = new Access({ keys, invitedReplicas: true, onKeysChanged() {} });

async function member(): Promise<Member> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
  const heartbeat = new Heartbeat(0);
  const down: string[] = [];
  const wire = new Wire();
  const mesh = new Mesh({
    self: url,
    wire,
    heartbeat,
    maxPeerBufferedBytes: 1 << 20,
    dialTimeoutMs: 2_000,
    aliveCheckMs: 300,
    dialBurst: 8,
    dialRate: 2,
    log: pino({ level: 'silent' }),
    access,
    relay: {
      onEvent() {},
      onRoster() {},
      onSync() {},
      onBackfill() {},
      onLinkUp() {},
      onLinkDown: (peer: string) => down.push(peer),
      onTyping() {},
    },
    onServersChanged() {},
    onSetKeys() {},
  });
  // What a ChatServer does before a link is the mesh's: hello, check the proof, auth_ok.
  wss.on('connection', (ws: WebSocket) => {
    const challenge = Access.challenge(undefined);
    ws.send(JSON.stringify(access.hello(challenge)));
    const handshake = (data: Buffer) => {
      const first = JSON.parse(data.toString());
      if (first.type !== 'server_join_req') return;
      const verdict = access.checkLink(first.auth, challenge);
      if (!verdict.ok) return ws.close(1008, verdict.code);
      ws.send(JSON.stringify(frame.authOk(verdict.proof)));
      ws.off('message', handshake); // the mesh reads the link from now on
      void mesh.accept(wire.outlet(ws), first.from);
    };
    ws.on('message', handshake);
  });
  const m = {
    url,
    mesh,
    down,
    close: () => {
      mesh.leave();
      wss.close();
      for (const c of wss.clients) c.terminate();
    },
  };
  members.push(m);
  return m;
}

describe('Mesh', () => {
  it('a join through one member links everyone to everyone, and every list is the same', async () => {
    const [a, b, c] = [await member(), await member(), await member()];
    await b.mesh.join(a.url);
    await c.mesh.join(a.url);
    const all = [a.url, b.url, c.url].sort();
    await eventually(() => {
      for (const m of [a, b, c]) expect(m.mesh.servers()).toEqual(all);
    });
  });

  it('leave tells the others, who drop the leaver and report its link down', async () => {
    const [a, b] = [await member(), await member()];
    await b.mesh.join(a.url);
    await eventually(() => expect(a.mesh.servers()).toHaveLength(2));
    b.close();
    await eventually(() => expect(a.mesh.servers()).toEqual([a.url]));
    expect(a.down).toEqual([b.url]);
  });

  it('refuses a second link for a live peer, and lets a restarted one (dead old link) back in', async () => {
    const [a, b] = [await member(), await member()];
    await b.mesh.join(a.url);
    await eventually(() => expect(a.mesh.servers()).toHaveLength(2));
    const impostor = await RawSocket.open(a.url);
    await impostor.linkAs(b.url, keys.serverInvite); // a member of the set, posing as another
    expect((await impostor.waitClosed()).reason).toMatch(/^PEER_REFUSED/);
    expect(a.mesh.openLinks()).toHaveLength(1);
    // B freezes (its socket reads nothing, so it answers no ping): a new link for its address wins.
    const bLink = a.mesh.openLinks()[0]!;
    const frozen = b.mesh.openLinks()[0]!;
    (frozen.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const restarted = await RawSocket.open(a.url);
    await restarted.linkAs(b.url, keys.serverInvite);
    await restarted.next((f) => f.type === 'update_servers');
    expect(a.mesh.openLinks().map((l) => l.url)).toEqual([b.url]);
    expect(a.mesh.openLinks()[0]).not.toBe(bLink);
    expect(a.down).toEqual([b.url]); // the old link's buddies are gone; the new link brings its own
  });
});
