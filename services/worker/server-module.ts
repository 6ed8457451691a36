import path from 'node:path';
import type { ServerModule } from '../server/index.js';
import type { ExecutionProvider } from '../engine/index.js';
import { runWorker, type WorkerOptions } from './run-worker.js';

export interface InProcessWorkersOptions {
  /** number of workers; 0 runs none */
  count: number;
  threads?: number;
  executionProvider?: ExecutionProvider;
  cacheDir?: string;
  /** how the workers authenticate to their own server (a process-local worker token when auth is on) */
  connection?: WorkerOptions['connection'];
  onStep?: WorkerOptions['onStep'];
  /** how the workers hold models and the memory a trial may use (each worker: the whole limit) */
  memory?: Pick<WorkerOptions, 'weightsDtype' | 'recompute' | 'maxMemory'>;
}

/**
 * N workers inside the server process, talking to it over loopback gRPC like any other worker (the
 * engine's ONNX runs are asynchronous, so they share the event loop with the server).
 */
export function inProcessWorkersModule(options: InProcessWorkersOptions): ServerModule {
  return {
    name: 'workers',
    create: ({ logger, dataDir }) => {
      const stop = new AbortController();
      const running: Promise<void>[] = [];
      return {
        start(address) {
          for (let i = 0; i < options.count; i++) {
            const log = logger.child({ worker: i });
            running.push(
              runWorker({
                coordinator: address,
                name: `in-process-${process.pid}-${i}`,
                threads: options.threads,
                executionProvider: options.executionProvider,
                cacheDir: options.cacheDir ?? path.join(dataDir, 'worker-cache'),
                connection: options.connection,
                onStep: options.onStep,
                ...options.memory,
                signal: stop.signal,
                log: (message) => log.info(message),
              }).catch((err: unknown) => log.error({ err }, 'worker stopped with an error')),
            );
          }
        },
        async stop() {
          stop.abort();
          await Promise.all(running);
        },
      };
    },
  };
}
