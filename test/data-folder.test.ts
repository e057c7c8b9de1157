// cli/data-folder.ts: where `chatty host` keeps its data unless told.
import { describe, expect, it } from 'vitest';
import { appFolder, defaultDataFolder } from '../cli/data-folder.js';
import { defaultKnownServersFile } from '../cli/known-servers.js';

describe('defaultDataFolder', () => {
  it('is a folder per address and port in the platform’s place for app data', () => {
    expect(defaultDataFolder('127.0.0.1', 4000, { XDG_DATA_HOME: '/x' }, 'linux')).toBe('/x/chatty/server-127.0.0.1-4000');
    expect(defaultDataFolder('::', 4001, { XDG_DATA_HOME: '/x' }, 'linux')).toBe('/x/chatty/server-__-4001');
    expect(defaultDataFolder('0.0.0.0', 4000, { APPDATA: 'C:/Users/z/AppData/Roaming' }, 'win32')).toMatch(/Chatty[\\/]server-0\.0\.0\.0-4000$/);
  });

  it('keeps nothing for a server on a random port', () => {
    expect(defaultDataFolder('127.0.0.1', 0)).toBe(':memory:');
  });
});

describe('appFolder', () => {
  it('is one place per platform: data and config apart on Linux (XDG), one folder elsewhere', () => {
    expect(appFolder('config', { XDG_CONFIG_HOME: '/c' }, 'linux')).toBe('/c/chatty');
    expect(defaultKnownServersFile({ XDG_CONFIG_HOME: '/c' }, 'linux')).toBe('/c/chatty/known-servers.json');
    expect(appFolder('data', { APPDATA: 'C:/R' }, 'win32')).toBe(appFolder('config', { APPDATA: 'C:/R' }, 'win32'));
  });
});
