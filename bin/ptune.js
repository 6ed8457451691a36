#!/usr/bin/env node
// Runs the compiled CLI (`npm run build` produces dist/; `npm ci` runs it through `prepare`).
import { main } from '../dist/services/cli/main.js';

main().catch((err) => {
  process.stderr.write(`ptune: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
