// Launching the desktop app from `chatty start`, when an Electron binary is installed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The Electron binary's path, or undefined where it is not installed (e.g. its download was blocked). */
export function electronBinary(): string | undefined {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

export function launchDesktopApp(binary: string): Promise<number> {
  const main = fileURLToPath(new URL('../electron/main.js', import.meta.url));
  const child = spawn(binary, [main], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 0)));
}
