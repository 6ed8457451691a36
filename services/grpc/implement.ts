import type { DescService } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type { ServiceHandlers } from './handler.js';

/** A service descriptor with its handlers, ready to be served by startGrpcServer. */
export interface ServiceImplementation {
  readonly service: DescService;
  readonly handlers: Readonly<Record<string, unknown>>;
}

/** Pairs a generated service with its handlers; the handlers are type-checked against the descriptor. */
export function implement<S extends GenService<GenServiceMethods>>(service: S, handlers: ServiceHandlers<S>): ServiceImplementation {
  return { service, handlers };
}
