// The last name, port and address, and the preferences, remembered between runs in a small JSON file. A damaged file
// is ignored (defaults), never fatal.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePrivateFile } from '../server/private-file.js';
import * as v from 'valibot';
import { DEFAULT_PREFERENCES, Preferences, type Settings } from '../shared/bridge.js';
import { DEFAULT_PORT, Port } from '../shared/protocol.js';

const defaultSettings: Settings = { name: '', port: DEFAULT_PORT, address: '', replica: false, ...DEFAULT_PREFERENCES };

const StoredSettings = v.object({
  name: v.optional(v.pipe(v.string(), v.maxLength(200)), ''),
  port: v.optional(Port, DEFAULT_PORT),
  address: v.optional(v.pipe(v.string(), v.maxLength(2048)), ''),
  replica: v.optional(v.boolean(), false),
  mutePublic: v.optional(Preferences.entries.mutePublic, DEFAULT_PREFERENCES.mutePublic),
  showJoins: v.optional(v.boolean(), DEFAULT_PREFERENCES.showJoins),
  startAtLogin: v.optional(v.boolean(), DEFAULT_PREFERENCES.startAtLogin),
  closeNoticeShown: v.optional(v.boolean()),
  idleMinutes: v.optional(Preferences.entries.idleMinutes, DEFAULT_PREFERENCES.idleMinutes),
});

export class SettingsStore {
  readonly file: string;

  constructor(directory: string) {
    this.file = join(directory, 'settings.json');
  }

  async load(): Promise<Settings> {
    try {
      const parsed = v.safeParse(StoredSettings, JSON.parse(await readFile(this.file, 'utf8')));
      return parsed.success ? parsed.output : { ...defaultSettings };
    } catch {
      return { ...defaultSettings };
    }
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    const next = { ...(await this.load()), ...patch };
    writePrivateFile(this.file, JSON.stringify(next, null, 2));
    return next;
  }
}
