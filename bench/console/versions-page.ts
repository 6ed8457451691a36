/**
 * The versions page of a task with many versions: server time of its first page in the default
 * order (newest first) and sorted by a metric both ways, and of the page after it (the keyset
 * cursor). Each reply is checked (50 rows, the expected first version) before it counts.
 */
import { HttpSession } from '../../services/console/testing/http-session.js';
import { NAMESPACE, type ConsoleServer } from '../../test/console/support/console-server.js';
import { median, percentile, type ServerTimes } from './server-time.js';

export interface PageFigure {
  readonly label: string;
  readonly url: string;
  /** server time of the first request of this URL (cold caches), ms */
  readonly firstMs: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  /** loopback round trip (client in the same process), median ms */
  readonly roundTripMs: number;
  readonly bytes: number;
}

const ROWS = 50;

export async function measureVersionsPages(
  server: ConsoleServer,
  times: ServerTimes,
  options: { task: string; evalLoss: ReadonlyMap<number, number>; runs: number },
): Promise<PageFigure[]> {
  const session = new HttpSession(server.url);
  const signIn = await session.signIn(server.tokens.reader);
  if (signIn.status !== 303) throw new Error(`sign-in answered ${signIn.status}: ${signIn.text.slice(0, 300)}`);
  const base = `/tasks/${NAMESPACE}/${options.task}`;
  const byLoss = [...options.evalLoss].map(([n, loss]) => ({ n, loss })).sort((a, b) => a.loss - b.loss);
  const newest = Math.max(...options.evalLoss.keys());
  const cases = [
    { label: 'default order (newest first)', url: base, first: newest },
    { label: 'sorted by eval_loss, ascending', url: `${base}?sort=metric:eval_loss&dir=asc`, first: byLoss[0]!.n },
    { label: 'sorted by eval_loss, descending', url: `${base}?sort=metric:eval_loss&dir=desc`, first: byLoss.at(-1)!.n },
  ];
  const figures: PageFigure[] = [];
  for (const c of cases) figures.push(await measure(session, times, c.label, c.url, c.first, Math.min(ROWS, byLoss.length), options.runs));
  // the second page of the metric order, through the first page's "Next page" cursor
  const first = await session.get(cases[1]!.url);
  const next = /<a rel="next" href="([^"]+)"/.exec(first.text)?.[1]?.replaceAll('&amp;', '&');
  if (next === undefined) throw new Error(`${cases[1]!.url}: no next-page link`);
  times.take(base);
  figures.push(
    await measure(
      session,
      times,
      'its second page (keyset cursor)',
      next,
      byLoss[ROWS]!.n,
      Math.min(ROWS, byLoss.length - ROWS),
      options.runs,
    ),
  );
  return figures;
}

async function measure(
  session: HttpSession,
  times: ServerTimes,
  label: string,
  url: string,
  firstVersion: number,
  expectedRows: number,
  runs: number,
): Promise<PageFigure> {
  const prefix = url.split('?')[0]!;
  times.take(prefix);
  const roundTrips: number[] = [];
  let bytes = 0;
  for (let run = 0; run <= runs; run++) {
    const t0 = performance.now();
    const reply = await session.get(url);
    roundTrips.push(performance.now() - t0);
    const rows = [...reply.text.matchAll(/<tr data-version="(\d+)"/g)].map((m) => Number(m[1]));
    if (reply.status !== 200 || rows.length !== expectedRows || rows[0] !== firstVersion)
      throw new Error(
        `${url}: status ${reply.status}, ${rows.length} rows starting at v${rows[0]}; expected ${expectedRows} rows from v${firstVersion}`,
      );
    bytes = reply.text.length;
  }
  const [firstMs, ...warm] = times.take(prefix);
  if (firstMs === undefined || warm.length !== runs)
    throw new Error(`${url}: recorded ${warm.length + 1} server times for ${runs + 1} requests`);
  return { label, url, firstMs, medianMs: median(warm), p90Ms: percentile(warm, 90), roundTripMs: median(roundTrips.slice(1)), bytes };
}
