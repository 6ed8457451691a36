import { InitMethod, type PromptInit } from '../gen/ptune/v1/common_pb.js';
import { initFromDb, initToDb, type DbInitMethod } from '../domain/index.js';

/**
 * How a prompt's initialisation is stored. The `init_method` column is NOT NULL, yet an imported
 * prompt's initialisation can be unknown (INIT_METHOD_UNSPECIFIED on the wire). TEXT always carries
 * its text, so (TEXT, init_text NULL) cannot otherwise occur and is used to record "unknown". This
 * mapping is the only place that knows it; a nullable column would say it plainly (schema follow-up).
 */
export interface InitColumns {
  initMethod: DbInitMethod;
  initText: string | null;
}

export function initToColumns(init: PromptInit | undefined): InitColumns {
  const method = init === undefined ? undefined : initToDb(init.method);
  if (method === undefined) return { initMethod: 'TEXT', initText: null };
  return { initMethod: method, initText: method === 'TEXT' ? (init as PromptInit).text : null };
}

export function initMethodFromColumns(initMethod: string, initText: string | null): InitMethod {
  if (initMethod === 'TEXT' && initText === null) return InitMethod.UNSPECIFIED;
  return initFromDb(initMethod);
}
