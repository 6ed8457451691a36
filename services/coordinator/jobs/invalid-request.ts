/** A refused request: `field` is the proto path at fault, `reason` what is wrong and how to fix it. */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';

  constructor(
    readonly field: string,
    readonly reason: string,
    readonly kind: 'invalid' | 'not_found' = 'invalid',
  ) {
    super(`${field}: ${reason}`);
  }
}
