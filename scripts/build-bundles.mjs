#!/usr/bin/env node
// Bundles what tsc does not emit: the renderer for browsers and Electron (one script + css +
// html in dist/renderer) and the Electron preload (one CommonJS file, as sandboxed preloads need).
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

const out = 'dist/renderer';
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['renderer/main.tsx'],
  outfile: `${out}/app.js`,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome120', 'firefox120', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
copyFileSync('renderer/index.html', `${out}/index.html`);
copyFileSync('renderer/styles.css', `${out}/app.css`);
mkdirSync('dist/electron', { recursive: true });
copyFileSync('build/icon.png', 'dist/electron/tray-icon.png'); // the tray's icon (main.ts)

await build({
  entryPoints: ['electron/preload.ts'],
  outfile: 'dist/electron/preload.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  external: ['electron'],
  target: 'node20',
  logLevel: 'warning',
});
