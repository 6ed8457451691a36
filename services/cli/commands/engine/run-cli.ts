/** Development runner: the CLI from source (`node --import tsx services/cli/commands/engine/run-cli.ts …`), as bin/ptune.js runs it from dist. */
import { main } from '../../main.js';

main().catch((err: unknown) => {
  process.stderr.write(`ptune: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
