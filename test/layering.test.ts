// The layers (VS Code / Signal style): shared/ runs in Node and in the browser, so it imports no
// Node module, no Electron, no `ws`, and touches no DOM — except shared/node/, the client's Node
// adapters. server/ is plain Node; cli/ and electron/ are two front ends over server/ and shared/.
// The renderer imports no Node or Electron.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);

describe('layering', () => {
  it('shared/ imports only shared/, valibot and @noble/hashes, and uses no DOM', () => {
    for (const file of sources('shared').filter((f) => !f.startsWith(join('shared', 'node')))) {
      for (const spec of importsOf(file)) expect(spec, `${file} imports ${spec}`).toMatch(/^(\.\/|valibot$|@noble\/hashes\/)/);
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(code, file).not.toMatch(/\b(window|document|localStorage)\./);
    }
  });

  it('shared/node/ imports only shared/, ws and node:', () => {
    for (const file of sources(join('shared', 'node'))) {
      for (const spec of importsOf(file)) expect(spec, `${file} imports ${spec}`).toMatch(/^(\.\.?\/|node:|ws$)/);
    }
  });

  it('server/ imports only shared/, its libraries and node:', () => {
    for (const file of sources('server')) {
      for (const spec of importsOf(file)) {
        expect(spec, `${file} imports ${spec}`).not.toMatch(/^(electron$|\.\.\/(electron|cli|renderer)\/)/);
        if (spec.startsWith('.')) expect(spec, `${file} imports ${spec}`).toMatch(/^(\.\/|\.\.\/shared\/)/);
      }
    }
  });

  it('cli/ imports nothing from electron/ or renderer/', () => {
    for (const file of sources('cli')) {
      for (const spec of importsOf(file)) expect(spec, `${file} imports ${spec}`).not.toMatch(/^(electron$|\.\.\/(electron|renderer)\/)/);
    }
  });

  it('renderer/ imports no Node, Electron or ws', () => {
    for (const file of sources('renderer')) {
      for (const spec of importsOf(file)) expect(spec, `${file} imports ${spec}`).not.toMatch(/^(node:|electron$|ws$|\.\.\/\.\.\/electron|\.\.\/electron)/);
    }
  });

  it('only main.ts and preload.ts import electron', () => {
    for (const file of sources('electron')) {
      if (/electron\/(main|preload)\.ts$/.test(file)) continue;
      expect(importsOf(file), file).not.toContain('electron');
    }
  });
});
