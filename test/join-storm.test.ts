// Presence in linear time (#13): a storm of joins (or of lost connections) goes to clients in a few batches, welcomes list
// everyone from the roster's kept bytes, and a history page carries runs of joins as batches.
// Real nodes and sockets; frames are counted as they come off the wire.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { pageDir } from '../server/hosting.js';
import { staticFiles } from '../server/static-files.js';
import { buddiesOf, decodeClientInbound, isNotice, Limits, type Welcome } from '../shared/protocol.js';
import { CHROMIUM, chromiumForFile, hasChromium, joinInBrowser, pageOf } from './helpers/browser.js';
import { joining, startNode } from './helpers/nodes.js';
import { type AnyFrame, RawSocket } from './helpers/sockets.js';

const STORM = 300;
if (!hasChromium) console.log(`SKIP: the page in a storm: no Chromium at ${CHROMIUM}`);
/** Hundreds of joins from one address at once: the per-address join limits and TLS are not what is tested. */
const stormLimits = { insecure: true, limits: { joinBurstPerAddress: 1e6, joinRatePerAddress: 1e6, pendingPerAddress: 1e6, pendingTotal: 1e6 } };

/** Every frame a socket gets, as sent (a `batch` as one frame). */
function wireFrames(ws: WebSocket): AnyFrame[] {
  const frames: AnyFrame[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as AnyFrame));
  return frames;
}

