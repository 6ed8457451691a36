/**
 * Server time of each HTTP request, measured inside the server process from Node's own http
 * diagnostics channels: from `http.server.request.start` (the request's head is parsed, before any
 * Fastify hook) to `http.server.response.finish` (the last byte handed to the socket). Nothing in
 * the console is changed to measure it, and the client's side of the loopback is not included.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface ServerTimes {
  /** the server times (ms) of finished requests whose URL starts with `prefix`, in order; cleared by the call */
  take(prefix: string): number[];
  stop(): void;
}

export function recordServerTimes(): ServerTimes {
  const started = new WeakMap<ServerResponse, number>();
  const finished: { url: string; ms: number }[] = [];
  const onStart = (message: unknown): void => {
    const { response } = message as { response: ServerResponse };
    started.set(response, performance.now());
  };
  const onFinish = (message: unknown): void => {
    const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
    const t0 = started.get(response);
    if (t0 !== undefined) finished.push({ url: request.url ?? '', ms: performance.now() - t0 });
  };
  subscribe('http.server.request.start', onStart);
  subscribe('http.server.response.finish', onFinish);
  return {
    take(prefix) {
      const taken = finished.filter((f) => f.url.startsWith(prefix)).map((f) => f.ms);
      finished.splice(0, finished.length, ...finished.filter((f) => !f.url.startsWith(prefix)));
      return taken;
    },
    stop() {
      unsubscribe('http.server.request.start', onStart);
      unsubscribe('http.server.response.finish', onFinish);
    },
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
