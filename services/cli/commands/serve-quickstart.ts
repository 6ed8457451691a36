/**
 * `ptune serve --quickstart` (what `npm start` runs): once the server listens, run the quick-start
 * job (services/quickstart) against it in the background; the server keeps serving whatever happens.
 */
import type { ProcessToken } from '../../auth/index.js';
import type { ClientTransportOptions } from '../../client/index.js';
import { mintQuickstartToken, runQuickstart } from '../../quickstart/index.js';

export interface QuickstartRun {
  /** its credential, for the server's process tokens (used when authentication is on) */
  readonly token: ProcessToken;
  start(target: { host: string; port: number; consoleUrl?: string; dataDir: string; connection: ClientTransportOptions }): void;
  /** stops following the job (training stops with the server's workers) and waits for the run to end */
  stop(): Promise<void>;
}

export function quickstartRun(): QuickstartRun {
  const token = mintQuickstartToken();
  const abort = new AbortController();
  let running: Promise<void> = Promise.resolve();
  return {
    token,
    start({ host, port, consoleUrl, dataDir, connection }) {
      const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
      running = runQuickstart({
        server: `${local.includes(':') ? `[${local}]` : local}:${port}`,
        connection: { ...connection, token: token.text },
        dataDir,
        modelFile: process.env.PTUNE_MODEL || undefined,
        signal: abort.signal,
      }).then(
        (result) => {
          if (result)
            process.stdout.write(
              `ptune is ready: serving on ${host}:${port}${consoleUrl ? `, web console at ${consoleUrl}` : ''} (Ctrl-C stops it)\n`,
            );
        },
        (err: unknown) => {
          process.stderr.write(
            `ptune: quick start failed: ${err instanceof Error ? err.message : String(err)}\n(the server keeps serving; Ctrl-C stops it)\n`,
          );
        },
      );
    },
    async stop() {
      abort.abort();
      await running;
    },
  };
}
