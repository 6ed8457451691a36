/** The ptune CLI from source (the bin runs dist/), for tests that start real processes. */
import { main } from '../../../services/cli/main.js';

main().catch((err: unknown) => {
  process.stderr.write(`ptune: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
