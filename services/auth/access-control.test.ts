import { describe, expect, it } from 'vitest';
import { isLoopback, withAccessControl } from './access-control.js';

describe('withAccessControl', () => {
  it('runs without authentication on loopback only', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'ptune.example.com', '127.0.0.1.example.com'])
      expect(isLoopback(host), host).toBe(false);
    expect(() => withAccessControl([], { authenticate: false, host: '0.0.0.0' })).toThrow(
      /refusing to serve on 0\.0\.0\.0 without authentication/,
    );
    expect(withAccessControl([], { authenticate: false, host: '127.0.0.1' }).map((m) => m.name)).toEqual(['access']);
    expect(
      withAccessControl([{ name: 'registry', create: () => ({}) }], { authenticate: true, host: '0.0.0.0' }).map((m) => m.name),
    ).toEqual(['access', 'registry']);
  });
});
