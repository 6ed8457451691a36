/** Small helpers the pages share: every page of a listing, readable numbers and names. */
import { InitMethod, TuningMethod, type PromptInit } from '../../gen/ptune/v1/common_pb.js';

/** Follows next_page_token to the end (listings the console shows whole: base models, a namespace's tasks). */
export async function listAll<R extends { nextPageToken: string }, T>(
  fetch: (pageToken: string) => Promise<R>,
  items: (reply: R) => readonly T[],
  max = 10_000,
): Promise<T[]> {
  const all: T[] = [];
  let token = '';
  do {
    const reply = await fetch(token);
    all.push(...items(reply));
    token = reply.nextPageToken;
  } while (token !== '' && all.length < max);
  return all;
}

export function byteText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A metric value with enough digits to compare versions. */
export function metricText(value: number | undefined): string {
  if (value === undefined) return '';
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 1000 || (value !== 0 && Math.abs(value) < 0.001) ? value.toExponential(3) : value.toFixed(4);
}

const lower = (name: string | undefined): string => (name ?? 'unknown').toLowerCase().replaceAll('_', ' ');
export const methodText = (method: TuningMethod): string => lower(TuningMethod[method]);
export function initText(init: PromptInit | undefined): string {
  if (init === undefined || init.method === InitMethod.UNSPECIFIED) return 'unknown';
  const name = lower(InitMethod[init.method]);
  if (init.method === InitMethod.TEXT) return `${name} "${init.text}"`;
  if (init.method === InitMethod.FROM_PROMPT && init.parent)
    return `${name} ${init.parent.task?.namespace}/${init.parent.task?.name}@${init.parent.version}`;
  return name;
}
