// Where `chatty host` keeps a server's data (history, identity, known peers) unless told with
// --data: the platform's place for application data, one folder per address and port, so two
// servers on one machine never share one. A server on a random port (--port 0) is a throwaway:
// it keeps nothing unless given --data.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MEMORY } from '../server/options.js';

export function defaultDataFolder(bind: string, port: number, env = process.env, platform = process.platform): string {
  if (port === 0) return MEMORY;
  const base =
    platform === 'win32'
      ? join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Chatty')
      : platform === 'darwin'
        ? join(homedir(), 'Library', 'Application Support', 'Chatty')
        : join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'chatty');
  return join(base, `server-${bind.replace(/[^\w.-]/g, '_')}-${port}`);
}
