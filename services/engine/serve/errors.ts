/** The engine's request errors, which the service maps to gRPC / HTTP statuses. */
/** The queue is full: the caller should retry later (RESOURCE_EXHAUSTED / 429). */
export class EngineBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineBusyError';
  }
}

/** A request's sizes or values are out of range; the message names the field (INVALID_ARGUMENT / 400). */
export class InferenceInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InferenceInputError';
  }
}

/** The engine is closed (its server is shutting down): UNAVAILABLE, another server may answer. */
export class EngineClosedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineClosedError';
  }
}
