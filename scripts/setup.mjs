#!/usr/bin/env node
// Everything a fresh clone needs before `npm start` or `npm test`, so the README's two commands
// work on a new machine with no other steps. Plain Node, no dependencies: it runs before install.
//   node scripts/setup.mjs          install (if the lockfile changed) and build
//   node scripts/setup.mjs --test   the same, plus what the test suite needs (Chromium)
//   node scripts/setup.mjs --bench  the same, plus what the bench compares against (ngircd)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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
  // Electron's binary comes from outside the npm registry; it is fetched separately below. Engine
  // warnings are left out: only installers (npm run dist) need a newer Node, said once below.
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { ELECTRON_SKIP_BINARY_DOWNLOAD: '1' });
  writeFileSync(stamp, lockHash);
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 12))
    say(`Node ${process.versions.node}: Chatty and its tests run; building installers (npm run dist) needs Node 22.12 or newer`);
}

// 2. Electron's binary, for the desktop app and its end-to-end test. It is downloaded from outside
//    the npm registry, so where that is blocked Chatty runs in the browser instead (npm start says so).
//    Tried once per lockfile: a machine that cannot download it does not wait for it on every start.
const electronDir = join(root, 'node_modules', 'electron');
const electronStamp = join(root, 'node_modules', '.chatty-electron-tried');
const electronTried = existsSync(electronStamp) && readFileSync(electronStamp, 'utf8') === lockHash;
if (existsSync(join(electronDir, 'install.js')) && !existsSync(join(electronDir, 'path.txt')) && !electronTried) {
  const r = spawnSync(process.execPath, ['install.js'], { cwd: electronDir, stdio: 'pipe', timeout: 120_000 });
  writeFileSync(electronStamp, lockHash);
  say(
    r.status === 0
      ? 'downloaded the Electron binary'
      : 'Electron binary not available (download failed): the desktop app and its test will be skipped (delete node_modules/.chatty-electron-tried to try again)',
  );
}

// 3. Build: TypeScript for Node, bundles for the browser and the Electron preload — again only
//    when a source or a build setting changed since the last build.
const SOURCES = ['shared', 'server', 'cli', 'electron', 'renderer', 'scripts/build-bundles.mjs', 'package-lock.json', 'tsconfig.json', 'tsconfig.web.json'];
const buildStamp = join(root, 'dist', '.chatty-sources-hash');
const sourcesHash = hashOf(SOURCES.map((p) => join(root, p)));
if (!existsSync(buildStamp) || readFileSync(buildStamp, 'utf8') !== sourcesHash) {
  run('npm', ['run', '--silent', 'build']);
  writeFileSync(buildStamp, sourcesHash);
}

/** One hash of the files under `paths` (names and contents): what a build depends on. */
function hashOf(paths) {
  const hash = createHash('sha256');
  const add = (path) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) add(join(path, name));
      return;
    }
    hash.update(`${path}\0`);
    hash.update(readFileSync(path));
  };
  for (const path of paths) add(path);
  return hash.digest('hex');
}

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
