import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../config/index.js';
import { normalizeRequest } from '../coordinator/jobs/normalize-request.js';
import { Dtype, InitMethod, TuningMethod } from '../gen/ptune/v1/common_pb.js';
import {
  MethodSettingsSchema,
  OptimizerSettingsSchema,
  PromptEncoderType,
  SweepSchema,
  TrainPromptRequestSchema,
} from '../gen/ptune/v1/training_pb.js';
import { RpcError } from '../grpc/rpc-error.js';
import {
  checkAliasName,
  dtypeFlagNames,
  dtypeFromFile,
  dtypeFromFlag,
  dtypeToFile,
  encoderFromProto,
  encoderToProto,
  expandSweep,
  initFromDb,
  initFromEngine,
  initFromPeft,
  initToDb,
  initToEngine,
  initToPeft,
  isUniqueViolation,
  methodFlagNames,
  methodFromDb,
  methodFromFlag,
  methodFromPeft,
  methodFromProto,
  methodToDb,
  methodToProto,
  namespaceProblem,
  sweepSize,
} from './index.js';

const trainRequest = (alias: string) =>
  create(TrainPromptRequestSchema, {
    baseModel: 'tiny',
    alias,
    tasks: [
      {
        task: { namespace: 'ns', name: 'task' },
        train: { source: { case: 'sha256', value: 'a'.repeat(64) } },
        eval: { source: { case: 'sha256', value: 'b'.repeat(64) } },
      },
    ],
  });

function refusal(run: () => unknown): RpcError {
  try {
    run();
  } catch (err) {
    if (err instanceof RpcError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('names: one rule for the registry and TrainPrompt', () => {
  it.each(['v1.2', '1st', 'Prod', 'a'.repeat(64)])('TrainPrompt refuses alias %j, as registration would', (alias) => {
    expect(refusal(() => checkAliasName(alias, 'alias')).code).toBe(status.INVALID_ARGUMENT);
    const err = refusal(() => normalizeRequest(trainRequest(alias), DEFAULT_LIMITS));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details.field).toBe('alias');
  });

  it.each(['production', 'v1', '_staging', 'a-b_c'])('both accept alias %j', (alias) => {
    expect(checkAliasName(alias, 'alias')).toBe(alias);
    expect(normalizeRequest(trainRequest(alias), DEFAULT_LIMITS).alias).toBe(alias);
  });

  it('TrainPrompt checks task names with the registry rule and names the field', () => {
    const request = trainRequest('');
    request.tasks[0].task!.name = 'Bad Name';
    const err = refusal(() => normalizeRequest(request, DEFAULT_LIMITS));
    expect(err.details.field).toBe('tasks[0].task.name');
  });

  it('token namespaces are task namespaces or the wildcard', () => {
    expect(namespaceProblem('team-a', '*')).toBeUndefined();
    expect(namespaceProblem('*', '*')).toBeUndefined();
    expect(namespaceProblem('Team', '*')).toMatch(/lowercase/);
  });
});

describe('vocabulary: every value round-trips across every boundary', () => {
  const methods = [TuningMethod.PROMPT_TUNING, TuningMethod.P_TUNING, TuningMethod.PREFIX_TUNING];

  it('methods: proto ↔ domain ↔ CLI ↔ database ↔ PEFT', () => {
    for (const m of methods) {
      expect(methodToProto(methodFromProto(m)!)).toBe(m);
      expect(methodFromDb(methodToDb(m)!)).toBe(m);
      expect(methodFromPeft(methodToDb(m))).toBe(m);
    }
    expect(methodFlagNames.map(methodFromFlag)).toEqual(methods);
    expect(methodFromProto(TuningMethod.UNSPECIFIED)).toBeUndefined();
    expect(methodFromDb('LORA')).toBe(TuningMethod.UNSPECIFIED);
  });

  it('inits: proto ↔ database ↔ PEFT ↔ engine; FROM_PROMPT is stored as PARENT and has no PEFT or engine form', () => {
    for (const m of [InitMethod.RANDOM, InitMethod.SAMPLE_VOCAB, InitMethod.TEXT]) {
      expect(initFromDb(initToDb(m)!)).toBe(m);
      expect(initFromPeft(initToPeft(m))).toBe(m);
      expect(initFromEngine(initToEngine(m)!)).toBe(m);
    }
    expect(initToDb(InitMethod.FROM_PROMPT)).toBe('PARENT');
    expect(initToPeft(InitMethod.FROM_PROMPT)).toBeUndefined();
    expect(initToEngine(InitMethod.FROM_PROMPT)).toBeUndefined();
  });

  it('encoders and dtypes', () => {
    expect(encoderFromProto(encoderToProto('lstm'))).toBe('lstm');
    expect(encoderFromProto(PromptEncoderType.UNSPECIFIED)).toBe('mlp');
    expect(dtypeFlagNames.map(dtypeFromFlag)).toEqual([Dtype.F32, Dtype.F16, Dtype.BF16]);
    for (const d of [Dtype.F32, Dtype.F16, Dtype.BF16]) expect(dtypeFromFile(dtypeToFile(d)!)).toBe(d);
  });
});

describe('sweeps', () => {
  it('the size is the number of expanded points', () => {
    const sweep = create(SweepSchema, {
      numVirtualTokens: [4, 8],
      learningRates: [0.01, 0.02, 0.03],
      methods: [TuningMethod.PROMPT_TUNING],
    });
    const points = expandSweep(
      create(MethodSettingsSchema, { numVirtualTokens: 2 }),
      create(OptimizerSettingsSchema, { learningRate: 0.1 }),
      sweep,
    );
    expect(sweepSize(sweep)).toBe(6);
    expect(points).toHaveLength(6);
    expect(sweepSize(undefined)).toBe(1);
  });
});

it('isUniqueViolation recognizes only a unique-constraint failure', () => {
  expect(isUniqueViolation({ code: 'P2002' })).toBe(true);
  expect(isUniqueViolation({ code: 'P2025' })).toBe(false);
  expect(isUniqueViolation(new Error('P2002'))).toBe(false);
});
