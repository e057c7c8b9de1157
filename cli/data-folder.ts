// Where the command line keeps what it keeps (appFolder), and where `chatty host` keeps a server's data (history, identity, known peers) unless told with
// --data: the platform's place for application data, one folder per address and port, so two
// servers on one machine never share one. A server on a random port (--port 0) is a throwaway:
// it keeps nothing unless given --data.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MEMORY } from '../server/options.js';

export function defaultDataFolder(bind: string, port: number, env = process.env, platform = process.platform): string {
  if (port === 0) return MEMORY;
  return join(appFolder('data', env, platform), `server-${bind.replace(/[^\w.-]/g, '_')}-${port}`);
}

/**
 * Chatty's folder in the platform's place for application data or configuration: Windows'
 * %APPDATA%, macOS's Application Support (one place for both), and on Linux the XDG data or config
 * home (~/.local/share, ~/.config).
 */
export function appFolder(kind: 'data' | 'config', env = process.env, platform = process.platform): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Chatty');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Chatty');
  return kind === 'data'
    ? join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'chatty')
    : join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'chatty');
}
