// The layers (VS Code / Signal style) are lint rules (biome.jsonc § overrides: noRestrictedImports
// per folder), so the editor flags a wrong import where it is written. What a linter cannot see is
// checked here: shared/ touches no DOM (it runs in Node too), and no module reaches itself through
// its imports (an import circle makes load order matter and hides which module is the lower one).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name));
}

const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*from\s*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);

/** The project's own modules `file` imports, as paths of their sources. */
function localImports(file: string, known: Set<string>): string[] {
  return importsOf(file)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => normalize(join(dirname(file), spec)).replace(/\.js$/, ''))
    .flatMap((base) => [`${base}.ts`, `${base}.tsx`].filter((candidate) => known.has(candidate)));
}

describe('layering', () => {
  it('shared/ uses no DOM (but for shared/node/, it runs in Node and in the browser alike)', () => {
    for (const file of sources('shared').filter((f) => !f.startsWith(join('shared', 'node')))) {
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(code, file).not.toMatch(/\b(window|document|localStorage)\./);
    }
  });

  it('no import circle: every module of shared/, server/, cli/, electron/ and renderer/ is below those it imports', () => {
    const files = ['shared', 'server', 'cli', 'electron', 'renderer'].flatMap(sources);
    const known = new Set(files);
    const edges = new Map(files.map((f) => [f, localImports(f, known)]));
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        circles.push([...path.slice(path.indexOf(file)), file].join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const next of edges.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(circles).toEqual([]);
  });
});
