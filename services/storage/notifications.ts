import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface NotificationHandlers {
  /** A NOTIFY on the channel was committed; `payload` as sent. */
  onNotify(payload: string): void;
  /**
   * Notifications may have been missed (the connection dropped, a ping went unanswered, or it was
   * just (re)established): assume that anything they could have said has happened.
   */
  onGap(): void;
}

export interface NotificationListener {
  /**
   * True while notifications are known to arrive: the LISTEN connection is up and answered a ping
   * within the last `deadMs`. A connection that dies silently stops being live after at most that.
   */
  readonly live: boolean;
  close(): Promise<void>;
}

export interface ListenTiming {
  /** How often the listening connection is pinged (and a lost one reconnected). */
  pingMs: number;
  /** Without an answer for this long, the connection counts as lost. */
  deadMs: number;
}

export const DEFAULT_LISTEN_TIMING: ListenTiming = { pingMs: 1_000, deadMs: 3_000 };

/**
 * LISTENs on a Postgres channel over a dedicated connection, reconnecting whenever it is lost.
 * Postgres delivers a notification at the commit of the transaction that sent it, in commit order,
 * to every listening session; one sent while this listener was not connected is never delivered,
 * hence `onGap` after every loss and every (re)connection.
 *
 * The ping is a notification to this listener's own private channel, so `live` means "notifications
 * reach this connection", not merely "the connection answers": behind a proxy that pools by
 * transaction (where LISTEN does not stick to a session) a listener never becomes live, and callers
 * fall back to reading the database instead of trusting a silence.
 */
export function listenForNotifications(
  url: string,
  channel: string,
  handlers: NotificationHandlers,
  timing: ListenTiming = DEFAULT_LISTEN_TIMING,
): NotificationListener {
  let current: pg.Client | undefined;
  let connecting = false;
  /** the payload of the ping in flight, if any */
  let pingPending: string | undefined;
  let pings = 0;
  let pingSentAt = 0;
  let answeredAt = -Infinity;
  let closed = false;
  const pingChannel = `ptune_ping_${randomBytes(8).toString('hex')}`;

  const drop = (client: pg.Client): void => {
    if (current !== client) return;
    current = undefined;
    answeredAt = -Infinity;
    handlers.onGap();
    client.end().catch(() => undefined);
  };

  const connect = async (): Promise<void> => {
    if (closed || connecting || current !== undefined) return;
    connecting = true;
    const client = new pg.Client({ connectionString: url, keepAlive: true, application_name: `ptune listen ${channel}` });
    client.on('notification', (message) => {
      if (client !== current) return;
      if (message.channel === channel) handlers.onNotify(message.payload ?? '');
      else if (message.channel === pingChannel && message.payload === pingPending) {
        pingPending = undefined;
        answeredAt = performance.now();
      }
    });
    client.on('error', () => drop(client));
    client.on('end', () => drop(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(channel)}; LISTEN ${client.escapeIdentifier(pingChannel)}`);
      if (closed) {
        await client.end();
        return;
      }
      current = client;
      pingPending = undefined;
      handlers.onGap();
      ping();
    } catch {
      client.end().catch(() => undefined);
    } finally {
      connecting = false;
    }
  };

  const ping = (): void => {
    if (closed) return;
    const client = current;
    if (client === undefined) {
      void connect();
      return;
    }
    if (pingPending !== undefined) {
      // the last ping has not come back: after deadMs the connection counts as lost
      if (performance.now() - pingSentAt >= timing.deadMs) drop(client);
      return;
    }
    pingPending = String(++pings);
    pingSentAt = performance.now();
    client.query('SELECT pg_notify($1, $2)', [pingChannel, pingPending]).catch(() => drop(client));
  };

  void connect();
  const timer = setInterval(ping, timing.pingMs);
  timer.unref();

  return {
    get live() {
      return current !== undefined && performance.now() - answeredAt < timing.deadMs;
    },
    async close() {
      closed = true;
      clearInterval(timer);
      const client = current;
      current = undefined;
      await client?.end().catch(() => undefined);
    },
  };
}
