/** A call presented a lease (trial, epoch) that is no longer the trial's current one. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';

  constructor(
    readonly trialId: string,
    readonly epoch: number,
    readonly current: { state: string; epoch: number } | undefined,
  ) {
    super(
      current === undefined
        ? `trial ${trialId} does not exist`
        : `lease was taken over: trial ${trialId} epoch ${epoch} is stale (current epoch ${current.epoch}, state ${current.state})`,
    );
  }
}
