// Device keys (#28, first part): each app, terminal client and browser keeps an Ed25519 key and
// proves it on every join (docs/protocol.md § Identity). Real sockets, real files, real Chromium.
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEVICE_KEY_FILE, deviceKeyIn } from '../server/device-key-file.js';
import { deviceProofFault } from '../server/device-proof.js';
import { pageDir } from '../server/hosting.js';
import { staticFiles } from '../server/static-files.js';
import { proveDevice } from '../shared/device-key.js';
import type { DeviceSigner } from '../shared/device-key.js';
import { chromiumForFile, hasChromium, joinInBrowser, pageOf } from './helpers/browser.js';
import { startNode } from './helpers/nodes.js';
import { RawSocket } from './helpers/sockets.js';

const folder = () => mkdtempSync(join(tmpdir(), 'chatty-device-'));
const signerIn = (dir: string): DeviceSigner => {
  const key = deviceKeyIn(dir);
  if (!key.ok) throw new Error(key.error.message);
  return key.value;
};

describe('device keys', () => {
  it('are made once, kept where only the user can read them, and a damaged one is a clear error', async () => {
    const dir = folder();
    const first = signerIn(dir);
    expect(first.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(dir, DEVICE_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(signerIn(dir).publicKey).toBe(first.publicKey);
    writeFileSync(join(dir, DEVICE_KEY_FILE), 'not a key');
    expect(deviceKeyIn(dir)).toMatchObject({ ok: false, error: { code: 'DATA_UNUSABLE', message: expect.stringContaining('is damaged') } });
    // A folder that cannot be one (a file stands in its way): said, never thrown.
    expect(deviceKeyIn(join(dir, DEVICE_KEY_FILE, 'below'))).toMatchObject({ ok: false, error: { code: 'DATA_UNUSABLE' } });
  });

  it('a join proves its key: the right proof joins; a wrong signature, another connection’s nonce, a wrong key are refused', async () => {
    const node = await startNode();
    const device = signerIn(folder());
    const join = async (make: (socket: RawSocket, nonce: string) => Promise<object>) => {
      const socket = await RawSocket.open(node.url);
      const hello = await socket.next((f) => f.type === 'hello');
      socket.send({ type: 'client_join_req', name: 'Ann', device: await make(socket, hello.nonce as string) });
      return socket;
    };
    // Another connection's nonce: a proof taken from one connection is worthless on the next.
    const other = await RawSocket.open(node.url);
    const otherNonce = (await other.next((f) => f.type === 'hello')).nonce as string;
    const replayed = await join((s) => proveDevice(device, otherNonce, 'Ann', s.binding));
    expect((await replayed.nextError('AUTH_FAILED')).message).toMatch(/^that device proof is not right: its signature does not match this connection$/);
    const forged = await join(async (s, nonce) => {
      const proof = await proveDevice(device, nonce, 'Ann', s.binding);
      return { ...proof, sig: `${proof.sig[0] === 'A' ? 'B' : 'A'}${proof.sig.slice(1)}` };
    });
    await forged.nextError('AUTH_FAILED');
    // Proved for another name: not this join's.
    const otherName = await join((s, nonce) => proveDevice(device, nonce, 'Bob', s.binding));
    await otherName.nextError('AUTH_FAILED');
    const badKey = await join(async (s, nonce) => ({ ...(await proveDevice(device, nonce, 'Ann', s.binding)), key: 'short' }));
    expect((await badKey.next((f) => f.type === 'error')).message).toMatch(/device key must be 32 bytes in base64url/);
    // The right one: in.
    const ann = await join((s, nonce) => proveDevice(device, nonce, 'Ann', s.binding));
    await ann.next((f) => f.type === 'welcome');
  });

  it('the worked example of docs/protocol.md § Identity verifies', () => {
    const proof = {
      key: '6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw',
      sig: 'LCKU55bntIVymUoZmNEsQrvr555LHwxg8aOkC5d6k84uG24xXIXQwfqc2T9YHE4QCS62383EOqorZdbUpqfcBg',
      bound: false,
    };
    expect(deviceProofFault(proof, 'Ann', { nonce: 'c2VydmVyLW5vbmNlLTI0LWJ5dGVzIQ', binding: undefined })).toBeUndefined();
    expect(deviceProofFault(proof, 'Ann', { nonce: 'c2VydmVyLW5vbmNlLTI0LWJ5dGVzIR', binding: undefined })).toMatchObject({ code: 'AUTH_FAILED' });
  });

  describe.skipIf(!hasChromium)('in the page', () => {
    const browser = chromiumForFile();

    it('a browser makes its key once, non-extractable, in IndexedDB; a reload keeps it', async () => {
      const node = await startNode({ httpHandler: staticFiles(pageDir) });
      const page = await joinInBrowser(browser(), pageOf(node.url), 'Pia');
      // (A script as a string: this file is compiled without the DOM's types.)
      const read = `new Promise((resolve, reject) => {
        const open = indexedDB.open('chatty', 1);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('keys').objectStore('keys').get('device');
          get.onsuccess = async () => {
            const pair = get.result;
            const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
            resolve({ extractable: pair.privateKey.extractable, algorithm: pair.privateKey.algorithm.name, key: Array.from(raw).join(',') });
          };
        };
      })`;
      const before = (await page.evaluate(read)) as { extractable: boolean; algorithm: string; key: string };
      expect(before).toMatchObject({ extractable: false, algorithm: 'Ed25519' });
      await page.reload();
      await page.getByTestId('status').getByText('as Pia').waitFor();
      expect(((await page.evaluate(read)) as { key: string }).key).toBe(before.key);
    });
  });
});
