/**
 * `ptune serve --quickstart` (what `npm start` runs): once the server listens, run the quick-start
 * job (services/quickstart) against it in the background; the server keeps serving whatever happens.
 */
import type { ProcessToken } from '../../auth/index.js';
import type { ClientTransportOptions } from '../../client/index.js';
import { mintQuickstartToken, quickstartPlan, runQuickstart, type QuickstartResult } from '../../quickstart/index.js';

export interface QuickstartRun {
  /** its credential, for the server's process tokens (used when authentication is on) */
  readonly token: ProcessToken;
  start(target: {
    host: string;
    port: number;
    /** the web console's address, when the server has an HTTP port */
    consoleUrl?: string;
    /** the OpenAI-compatible endpoint's base address (…/v1), when the server runs the inference module */
    inferenceUrl?: string;
    /** whether the server requires tokens (the curl line then sends $PTUNE_TOKEN) */
    authenticate: boolean;
    dataDir: string;
    connection: ClientTransportOptions;
  }): void;
  /** stops following the job (training stops with the server's workers) and waits for the run to end */
  stop(): Promise<void>;
}

export function quickstartRun(): QuickstartRun {
  const token = mintQuickstartToken();
  const abort = new AbortController();
  let running: Promise<void> = Promise.resolve();
  return {
    token,
    start({ host, port, consoleUrl, inferenceUrl, authenticate, dataDir, connection }) {
      const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
      running = runQuickstart({
        server: `${local.includes(':') ? `[${local}]` : local}:${port}`,
        connection: { ...connection, token: token.text },
        dataDir,
        modelFile: process.env.PTUNE_MODEL || undefined,
        signal: abort.signal,
      }).then(
        (result) => {
          if (!result) return;
          if (inferenceUrl !== undefined) process.stdout.write(servedPromptCurl(result, inferenceUrl, authenticate));
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

/** The curl line that asks the OpenAI-compatible endpoint for an answer with the first trained prompt. */
function servedPromptCurl(result: QuickstartResult, inferenceUrl: string, authenticate: boolean): string {
  const version = result.versions[0];
  const task = version?.task;
  if (task === undefined) return '';
  const plan = quickstartPlan(result.model.kind);
  const sample = plan.tasks.find((t) => t.name === task.name)?.sample ?? '';
  const body = JSON.stringify({
    model: `${task.namespace}/${task.name}@${plan.alias}`,
    prompt: sample,
    max_tokens: result.model.kind === 'generated' ? 2 : 8,
    temperature: 0,
  });
  const auth = authenticate ? ` -H "authorization: Bearer $PTUNE_TOKEN"` : '';
  const url = `${inferenceUrl}/completions`;
  return `the served prompt answers over the OpenAI-compatible endpoint:\n  curl -s ${url} -H 'content-type: application/json'${auth} -d '${body.replace(/'/g, "'\\''")}'\n`;
}
