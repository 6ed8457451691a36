// Child process for shutdown.test.ts: `node --import tsx shutdown-fixture.ts <ok|fail|hang> <timeoutMs>`.
import { createLogger, onShutdownSignals } from '../index.js';

const [mode, timeoutMs] = process.argv.slice(2);
let drains = 0;
onShutdownSignals(
  async () => {
    drains += 1;
    process.stdout.write(`draining ${drains}\n`);
    if (mode === 'hang') return new Promise<void>(() => {});
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (mode === 'fail') throw new Error('checkpoint upload failed');
    process.stdout.write('drained\n');
  },
  { timeoutMs: Number(timeoutMs), logger: createLogger({ component: 'fixture', level: 'info' }) },
);
setInterval(() => {}, 1000); // stands in for a server keeping the process alive
process.stdout.write('ready\n');
