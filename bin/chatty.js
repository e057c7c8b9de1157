#!/usr/bin/env node
// Entry point of the `chatty` command; the code lives in cli/ (compiled to dist/ by `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/chatty.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('chatty: not built yet; run "npm run setup" (or "npm test" / "npm start") first\n');
  process.exit(1);
}
const { run } = await import(entry.href);
run(process.argv.slice(2));
