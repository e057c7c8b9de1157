// The certificates the terminal client has trusted, by server address — like ssh's known_hosts:
// the first connection to an address (given without an invite's fingerprint) pins what it
// showed, and later runs must see the same, or they refuse to connect. One JSON file in the
// user's config folder, readable by the user only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFile } from '../server/private-file.js';
import { appFolder } from './data-folder.js';

export function defaultKnownServersFile(env = process.env, platform = process.platform): string {
  return join(appFolder('config', env, platform), 'known-servers.json');
}

export class KnownServers {
  constructor(readonly file: string = defaultKnownServersFile()) {}

  /** The fingerprint trusted for `server` before, if any. */
  get(server: string): string | undefined {
    const fingerprint = this.#read()[server];
    return typeof fingerprint === 'string' ? fingerprint : undefined;
  }

  remember(server: string, fingerprint: string): void {
    const all = { ...this.#read(), [server]: fingerprint };
    writePrivateFile(this.file, `${JSON.stringify(all, null, 2)}\n`);
  }

  #read(): Record<string, unknown> {
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
    } catch {
      return {}; // none yet, or unreadable: nothing is trusted, the next use pins again
    }
  }
}
