import { randomInt } from 'node:crypto';
import net from 'node:net';

// Below Linux's ephemeral range (32768–60999): the OS never hands out these ports on its own, so a
// test server that restarts on its port (Postgres, a coordinator) cannot find it taken meanwhile by
// some client connection's local port or another test's port-0 listener.
const FIRST = 20_000;
const END = 32_000;

/** A TCP port outside the ephemeral range that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = FIRST + randomInt(END - FIRST);
    if (await canListen(port)) return port;
  }
  throw new Error(`freePort: no free port found in ${FIRST}..${END - 1} after 100 tries`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
