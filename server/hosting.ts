// Hosting a chat server for a front end: `chatty host` and `chatty start` (cli/host.ts) and the
// app's Host server and Run a replica (electron/session.ts) all do the same — start a node that
// serves the built page to browsers on its port, advertise it on the LAN while it runs, and say
// in one code and message why it could not start. One home for that, so the two front ends differ
// only in what they show.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, fail, ok, type Result } from '../shared/errors.js';
import { ChatServer, type ChatServerOptions, ServerStartError, StoreError } from './chat-server.js';
import { advertiseNode, LanDiscovery, reachableFromLan } from './lan-discovery.js';
import { staticFiles } from './static-files.js';

/** The built page (dist/renderer), seen from dist/server (compiled) or from server/ (tests run the sources). */
export const pageDir =
  ['../renderer/', '../dist/renderer/'].map((relative) => fileURLToPath(new URL(relative, import.meta.url))).find((dir) => existsSync(join(dir, 'app.js'))) ??
  fileURLToPath(new URL('../renderer/', import.meta.url));

/** Whether the page is built (`npm run build`): a server without it answers browsers with a notice. */
export const pageIsBuilt = (): boolean => existsSync(join(pageDir, 'app.js'));

export interface HostOptions extends ChatServerOptions {
  /** Serve the built page to browsers on the node's port, when it is built. Default true. */
  servePage?: boolean;
  /** Serve the page's source maps too (for debugging it). Default false. */
  sourceMaps?: boolean;
  /**
   * Advertise on the LAN (mDNS) while it runs, when `bind` reaches the LAN: `host()` is who hosts
   * it (shown in the app's Join list). With a `discovery` of the caller's (the app's, which also
   * browses), only the advert stops with the node; without, one is made and said goodbye to.
   * Default: not advertised.
   */
  lan?: { host: () => string; discovery?: LanDiscovery };
}

export interface Hosted {
  readonly node: ChatServer;
  /** Browsers get the chat page at the node's address. */
  readonly servesPage: boolean;
  /** It is advertised on the LAN. */
  readonly advertised: boolean;
  /** Stop advertising (saying goodbye on the LAN), then the seminar's `disconnect`. Safe to call more than once. */
  stop(): Promise<void>;
}

/** Start a node with the page and the advert; a start that fails is a code and a message, never a throw for the known causes. */
export async function host(options: HostOptions): Promise<Result<Hosted>> {
  const { servePage = true, sourceMaps = false, lan, ...nodeOptions } = options;
  let node: ChatServer | undefined;
  const page = servePage && pageIsBuilt() ? staticFiles(pageDir, { sourceMaps }) : undefined;
  try {
    node = await ChatServer.start({ ...nodeOptions, ...(page ? { httpHandler: page } : {}) });
  } catch (err) {
    const failure = startFailure(err);
    if (failure) return failure;
    throw err;
  }
  const started = node;
  let goodbye: (() => Promise<void>) | undefined;
  if (lan && reachableFromLan(options.bind ?? '127.0.0.1')) {
    const discovery = lan.discovery ?? new LanDiscovery();
    const stopAdvertising = advertiseNode(discovery, started, lan.host, started.port!);
    goodbye = lan.discovery ? async () => stopAdvertising() : () => discovery.destroy();
  }
  let stopping: Promise<void> | undefined;
  return ok({
    node: started,
    servesPage: page !== undefined,
    advertised: goodbye !== undefined,
    stop: () => {
      stopping ??= (async () => {
        await goodbye?.();
        await started.disconnect();
      })();
      return stopping;
    },
  });
}

/** Why a node could not start, as the front ends show it: the start's own code, or DATA_UNUSABLE for its data folder. */
export function startFailure(err: unknown): Result<never> | undefined {
  if (err instanceof ServerStartError) return fail(err.code, err.message);
  if (err instanceof StoreError) return fail(ErrorCode.DATA_UNUSABLE, err.message);
  return undefined;
}