describe('a storm of joins', () => {
  it('reaches every client in a few frames, each join once and in order; someone joining afterwards is heard before what they say', async () => {
    const node = await startNode(stormLimits);
    const watcher = await RawSocket.join(node.url, 'Watcher');
    const onWire = wireFrames(watcher.ws);
    const names = Array.from({ length: STORM }, (_, i) => `c${i}`);
    await Promise.all(names.map((name) => RawSocket.join(node.url, name)));
    await watcher.until(() => (watcher.events().filter((e) => e.startsWith('join:c')).length === STORM ? true : undefined), 10_000, 'every join');

    const joins = watcher.frames.filter((f) => f.type === 'join' && f.name !== 'Watcher');
    expect(new Set(joins.map((f) => f.name))).toEqual(new Set(names));
    expect(joins.map((f) => f.seq)).toEqual([...joins.map((f) => f.seq)].sort((a, b) => a - b));
    // Batches, not a frame per join (how many depends on how the joins spread over time).
    const carrying = onWire.filter((f) => f.type === 'batch' || f.type === 'join');
    expect(carrying.length).toBeLessThan(STORM / 10);
    expect(JSON.stringify(onWire)).not.toMatch(/"key"/);

    // Someone joining into the quiet is heard on its own, before what they say next.
    const late = await RawSocket.join(node.url, 'Late');
    late.send({ type: 'send', name: 'Late', text: 'hello all' });
    await watcher.next((f) => f.type === 'message' && f.text === 'hello all');
    expect(watcher.events().slice(-2)).toEqual(['join:Late', 'message:Late:hello all']);
  });

  it('many connections lost at once reach the others as a few batches of aways', async () => {
    const node = await startNode(stormLimits);
    const watcher = await RawSocket.join(node.url, 'Watcher');
    const joined = await Promise.all(Array.from({ length: STORM }, (_, i) => RawSocket.join(node.url, `c${i}`)));
    await watcher.until(() => (watcher.events().filter((e) => e.startsWith('join:c')).length === STORM ? true : undefined), 10_000, 'every join');
    const onWire = wireFrames(watcher.ws);
    for (const s of joined) s.ws.terminate();
    await watcher.until(() => (watcher.events().filter((e) => e.startsWith('away:c')).length === STORM ? true : undefined), 10_000, 'every away');
    expect(onWire.filter((f) => f.type === 'batch' || f.type === 'away').length).toBeLessThan(STORM / 10);
    expect(onWire.filter((f) => f.type === 'batch').every((f) => f.event === 'away')).toBe(true);
  });

  it("a lost server's hundreds of buddies reach the others' clients as a few batches of notices", async () => {
    const a = await startNode(stormLimits);
    const b = await startNode({ ...stormLimits, ...joining(a) });
    const watcher = await RawSocket.join(a.url, 'Watcher');
    await Promise.all(Array.from({ length: STORM }, (_, i) => RawSocket.join(b.url, `c${i}`)));
    await watcher.until(() => (watcher.events().filter((e) => e.startsWith('join:c')).length === STORM ? true : undefined), 10_000, 'every join');
    const onWire = wireFrames(watcher.ws);
    await b.disconnect();
    await watcher.until(() => (watcher.events().filter((e) => e.startsWith('away:c')).length === STORM ? true : undefined), 10_000, 'every away');
    expect(onWire.filter((f) => f.type === 'batch' || f.type === 'away').length).toBeLessThan(STORM / 10);
    // Read one by one, they are notices (not history, not to resume after), each with an id of its own.
    const aways = watcher.frames.filter((f) => f.type === 'away');
    expect(aways.every((f) => isNotice({ id: String(f.id) }))).toBe(true);
    expect(new Set(aways.map((f) => f.id)).size).toBe(STORM);
  });

  it('a welcome lists everyone, and the history page after it carries the joins as batches', async () => {
    const node = await startNode(stormLimits);
    // Names long enough that the welcome's list passes 4 KiB: it goes in fragments.
    const names = Array.from({ length: STORM }, (_, i) => `c${i}-with-a-longer-name`);
    const joined = await Promise.all(names.map((name) => RawSocket.join(node.url, name)));
    await joined[0]!.until(() => (joined[0]!.events().length >= STORM ? true : undefined), 10_000, 'every join');
    joined[7]!.send({ type: 'set_status', status: 'away' });
    joined[9]!.send({ type: 'client_leave_req', name: names[9] });
    await joined[0]!.next((f) => f.type === 'leave' && f.name === names[9]);

    const ws = new WebSocket(node.url);
    const onWire = wireFrames(ws);
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'client_join_req', name: 'Newcomer' }));
    const history = await joined[0]!.until(() => onWire.find((f) => f.type === 'history'), 5_000, 'the history page');
    const welcome = onWire.find((f) => f.type === 'welcome')!;
    ws.terminate();

    // The welcome, as any client decodes it: everyone here, the 8th away, the 10th gone.
    const decoded = decodeClientInbound(JSON.stringify(welcome));
    expect(decoded.ok).toBe(true);
    const buddies = buddiesOf(decoded.ok ? (decoded.value as Welcome) : ({} as Welcome));
    expect(buddies.map((b) => b.name).sort()).toEqual([...names.filter((n) => n !== names[9]), 'Newcomer'].sort());
    expect(buddies.filter((b) => b.status === 'away').map((b) => b.name)).toEqual([names[7]]);

    // On the wire, the page's joins come in a few batches; read, they are the latest page of events.
    expect(history.events.length).toBeLessThan(20);
    const page = decodeClientInbound(JSON.stringify(history));
    expect(page.ok && page.value.type === 'history' && page.value.events.length).toBe(Limits.HISTORY_PAGE);
  });

  describe.skipIf(!hasChromium)('in Chromium', () => {
    const browser = chromiumForFile();
    it('the page joins a chat of hundreds: its welcome, in fragments, lists them all', async () => {
      const node = await startNode({ ...stormLimits, httpHandler: staticFiles(pageDir) });
      const names = Array.from({ length: STORM }, (_, i) => `c${i}-with-a-longer-name`);
      await Promise.all(names.map((name) => RawSocket.join(node.url, name)));
      const page = await joinInBrowser(browser(), pageOf(node.url), 'Reader');
      await expect.poll(() => page.getByTestId('buddy').count(), { timeout: 10_000 }).toBe(STORM + 1);
    });
  });
});
