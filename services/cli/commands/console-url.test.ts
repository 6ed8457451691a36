import { describe, expect, it } from 'vitest';
import { consoleUrl } from './console-url.js';

describe('consoleUrl', () => {
  it('says https under TLS, reaches a wildcard bind on loopback and brackets IPv6', () => {
    expect(consoleUrl('127.0.0.1', 8080, false)).toBe('http://127.0.0.1:8080/');
    expect(consoleUrl('0.0.0.0', 8443, true)).toBe('https://127.0.0.1:8443/');
    expect(consoleUrl('::1', 8080, true)).toBe('https://[::1]:8080/');
  });
});
