/**
 * Job events as stored in `job_event`: `type` is the JobEvent oneof case, `payload` the case's
 * message in proto3 JSON. One place converts both ways, so the log and WatchJob always agree.
 */
import { create, fromJson, toJson, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  CheckpointSavedSchema,
  EvalResultSchema,
  JobEventSchema,
  JobStateChangedSchema,
  PromptRegisteredSchema,
  StepMetricsSchema,
  TrialStateChangedSchema,
  type JobEvent,
} from '../../gen/ptune/v1/training_pb.js';

/** The oneof of a JobEvent, set (the "what happened"), in init form. */
export type JobEventKind = Exclude<NonNullable<MessageInitShape<typeof JobEventSchema>['kind']>, { case: undefined }>;
export type JobEventType = NonNullable<JobEventKind['case']>;

/** An event ready to be inserted; `trialId` undefined means "the trial the statement is about". */
export interface NewJobEvent {
  trialId?: string | null;
  kind: JobEventKind;
}

const schemas = {
  jobState: JobStateChangedSchema,
  trialState: TrialStateChangedSchema,
  step: StepMetricsSchema,
  eval: EvalResultSchema,
  checkpoint: CheckpointSavedSchema,
  registered: PromptRegisteredSchema,
} as const;

export interface StoredEventJson {
  /** absent: the trial of the inserting statement; null: a job-level event */
  trialId?: string | null;
  type: JobEventType;
  payload: JsonValue;
}

export function encodeJobEvent(event: NewJobEvent): StoredEventJson {
  const { kind } = event;
  const schema = schemas[kind.case as JobEventType] as typeof JobStateChangedSchema;
  const payload = toJson(schema, create(schema, kind.value as MessageInitShape<typeof JobStateChangedSchema>));
  const stored: StoredEventJson = { type: kind.case as JobEventType, payload };
  if (event.trialId !== undefined) stored.trialId = event.trialId;
  return stored;
}

export interface JobEventRow {
  jobSeq: number;
  trialId: string | null;
  type: string;
  payload: unknown;
  at: Date;
}

export function decodeJobEvent(row: JobEventRow): JobEvent {
  const type = row.type as JobEventType;
  const schema = schemas[type];
  if (schema === undefined) throw new Error(`job_event ${row.jobSeq}: unknown event type "${row.type}"`);
  const value = fromJson(schema as typeof JobStateChangedSchema, row.payload as JsonValue);
  return create(JobEventSchema, {
    sequence: BigInt(row.jobSeq),
    time: timestampFromDate(row.at),
    trialId: row.trialId ?? '',
    kind: { case: type, value } as JobEvent['kind'],
  });
}
