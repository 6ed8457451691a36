import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { EchoService } from '../gen/ptune/testing/v1/echo_pb.js';
import { createClient, createGrpcTransport, implement, RpcError, startGrpcServer } from '../grpc/index.js';
import { createMetrics, startMetricsServer, rpcMetricsObserver, type MetricsServer, type TrialCounts } from './index.js';

/** Prometheus text format → TYPE per family and value per sample line (`name{labels}` as written). */
function parseExposition(text: string): { types: Map<string, string>; samples: Map<string, string> } {
  const types = new Map<string, string>();
  const samples = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    else if (line !== '' && !line.startsWith('#')) {
      const cut = line.lastIndexOf(' ');
      samples.set(line.slice(0, cut), line.slice(cut + 1));
    }
  }
  return { types, samples };
}

const servers: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function scrape(server: MetricsServer, path = '/metrics', init?: RequestInit): Promise<Response> {
  return fetch(`http://127.0.0.1:${server.port}${path}`, init);
}

describe('/metrics endpoint', () => {
  it('serves every ptune series with its type and labels after some observations', async () => {
    let nowMs = 1_000_000;
    const metrics = createMetrics({ now: () => nowMs, stepRateWindowSeconds: 10 });
    let trialQueries = 0;
    let counts: TrialCounts = { QUEUED: 4, RUNNING: 2, SUCCEEDED: 7 };
    metrics.collectOrchestrationState({
      trialsByState: async () => {
        trialQueries += 1;
        return counts;
      },
      activeLeases: async () => 2,
    });
    metrics.observeRpc('ptune.v1.RegistryService/GetPrompt', 'OK', 0.003);
    metrics.observeRpc('ptune.v1.RegistryService/GetPrompt', 'OK', 0.2);
    metrics.observeRpc('ptune.v1.RegistryService/GetPrompt', 'NOT_FOUND', 0.001);
    // 10 steps, one every 0.5 s, scraped 5 s after the first: 10 steps / 5 s.
    for (let step = 0; step < 10; step++) {
      metrics.recordTrainingSteps();
      nowMs += 500;
    }
    for (const result of ['hit', 'hit', 'miss', 'hit'] as const) metrics.recordPromptCacheLookup(result);
    let listening = true;
    metrics.collectChangeNotifications(() => listening);

    const server = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: metrics.registry });
    servers.push(server);
    const response = await scrape(server);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const { types, samples } = parseExposition(await response.text());

    expect(Object.fromEntries([...types].filter(([name]) => name.startsWith('ptune_')))).toEqual({
      ptune_rpc_duration_seconds: 'histogram',
      ptune_training_steps_total: 'counter',
      ptune_training_steps_per_second: 'gauge',
      ptune_prompt_cache_requests_total: 'counter',
      ptune_prompt_cache_hit_ratio: 'gauge',
      ptune_prompt_change_notifications_live: 'gauge',
      ptune_trials: 'gauge',
      ptune_queue_depth: 'gauge',
      ptune_active_leases: 'gauge',
      ptune_inference_tokens_total: 'counter',
      ptune_inference_tokens_per_second: 'gauge',
      ptune_inference_time_to_first_token_seconds: 'histogram',
    });
    const getPrompt = 'method="ptune.v1.RegistryService/GetPrompt"';
    expect(samples.get(`ptune_rpc_duration_seconds_count{${getPrompt},code="OK"}`)).toBe('2');
    expect(samples.get(`ptune_rpc_duration_seconds_bucket{le="0.005",${getPrompt},code="OK"}`)).toBe('1');
    expect(samples.get(`ptune_rpc_duration_seconds_bucket{le="+Inf",${getPrompt},code="OK"}`)).toBe('2');
    expect(samples.get(`ptune_rpc_duration_seconds_count{${getPrompt},code="NOT_FOUND"}`)).toBe('1');
    expect(samples.get('ptune_training_steps_total')).toBe('10');
    expect(samples.get('ptune_training_steps_per_second')).toBe('2');
    expect(samples.get('ptune_prompt_cache_requests_total{result="hit"}')).toBe('3');
    expect(samples.get('ptune_prompt_cache_requests_total{result="miss"}')).toBe('1');
    expect(samples.get('ptune_prompt_cache_hit_ratio')).toBe('0.75');
    expect(samples.get('ptune_prompt_change_notifications_live')).toBe('1');
    expect(samples.get('ptune_trials{state="QUEUED"}')).toBe('4');
    expect(samples.get('ptune_trials{state="RUNNING"}')).toBe('2');
    expect(samples.get('ptune_trials{state="SUCCEEDED"}')).toBe('7');
    expect(samples.get('ptune_queue_depth')).toBe('4');
    expect(samples.get('ptune_active_leases')).toBe('2');
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(trialQueries).toBe(1);

    // Database state is read again on the next scrape; a state that emptied reads 0.
    counts = { QUEUED: 0, SUCCEEDED: 13 };
    listening = false;
    nowMs += 60_000;
    const later = parseExposition(await (await scrape(server)).text()).samples;
    expect(later.get('ptune_trials{state="RUNNING"}')).toBe('0');
    expect(later.get('ptune_trials{state="SUCCEEDED"}')).toBe('13');
    expect(later.get('ptune_queue_depth')).toBe('0');
    expect(later.get('ptune_prompt_change_notifications_live')).toBe('0');
    expect(later.get('ptune_training_steps_per_second')).toBe('0');
    expect(later.get('ptune_training_steps_total')).toBe('10');
    expect(trialQueries).toBe(2);
  });

  it('serves /healthz, and refuses other paths and methods', async () => {
    const server = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: createMetrics({ defaultMetrics: false }).registry });
    servers.push(server);
    const health = await scrape(server, '/healthz');
    expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
    expect((await scrape(server, '/')).status).toBe(404);
    expect((await scrape(server, '/metricsx')).status).toBe(404);
    const head = await scrape(server, '/metrics', { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
    const post = await scrape(server, '/metrics', { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it('a failing provider empties its gauges for that scrape and is reported, the rest still serves', async () => {
    const failures: string[] = [];
    const metrics = createMetrics({ defaultMetrics: false, onCollectError: (_error, provider) => failures.push(provider) });
    metrics.collectOrchestrationState({
      trialsByState: () => Promise.reject(new Error('database is down')),
      activeLeases: () => Promise.reject(new Error('database is down')),
    });
    metrics.recordTrainingSteps(3);
    const { samples } = parseExposition(await metrics.registry.metrics());
    expect(samples.get('ptune_queue_depth')).toBe('Nan');
    expect(samples.get('ptune_active_leases')).toBe('Nan');
    expect([...samples.keys()].filter((key) => key.startsWith('ptune_trials'))).toEqual([]);
    expect(samples.get('ptune_training_steps_total')).toBe('3');
    expect(failures.sort()).toEqual(['activeLeases', 'trialsByState']);
    expect(() => metrics.collectOrchestrationState({ trialsByState: async () => ({}), activeLeases: async () => 0 })).toThrow(
      /already registered/,
    );
  });

  it('reports a port that is taken', async () => {
    const registry = createMetrics({ defaultMetrics: false }).registry;
    const first = await startMetricsServer({ port: 0, host: '127.0.0.1', registry });
    servers.push(first);
    await expect(startMetricsServer({ port: first.port, host: '127.0.0.1', registry })).rejects.toThrow(
      `metrics server cannot listen on 127.0.0.1:${first.port}`,
    );
  });

  it('moves to a free port when asked to and the port is taken (two workers on one host)', async () => {
    const registry = createMetrics({ defaultMetrics: false }).registry;
    const first = await startMetricsServer({ port: 0, host: '127.0.0.1', registry });
    servers.push(first);
    const second = await startMetricsServer({ port: first.port, host: '127.0.0.1', registry, whenBusy: 'free-port' });
    servers.push(second);
    expect(first.movedFromBusyPort).toBe(false);
    expect(second).toMatchObject({ movedFromBusyPort: true });
    expect(second.port).not.toBe(first.port);
    expect((await fetch(`http://127.0.0.1:${second.port}/healthz`)).status).toBe(200);
  });
});

describe('rpcMetricsObserver', () => {
  it('records real gRPC calls by full method name and status name', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const server = await startGrpcServer({
      port: 0,
      host: '127.0.0.1',
      services: [
        implement(EchoService, {
          echo: (request) => {
            if (request.failCode) throw new RpcError(request.failCode, 'asked to fail');
            return { text: request.text };
          },
          async *echoMany() {},
          collect: async () => ({ joined: '', count: 0 }),
          async *chat() {},
        }),
      ],
      observe: rpcMetricsObserver(metrics),
      logger: { error: () => {} },
    });
    const transport = createGrpcTransport(`127.0.0.1:${server.port}`);
    try {
      const client = createClient(EchoService, transport);
      await client.echo({ text: 'a' });
      await client.echo({ text: 'b' });
      await expect(client.echo({ text: 'c', failCode: grpc.status.PERMISSION_DENIED })).rejects.toThrow();
    } finally {
      transport.close();
      await server.close(1000);
    }
    const { samples } = parseExposition(await metrics.registry.metrics());
    expect(samples.get('ptune_rpc_duration_seconds_count{method="ptune.testing.v1.EchoService/Echo",code="OK"}')).toBe('2');
    expect(samples.get('ptune_rpc_duration_seconds_count{method="ptune.testing.v1.EchoService/Echo",code="PERMISSION_DENIED"}')).toBe('1');
  });
});
