// shared/ runs in Node and in the browser: it imports no Node module, no Electron, no `ws`, and
// touches no DOM. The renderer imports no Node or Electron either (VS Code / Signal layering).
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
  it('shared/ imports only shared/ and valibot, and uses no DOM', () => {
    for (const file of sources('shared')) {
      for (const spec of importsOf(file)) expect(spec, `${file} imports ${spec}`).toMatch(/^(\.\/|valibot$)/);
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(code, file).not.toMatch(/\b(window|document|localStorage)\./);
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
