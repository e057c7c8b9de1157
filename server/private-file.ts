// Files only their user may read (the chat's keys, trusted certificates, the app's settings),
// written whole: a new file renamed over the old, so a crash never leaves half of one.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function writePrivateFile(file: string, data: string | Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.new`;
  writeFileSync(temporary, data, { mode: 0o600 });
  chmodSync(temporary, 0o600); // the mode applies only when the file is created
  renameSync(temporary, file);
}
