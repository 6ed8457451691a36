/**
 * The domain layer, below every service: names and their rules, the method / init / dtype / state
 * vocabulary and its codecs, page tokens, sweep expansion, and the one way to refuse a call. It
 * imports only the generated wire types and the gRPC status type; registry, coordinator, auth,
 * worker, client and CLI import it, and every rule here exists nowhere else.
 */
export * from './errors.js';
export * from './names.js';
export * from './page-token.js';
export * from './sweep.js';
export * from './vocabulary.js';
