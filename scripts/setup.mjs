#!/usr/bin/env node
// Everything a fresh clone needs before `npm start` or `npm test`, so the README's two commands
// work on a new machine with no other steps. Plain Node, no dependencies: it runs before install.
//   node scripts/setup.mjs          install (if the lockfile changed) and build
//   node scripts/setup.mjs --test   the same, plus what the test suite needs (Chromium)
//   node scripts/setup.mjs --bench  the same, plus what the bench compares against (ngircd)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const forTests = process.argv.includes('--test');
const forBench = process.argv.includes('--bench');
const say = (line) => process.stdout.write(`[setup] ${line}\n`);

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    process.stderr.write(`[setup] failed: ${cmd} ${args.join(' ')}\n`);
    process.exit(r.status ?? 1);
  }
}

// 1. Dependencies, exactly as the lockfile pins them; again only when the lockfile changes.
const lock = readFileSync(join(root, 'package-lock.json'));
const lockHash = createHash('sha256').update(lock).digest('hex');
const stamp = join(root, 'node_modules', '.chatty-lock-hash');
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== lockHash) {
  say('installing dependencies (npm ci)');
  // Electron's binary comes from outside the npm registry; it is fetched separately below.
  run('npm', ['ci', '--no-audit', '--no-fund'], { ELECTRON_SKIP_BINARY_DOWNLOAD: '1' });
  writeFileSync(stamp, lockHash);
}

// 2. Electron's binary, for the desktop app and its end-to-end test. It is downloaded from outside
//    the npm registry, so where that is blocked Chatty runs in the browser instead (npm start says so).
const electronDir = join(root, 'node_modules', 'electron');
if (existsSync(join(electronDir, 'install.js')) && !existsSync(join(electronDir, 'path.txt'))) {
  const r = spawnSync(process.execPath, ['install.js'], { cwd: electronDir, stdio: 'pipe', timeout: 120_000 });
  say(r.status === 0 ? 'downloaded the Electron binary' : 'Electron binary not available (download failed): the desktop app and its test will be skipped');
}

// 3. Build: TypeScript for Node, bundles for the browser and the Electron preload.
run('npm', ['run', '--silent', 'build']);

// 4. Debian packages the tests drive (Chromium) or the bench compares with (ngircd); installed
//    when missing and we may, otherwise what needs them says SKIP or "not measured".
const packages = [
  ...(forTests ? [{ name: 'chromium', binary: '/usr/bin/chromium', for: 'the browser tests' }] : []),
  ...(forBench ? [{ name: 'ngircd', binary: '/usr/sbin/ngircd', for: "the bench's IRC server" }] : []),
].filter((p) => !existsSync(p.binary));
if (packages.length > 0) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const names = packages.map((p) => p.name);
  if (isRoot && existsSync('/usr/bin/apt-get')) {
    say(`installing Debian ${names.join(' and ')} for ${packages.map((p) => p.for).join(' and ')}`);
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', ...names], { DEBIAN_FRONTEND: 'noninteractive' });
  } else {
    say(`cannot install ${names.join(' and ')} here: ${packages.map((p) => p.for).join(' and ')} will be skipped`);
  }
}
