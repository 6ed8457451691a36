import { describe, expect, it } from 'vitest';
import { createLogger, logLevelFromEnv, withIds } from './index.js';

function capture(): { lines: Record<string, unknown>[]; destination: { write(line: string): void } } {
  const lines: Record<string, unknown>[] = [];
  return { lines, destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) } };
}

describe('createLogger', () => {
  it('writes JSON lines with component, level name and ISO time; child lines carry the ids', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ component: 'worker', level: 'info', destination });
    const trialLogger = withIds(logger, { jobId: 'job-1', trialId: 'trial-7', workerId: undefined });
    trialLogger.info({ step: 12, loss: 2.5 }, 'step done');
    withIds(trialLogger, { workerId: 'w-3' }).warn('lease lost');
    logger.debug('not written at info');

    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 'info',
      component: 'worker',
      jobId: 'job-1',
      trialId: 'trial-7',
      step: 12,
      loss: 2.5,
      msg: 'step done',
    });
    expect(lines[0]).not.toHaveProperty('workerId');
    expect(new Date(lines[0].time as string).toISOString()).toBe(lines[0].time);
    expect(lines[1]).toMatchObject({ level: 'warn', jobId: 'job-1', trialId: 'trial-7', workerId: 'w-3', msg: 'lease lost' });
  });

  it('redacts authorization and token fields at any of the first three levels', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ component: 'grpc', level: 'info', destination });
    logger.info(
      {
        authorization: 'Bearer top-secret',
        metadata: { authorization: 'Bearer top-secret', 'user-agent': 'grpc-node' },
        request: { credentials: { token: 'top-secret', password: 'top-secret' } },
        s3: { secretAccessKey: 'top-secret', bucket: 'prompts' },
      },
      'call',
    );
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain('top-secret');
    expect(lines[0]).toMatchObject({
      authorization: '[redacted]',
      metadata: { authorization: '[redacted]', 'user-agent': 'grpc-node' },
      request: { credentials: { token: '[redacted]', password: '[redacted]' } },
      s3: { secretAccessKey: '[redacted]', bucket: 'prompts' },
    });
  });

  it('takes its level from PTUNE_LOG_LEVEL and names a bad value', () => {
    const { lines, destination } = capture();
    createLogger({ component: 'cli', destination, level: logLevelFromEnv({ PTUNE_LOG_LEVEL: 'debug' }) }).debug('visible');
    expect(lines.map((line) => line.msg)).toEqual(['visible']);
    expect(logLevelFromEnv({})).toBeUndefined();
    expect(() => logLevelFromEnv({ PTUNE_LOG_LEVEL: 'loud' })).toThrow(
      'PTUNE_LOG_LEVEL=loud is not a log level; use one of fatal, error, warn, info, debug, trace, silent',
    );
  });
});
