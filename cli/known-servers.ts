// The certificates the terminal client has trusted, by server address — like ssh's known_hosts:
// the first connection to an address (given without an invite's fingerprint) pins what it
// showed, and later runs must see the same, or they refuse to connect. One JSON file in the
// user's config folder, readable by the user only.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export function defaultKnownServersFile(env = process.env, platform = process.platform): string {
  const base =
    platform === 'win32'
      ? join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Chatty')
      : platform === 'darwin'
        ? join(homedir(), 'Library', 'Application Support', 'Chatty')
        : join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'chatty');
  return join(base, 'known-servers.json');
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
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.new`;
    writeFileSync(temporary, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, this.file);
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
