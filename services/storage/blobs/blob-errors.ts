export class InvalidBlobKeyError extends Error {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`invalid blob key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidBlobKeyError';
  }
}

export class BlobNotFoundError extends Error {
  constructor(
    readonly key: string,
    where: string,
  ) {
    super(`blob ${key} not found in ${where}`);
    this.name = 'BlobNotFoundError';
  }
}

export class BlobIntegrityError extends Error {
  constructor(
    readonly key: string,
    readonly expectedSha256: string,
    readonly actualSha256: string,
  ) {
    super(`blob ${key}: sha256 is ${actualSha256}, expected ${expectedSha256}`);
    this.name = 'BlobIntegrityError';
  }
}
