#!/usr/bin/env node
// npm run dist: build, then electron-builder. It downloads Electron's binaries for each platform;
// where that is impossible, say so in one line instead of a stack trace.
import { spawnSync } from 'node:child_process';

const run = (cmd, args, capture = false) =>
  spawnSync(cmd, args, { stdio: capture ? ['inherit', 'pipe', 'pipe'] : 'inherit', encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

if (run('npm', ['run', '--silent', 'build']).status !== 0) process.exit(1);
const builder = run('npx', ['--no-install', 'electron-builder', '--config', 'build/electron-builder.yml', ...process.argv.slice(2)], true);
const output = `${builder.stdout ?? ''}${builder.stderr ?? ''}`;
if (builder.status === 0) {
  process.stdout.write(output);
  process.exit(0);
}
if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|getaddrinfo/.test(output)) {
  process.stderr.write(
    "npm run dist: electron-builder could not download Electron's binaries (no internet access here); run it on a machine that has access.\n",
  );
} else {
  process.stderr.write(output);
}
process.exit(builder.status ?? 1);
