/**
 * "What the prompt says": for each virtual token, the nearest vocabulary tokens of the base model
 * by cosine similarity (Lester et al. 2021's reading of a trained prompt). The prompt's tensor
 * comes from the API with the user's token (GetPrompt already proved access to this version); the
 * base model's embedding table, which the API does not serve, is read from the blob store, one
 * table per base model fingerprint, kept in a byte-bounded cache.
 */
import { TuningMethod } from '../gen/ptune/v1/common_pb.js';
import type { PromptVersion } from '../gen/ptune/v1/registry_pb.js';
import { nearestTokens, readTokenEmbedding, type NearestToken, type TokenEmbeddingTable } from '../engine/index.js';
import { readSafetensors, tensorToFloat32 } from '../engine/formats/safetensors.js';
import type { BlobStore } from '../storage/index.js';
import { html, type Html } from './html.js';
import type { SignedIn } from './signed-in.js';
import type { PromptReading } from './pages/version.js';

/** Nearest tokens shown per virtual token. */
export const NEAREST_K = 5;
/** Versions whose reading is kept. */
const MAX_READINGS = 512;

export interface PromptReadingOptions {
  readonly blobs: BlobStore;
  /** Bytes of embedding tables kept (default 1 GiB); a larger table is read for each page that needs it. */
  readonly cacheBytes?: number;
}

export function promptReading(options: PromptReadingOptions): PromptReading {
  const tables = new TableCache(options.cacheBytes ?? 1024 ** 3);
  const nearest = async (user: SignedIn, version: PromptVersion, safetensors: Uint8Array): Promise<NearestToken[][]> => {
    const name = version.baseModel?.name ?? '';
    const fingerprint = version.baseModel?.fingerprintSha256 ?? '';
    const table = await tables.get(fingerprint, async () => {
      const { baseModel } = await user.api.registry.getBaseModel({ name });
      if (baseModel === undefined || baseModel.fingerprintSha256 !== fingerprint)
        throw new ReadingUnavailable(`base model ${name} is no longer registered with the weights this version was trained on`);
      return readTokenEmbedding(
        baseModel.files.map((file) => ({
          path: file.path,
          size: Number(file.sizeBytes),
          open: () => options.blobs.getStream(file.blobKey),
        })),
      );
    });
    const prompt = readSafetensors(safetensors, { source: `${version.task?.namespace}/${version.task?.name}@${version.version}` }).tensors
      .prompt_embeddings;
    if (prompt === undefined) throw new ReadingUnavailable('the stored prompt has no prompt_embeddings tensor');
    const vectors = tensorToFloat32(prompt);
    const rows: NearestToken[][] = [];
    // one virtual token at a time, yielding between them: a large vocabulary takes a while, and the
    // process also serves gRPC calls and other pages
    for (let at = 0; at < vectors.length; at += table.dim) {
      rows.push(...nearestTokens(table, vectors.subarray(at, at + table.dim), NEAREST_K));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return rows;
  };
  /** Readings by prompt content (sha256) and base model: a version's reading never changes. */
  const readings = new Map<string, Promise<NearestToken[][]>>();
  const cachedNearest = (user: SignedIn, version: PromptVersion, safetensors: Uint8Array): Promise<NearestToken[][]> => {
    const key = `${version.blobSha256}:${version.baseModel?.fingerprintSha256}`;
    let reading = readings.get(key);
    if (reading === undefined) {
      reading = nearest(user, version, safetensors);
      readings.set(key, reading);
      reading.catch(() => readings.delete(key));
      if (readings.size > MAX_READINGS) readings.delete(readings.keys().next().value!);
    }
    return reading;
  };
  return async (user: SignedIn, version: PromptVersion, safetensors: Uint8Array): Promise<Html> => {
    if (version.method === TuningMethod.PREFIX_TUNING)
      return html`<p class="hint">
        This is a prefix-tuning version: it stores a key and a value per layer for each virtual token, not input embeddings, so there are no
        vocabulary tokens to compare them with.
      </p>`;
    let rows: NearestToken[][];
    try {
      rows = await cachedNearest(user, version, safetensors);
    } catch (err) {
      if (err instanceof ReadingUnavailable) return html`<p class="hint">No reading: ${err.message}.</p>`;
      throw err;
    }
    return html`<p class="hint">
        For each virtual token, the ${NEAREST_K} vocabulary tokens of ${version.baseModel?.name} whose input embeddings have the highest
        cosine similarity with it.
      </p>
      <table class="tokens">
        <thead>
          <tr>
            <th>virtual token</th>
            <th>nearest tokens (cosine similarity)</th>
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (tokens, i) =>
              html`<tr>
                <td class="num">${i}</td>
                <td>
                  ${tokens.map((t, k) => html`${k === 0 ? '' : ' · '}<code title="${`id ${t.id}`}">${t.text}</code> ${t.cosine.toFixed(3)}`)}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>`;
  };
}

class ReadingUnavailable extends Error {}

/** Embedding tables by base model fingerprint: least recently used out first; concurrent loads of one table share one read. */
class TableCache {
  private readonly entries = new Map<string, Promise<TokenEmbeddingTable>>();
  private readonly sizes = new Map<string, number>();

  constructor(private readonly budgetBytes: number) {}

  get(key: string, load: () => Promise<TokenEmbeddingTable>): Promise<TokenEmbeddingTable> {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const loading = load().then(
      (table) => {
        this.admit(key, table.rows.byteLength);
        return table;
      },
      (err: unknown) => {
        this.entries.delete(key);
        throw err;
      },
    );
    this.entries.set(key, loading);
    return loading;
  }

  private admit(key: string, bytes: number): void {
    if (bytes > this.budgetBytes) {
      this.entries.delete(key);
      return;
    }
    this.sizes.set(key, bytes);
    let total = [...this.sizes.values()].reduce((a, b) => a + b, 0);
    for (const old of this.entries.keys()) {
      if (total <= this.budgetBytes) break;
      if (old === key || !this.sizes.has(old)) continue;
      total -= this.sizes.get(old)!;
      this.sizes.delete(old);
      this.entries.delete(old);
    }
  }
}
