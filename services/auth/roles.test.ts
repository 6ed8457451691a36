import { describe, expect, it } from 'vitest';
import { checkNamespace, parseRole, roleCovers, ROLES } from './roles.js';

describe('roles', () => {
  it('orders reader < trainer < admin and keeps worker apart', () => {
    const covers = ROLES.map((held) => ROLES.filter((needed) => roleCovers(held, needed)).join(','));
    expect(covers).toEqual(['reader', 'reader,trainer', 'reader,trainer,admin', 'worker']);
  });

  it('parses role names and checks namespaces like task namespaces', () => {
    expect(parseRole('trainer')).toBe('trainer');
    expect(() => parseRole('root')).toThrow(/reader, trainer, admin, worker/);
    expect(checkNamespace('team-a_1')).toBeUndefined();
    expect(checkNamespace('*')).toBeUndefined();
    expect(checkNamespace('Team')).toMatch(/lowercase/);
    expect(checkNamespace('')).toMatch(/1\.\.63/);
    expect(checkNamespace('x'.repeat(64))).toMatch(/1\.\.63/);
  });
});
