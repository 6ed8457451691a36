/**
 * The database stores every integer in a signed column (Postgres `integer` for uint32 fields,
 * `bigint` for uint64 ones), so a request integer above these can never match or be stored: the
 * gRPC layer refuses it with INVALID_ARGUMENT before any service reads it (common.proto says so).
 */
export const COLUMN_INTEGER_CEILINGS = { maxUint32: 2 ** 31 - 1, maxUint64: 2n ** 63n - 1n } as const;
