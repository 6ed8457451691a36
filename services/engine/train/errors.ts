/** A loss or gradient became NaN/Inf: training stopped, the last good checkpoint is kept. */
export class TrainingDivergedError extends Error {
  constructor(
    readonly step: number,
    what: string,
    readonly lastCheckpointStep: number | undefined,
  ) {
    super(
      `training diverged at step ${step}: ${what}. ` +
        (lastCheckpointStep === undefined
          ? 'No checkpoint was written before it.'
          : `The last good checkpoint (step ${lastCheckpointStep}) is kept.`) +
        ' Lower the learning rate or enable gradient clipping.',
    );
    this.name = 'TrainingDivergedError';
  }
}

/** The run's AbortSignal fired; a checkpoint of the last completed step was written first. */
export class TrainingAbortedError extends Error {
  constructor(readonly step: number) {
    super(`training aborted after step ${step}`);
    this.name = 'TrainingAbortedError';
  }
}
