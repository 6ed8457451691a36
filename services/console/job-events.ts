/**
 * GET /jobs/<id>/events: a job's WatchJob stream relayed as server-sent events, called with the
 * user's token (so the API decides who may watch). Each event carries its sequence as the SSE id,
 * so a browser that reconnects resumes after the last event it saw (Last-Event-ID). Events:
 * `step` {trial, step, loss}, `eval` {trial, step, metrics}, `trial` {trial, state, attempt, reason},
 * `job` {state, reason}, `registered` {task, version}; `end` after the terminal job state.
 */
import { once } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { jobEvents } from '../client/index.js';
import { JobState, TrialState, type JobEvent } from '../gen/ptune/v1/training_pb.js';
import { orNotFound, type SignedIn } from './signed-in.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** A comment line this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/** The SSE record of one job event (undefined: not shown, e.g. checkpoints). */
export function sseRecord(event: JobEvent): string | undefined {
  const trial = event.trialId;
  let name: string;
  let data: unknown;
  switch (event.kind.case) {
    case 'step':
      name = 'step';
      data = { trial, step: event.kind.value.step, loss: event.kind.value.loss };
      break;
    case 'eval':
      name = 'eval';
      data = { trial, step: event.kind.value.step, metrics: event.kind.value.metrics };
      break;
    case 'trialState':
      name = 'trial';
      data = {
        trial,
        state: (TrialState[event.kind.value.state] ?? 'unknown').toLowerCase(),
        attempt: event.kind.value.attempt,
        reason: event.kind.value.reason,
      };
      break;
    case 'jobState':
      name = 'job';
      data = { state: (JobState[event.kind.value.state] ?? 'unknown').toLowerCase(), reason: event.kind.value.reason };
      break;
    case 'registered':
      name = 'registered';
      data = { task: event.kind.value.version?.task, version: event.kind.value.version?.version, alias: event.kind.value.alias };
      break;
    default:
      return undefined;
  }
  // JSON.stringify never emits a raw newline, so one data line is one record
  return `id: ${event.sequence}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

export async function relayJobEvents(
  request: FastifyRequest<{ Params: { id: string } }>,
  reply: FastifyReply,
  user: SignedIn,
): Promise<undefined> {
  const { id } = request.params;
  await orNotFound(user.api.training.getJob({ jobId: id }), `Job ${id}`);
  const lastSeen = request.headers['last-event-id'];
  const after = typeof lastSeen === 'string' && /^[0-9]{1,19}$/.test(lastSeen) ? BigInt(lastSeen) : 0n;

  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  res.on('close', stop);
  // the browser may have left while GetJob ran: 'close' has fired already
  if (res.destroyed || request.raw.destroyed) stop();
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  // a slow reader: wait for 'drain', or for the stream's end (the abort), with no listener left behind
  const write = async (text: string): Promise<void> => {
    if (!res.destroyed && !res.write(text)) await once(res, 'drain', { signal: abort.signal }).catch(() => undefined);
  };
  try {
    res.write('retry: 2000\n\n');
    for await (const event of jobEvents(user.api.training, id, { afterSequence: after, signal: abort.signal })) {
      const record = sseRecord(event);
      if (record !== undefined) await write(record);
    }
    // WatchJob ends once the job has ended, also when the browser had seen every event already
    // (a reconnect after the last one): without `end` it would reconnect every 2 s forever
    if (!abort.signal.aborted) await write('event: end\ndata: {}\n\n');
  } catch (err) {
    if (!abort.signal.aborted) {
      request.log.warn({ err, jobId: id }, 'job event relay ended with an error');
      res.write(`event: relay-error\ndata: ${JSON.stringify({ message: 'the event stream broke; reload the page' })}\n\n`);
    }
  } finally {
    clearInterval(keepalive);
    res.off('close', stop);
    res.end();
  }
  return undefined;
}
