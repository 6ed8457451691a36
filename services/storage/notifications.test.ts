import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { listenForNotifications, type NotificationListener } from './notifications.js';

const TIMING = { pingMs: 50, deadMs: 1_000 };

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('listenForNotifications on Postgres', () => {
  let server: TestPostgres;
  let url: string;
  let sender: pg.Client;

  beforeAll(async () => {
    server = await startPostgres();
    url = await server.newDatabase();
    sender = new pg.Client(url);
    await sender.connect();
  }, 120_000);
  afterAll(async () => {
    await sender?.end();
    await server?.stop();
  });

  const listen = (channel: string): { listener: NotificationListener; payloads: string[]; gaps: () => number } => {
    const payloads: string[] = [];
    let gaps = 0;
    const listener = listenForNotifications(url, channel, { onNotify: (p) => payloads.push(p), onGap: () => gaps++ }, TIMING);
    return { listener, payloads, gaps: () => gaps };
  };

  it('delivers committed notifications only, and reports the start as a gap', async () => {
    const { listener, payloads, gaps } = listen('changes_a');
    try {
      await until('the listener to be live', () => listener.live);
      expect(gaps()).toBe(1);
      await sender.query('BEGIN');
      await sender.query(`SELECT pg_notify('changes_a', 'rolled back')`);
      await sender.query('ROLLBACK');
      await sender.query(`SELECT pg_notify('changes_a', 'committed')`);
      await sender.query(`SELECT pg_notify('other_channel', 'elsewhere')`);
      await sender.query(`SELECT pg_notify('changes_a', 'second')`);
      await until('both notifications', () => payloads.length >= 2);
      expect(payloads).toEqual(['committed', 'second']);
    } finally {
      await listener.close();
    }
    expect(listener.live).toBe(false);
  });

  it('reports a lost connection as a gap, stops being live, reconnects and hears again', async () => {
    const { listener, payloads, gaps } = listen('changes_b');
    try {
      await until('the listener to be live', () => listener.live);
      const { rows } = await sender.query<{ ended: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = 'ptune listen changes_b'`,
      );
      expect(rows).toEqual([{ ended: true }]);
      await until('the loss to be noticed', () => gaps() >= 2);
      await until('the listener to reconnect', () => listener.live && gaps() >= 3);
      await sender.query(`SELECT pg_notify('changes_b', 'after reconnect')`);
      await until('the notification', () => payloads.length > 0);
      expect(payloads).toEqual(['after reconnect']);
    } finally {
      await listener.close();
    }
  });

  it('is never live when notifications do not reach its connection (as behind a transaction-pooling proxy)', async () => {
    const proxy = await dropNotificationsProxy(new URL(url));
    const muted = listenForNotifications(
      proxy.url,
      'changes_d',
      { onNotify: () => undefined, onGap: () => undefined },
      { pingMs: 50, deadMs: 300 },
    );
    const { listener: direct } = listen('changes_d');
    try {
      await until('the direct listener to be live', () => direct.live);
      let everLive = false;
      const deadline = Date.now() + 1_500; // five ping deadlines
      while (Date.now() < deadline) {
        everLive ||= muted.live;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(everLive).toBe(false);
      expect(proxy.dropped()).toBeGreaterThan(0);
    } finally {
      await muted.close();
      await direct.close();
      await proxy.close();
    }
  });

  it('reconnects after a server restart and hears again', async () => {
    const { listener, payloads } = listen('changes_c');
    try {
      await until('the listener to be live', () => listener.live);
      await sender.end();
      await server.restart();
      sender = new pg.Client(url);
      await sender.connect();
      await until('the listener to reconnect', () => listener.live);
      await sender.query(`SELECT pg_notify('changes_c', 'after restart')`);
      await until('the notification', () => payloads.length > 0);
      expect(payloads).toEqual(['after restart']);
    } finally {
      await listener.close();
    }
  }, 60_000);
});

/**
 * A TCP proxy to Postgres that passes everything but NotificationResponse messages (type 'A') from
 * the server: its clients' queries work and their notifications never arrive.
 */
async function dropNotificationsProxy(target: URL): Promise<{ url: string; dropped: () => number; close: () => Promise<void> }> {
  let dropped = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    let pending = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      const kept: Buffer[] = [];
      while (pending.length >= 5 && pending.length >= 1 + pending.readUInt32BE(1)) {
        const size = 1 + pending.readUInt32BE(1);
        if (pending[0] === 0x41) dropped++;
        else kept.push(pending.subarray(0, size));
        pending = pending.subarray(size);
      }
      if (kept.length > 0) client.write(Buffer.concat(kept));
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(target);
  proxied.port = String((server.address() as net.AddressInfo).port);
  return {
    url: proxied.toString(),
    dropped: () => dropped,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
