// server/hosting.ts: what `chatty host` and the app's Host server share — a node that serves the
// page, and a start that fails as a code and a message.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { host } from '../server/hosting.js';
import { http } from './helpers/files.js';

describe('host', () => {
  it('starts a node that serves the chat page; stop disconnects it, and may be called again', async () => {
    const started = await host({ port: 0, bind: '127.0.0.1' });
    if (!started.ok) throw new Error(started.error.message);
    const { node, servesPage, advertised } = started.value;
    expect(servesPage).toBe(true);
    expect(advertised).toBe(false); // nobody asked, and 127.0.0.1 is not the LAN
    const page = await http(`${node.url.replace('wss:', 'https:')}/`);
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('<html');
    await started.value.stop();
    await started.value.stop();
    expect(node.servers()).toEqual([node.url]);
  });

  it('a port in use is PORT_IN_USE, a data folder in use DATA_UNUSABLE: results, not throws', async () => {
    const data = mkdtempSync(join(tmpdir(), 'chatty-hosting-'));
    const first = await host({ port: 0, bind: '127.0.0.1', servePage: false, data });
    if (!first.ok) throw new Error(first.error.message);
    const taken = await host({ port: first.value.node.port!, bind: '127.0.0.1' });
    expect(taken).toMatchObject({ ok: false, error: { code: 'PORT_IN_USE' } });
    const shared = await host({ port: 0, bind: '127.0.0.1', data });
    expect(shared).toMatchObject({ ok: false, error: { code: 'DATA_UNUSABLE' } });
    await first.value.stop();
  });
});
