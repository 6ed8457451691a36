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
