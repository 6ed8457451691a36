import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { BlobIntegrityError, BlobNotFoundError } from './blob-errors.js';
import { checkPutArguments, sha256OfKey, validateBlobKey, validateBlobPrefix } from './blob-key.js';
import type { BlobBody, BlobInfo, BlobStore, PutOptions, PutResult } from './blob-store.js';
import { verifyingStream } from './verify-stream.js';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Prepended to every key inside the bucket, e.g. `ptune/` (default none). */
  keyPrefix?: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Streamed puts are spooled to a local file first: S3 needs the length up front, and we check the digest before uploading. */
interface Spooled {
  file: string;
  sizeBytes: number;
  sha256: string;
  md5: Buffer;
  cleanup(): Promise<void>;
}

/**
 * Blobs in an S3 bucket. A put checks the sha256 of the bytes before sending them, sends their MD5
 * (Content-MD5, so S3 rejects damaged uploads) and compares the returned ETag to it; when the ETag
 * is not an MD5 (e.g. SSE-KMS) it reads the object back and hashes it. Single PUT: up to 5 GiB.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly where: string;

  constructor(private readonly options: S3BlobStoreOptions) {
    const config: S3ClientConfig = {
      region: options.region ?? 'us-east-1',
      forcePathStyle: options.forcePathStyle ?? false,
      // S3-compatible servers (MinIO, s3rver, Ceph) do not all speak the newer flexible checksums.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    if (options.endpoint !== undefined) config.endpoint = options.endpoint;
    if (options.credentials !== undefined) config.credentials = options.credentials;
    this.client = new S3Client(config);
    this.where = `s3://${options.bucket}/${options.keyPrefix ?? ''}`;
  }

  async put(key: string, body: BlobBody, options: PutOptions): Promise<PutResult> {
    checkPutArguments(key, options.sha256);
    if (body instanceof Uint8Array) {
      const sha256 = createHash('sha256').update(body).digest('hex');
      if (sha256 !== options.sha256) throw new BlobIntegrityError(key, options.sha256, sha256);
      const md5 = createHash('md5').update(body).digest();
      await this.upload(key, body, body.byteLength, md5);
      await this.checkStored(key, md5, options.sha256);
      return { key, sha256, sizeBytes: body.byteLength };
    }
    const spooled = await spool(body);
    try {
      if (spooled.sha256 !== options.sha256) throw new BlobIntegrityError(key, options.sha256, spooled.sha256);
      await this.upload(key, createReadStream(spooled.file), spooled.sizeBytes, spooled.md5);
      await this.checkStored(key, spooled.md5, options.sha256);
      return { key, sha256: spooled.sha256, sizeBytes: spooled.sizeBytes };
    } finally {
      await spooled.cleanup();
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const stream = await this.getStream(key);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async getStream(key: string): Promise<Readable> {
    const stream = await this.fetch(key);
    const expected = sha256OfKey(key);
    return expected === undefined ? stream : verifyingStream(stream, key, expected);
  }

  async size(key: string): Promise<number> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(key, this.where);
      throw err;
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
  }

  async *list(prefix = ''): AsyncIterable<BlobInfo> {
    validateBlobPrefix(prefix);
    const base = this.options.keyPrefix ?? '';
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: base + prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield {
          key: object.Key.slice(base.length),
          sizeBytes: object.Size ?? 0,
          lastModified: object.LastModified ?? new Date(0),
        };
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /** Closes the client's sockets. */
  destroy(): void {
    this.client.destroy();
  }

  private async upload(key: string, body: Uint8Array | Readable, length: number, md5: Buffer): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.objectKey(key),
        Body: body,
        ContentLength: length,
        ContentMD5: md5.toString('base64'),
        ContentType: 'application/octet-stream',
      }),
    );
  }

  private async checkStored(key: string, md5: Buffer, sha256: string): Promise<void> {
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
    if (head.ETag?.replaceAll('"', '') === md5.toString('hex')) return;
    const stored = createHash('sha256');
    for await (const chunk of await this.fetch(key)) stored.update(chunk as Buffer);
    const actual = stored.digest('hex');
    if (actual !== sha256) {
      await this.delete(key);
      throw new BlobIntegrityError(key, sha256, actual);
    }
  }

  private async fetch(key: string): Promise<Readable> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
      if (!(object.Body instanceof Readable)) throw new Error(`${this.where}${key}: S3 returned no readable body`);
      return object.Body;
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(key, this.where);
      throw err;
    }
  }

  private objectKey(key: string): string {
    validateBlobKey(key);
    return (this.options.keyPrefix ?? '') + key;
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

async function spool(body: AsyncIterable<Uint8Array>): Promise<Spooled> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-spool-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const file = path.join(dir, randomBytes(8).toString('hex'));
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  let sizeBytes = 0;
  try {
    const handle = await open(file, 'wx', 0o600);
    try {
      for await (const chunk of body) {
        sha256.update(chunk);
        md5.update(chunk);
        sizeBytes += chunk.byteLength;
        await handle.write(chunk);
      }
    } finally {
      await handle.close();
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { file, sizeBytes, sha256: sha256.digest('hex'), md5: md5.digest(), cleanup };
}
