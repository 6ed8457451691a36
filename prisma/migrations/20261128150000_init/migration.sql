-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "prompt_method" AS ENUM ('PROMPT_TUNING', 'P_TUNING', 'PREFIX_TUNING');

-- CreateEnum
CREATE TYPE "init_method" AS ENUM ('RANDOM', 'SAMPLE_VOCAB', 'TEXT', 'PARENT');

-- CreateEnum
CREATE TYPE "job_state" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "trial_state" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');

-- CreateTable
CREATE TABLE "base_model" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "fingerprint" CHAR(64) NOT NULL,
    "family" TEXT NOT NULL,
    "hidden_size" INTEGER NOT NULL,
    "num_layers" INTEGER NOT NULL,
    "num_heads" INTEGER NOT NULL,
    "num_kv_heads" INTEGER NOT NULL,
    "vocab_size" INTEGER NOT NULL,
    "context_length" INTEGER NOT NULL,
    "tokenizer_kind" TEXT NOT NULL,
    "weights_format" TEXT NOT NULL,
    "weights_blob_key" TEXT NOT NULL,
    "weights_size_bytes" BIGINT NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "base_model_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "task" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "namespace" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "next_version" INTEGER NOT NULL DEFAULT 1,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "task_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "prompt_version" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "task_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "base_model_id" UUID NOT NULL,
    "method" "prompt_method" NOT NULL,
    "num_virtual_tokens" INTEGER NOT NULL,
    "token_dim" INTEGER NOT NULL,
    "init_method" "init_method" NOT NULL,
    "init_text" TEXT,
    "parent_version_id" UUID,
    "dtype" TEXT NOT NULL,
    "shape" INTEGER[],
    "blob_key" TEXT NOT NULL,
    "sha256" CHAR(64) NOT NULL,
    "size_bytes" INTEGER NOT NULL,
    "metrics" JSONB NOT NULL DEFAULT '{}',
    "hyperparameters" JSONB NOT NULL DEFAULT '{}',
    "job_id" UUID,
    "trial_id" UUID,
    "request_id" TEXT,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_at" TIMESTAMPTZ(3),
    "deleted_by" TEXT,

    CONSTRAINT "prompt_version_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alias" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "task_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "version_id" UUID NOT NULL,
    "updated_by" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alias_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alias_event" (
    "id" BIGSERIAL NOT NULL,
    "task_id" UUID NOT NULL,
    "alias_name" TEXT NOT NULL,
    "from_version" INTEGER,
    "to_version" INTEGER,
    "actor" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alias_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "job" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "namespace" TEXT NOT NULL,
    "idempotency_key" TEXT,
    "base_model_id" UUID NOT NULL,
    "spec" JSONB NOT NULL,
    "state" "job_state" NOT NULL DEFAULT 'QUEUED',
    "error" TEXT,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "trial" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "job_id" UUID NOT NULL,
    "task_id" UUID NOT NULL,
    "ordinal" INTEGER NOT NULL,
    "sweep_point" JSONB NOT NULL DEFAULT '{}',
    "state" "trial_state" NOT NULL DEFAULT 'QUEUED',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "not_before" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lease_owner" TEXT,
    "lease_epoch" INTEGER NOT NULL DEFAULT 0,
    "lease_expires_at" TIMESTAMPTZ(3),
    "checkpoint_key" TEXT,
    "checkpoint_step" INTEGER,
    "result_blob_key" TEXT,
    "result_sha256" CHAR(64),
    "metrics" JSONB NOT NULL DEFAULT '{}',
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "trial_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "worker" (
    "id" TEXT NOT NULL,
    "capabilities" JSONB NOT NULL DEFAULT '{}',
    "registered_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "worker_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "job_event" (
    "seq" BIGSERIAL NOT NULL,
    "job_id" UUID NOT NULL,
    "trial_id" UUID,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "job_event_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "dataset" (
    "sha256" CHAR(64) NOT NULL,
    "blob_key" TEXT NOT NULL,
    "lines" INTEGER NOT NULL,
    "bytes" BIGINT NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dataset_pkey" PRIMARY KEY ("sha256")
);

-- CreateIndex
CREATE UNIQUE INDEX "base_model_name_key" ON "base_model"("name");

-- CreateIndex
CREATE UNIQUE INDEX "base_model_fingerprint_key" ON "base_model"("fingerprint");

-- CreateIndex
CREATE UNIQUE INDEX "task_namespace_name_key" ON "task"("namespace", "name");

-- CreateIndex
CREATE INDEX "prompt_version_task_id_created_at_idx" ON "prompt_version"("task_id", "created_at");

-- CreateIndex
CREATE INDEX "prompt_version_task_id_base_model_id_version_idx" ON "prompt_version"("task_id", "base_model_id", "version");

-- CreateIndex
CREATE INDEX "prompt_version_task_id_method_version_idx" ON "prompt_version"("task_id", "method", "version");

-- CreateIndex
CREATE INDEX "prompt_version_blob_key_idx" ON "prompt_version"("blob_key");

-- CreateIndex
CREATE UNIQUE INDEX "prompt_version_task_id_version_key" ON "prompt_version"("task_id", "version");

-- CreateIndex
CREATE UNIQUE INDEX "prompt_version_task_id_request_id_key" ON "prompt_version"("task_id", "request_id");

-- CreateIndex
CREATE INDEX "alias_version_id_idx" ON "alias"("version_id");

-- CreateIndex
CREATE UNIQUE INDEX "alias_task_id_name_key" ON "alias"("task_id", "name");

-- CreateIndex
CREATE INDEX "alias_event_task_id_alias_name_id_idx" ON "alias_event"("task_id", "alias_name", "id");

-- CreateIndex
CREATE INDEX "job_state_created_at_idx" ON "job"("state", "created_at");

-- CreateIndex
CREATE INDEX "job_created_at_idx" ON "job"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "job_namespace_idempotency_key_key" ON "job"("namespace", "idempotency_key");

-- CreateIndex
CREATE INDEX "trial_state_lease_expires_at_idx" ON "trial"("state", "lease_expires_at");

-- CreateIndex
CREATE INDEX "trial_state_not_before_idx" ON "trial"("state", "not_before");

-- CreateIndex
CREATE INDEX "trial_job_id_state_idx" ON "trial"("job_id", "state");

-- CreateIndex
CREATE INDEX "trial_lease_owner_idx" ON "trial"("lease_owner");

-- CreateIndex
CREATE UNIQUE INDEX "trial_job_id_ordinal_key" ON "trial"("job_id", "ordinal");

-- CreateIndex
CREATE INDEX "worker_last_seen_at_idx" ON "worker"("last_seen_at");

-- CreateIndex
CREATE INDEX "job_event_job_id_seq_idx" ON "job_event"("job_id", "seq");

-- AddForeignKey
ALTER TABLE "prompt_version" ADD CONSTRAINT "prompt_version_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "task"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "prompt_version" ADD CONSTRAINT "prompt_version_base_model_id_fkey" FOREIGN KEY ("base_model_id") REFERENCES "base_model"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "prompt_version" ADD CONSTRAINT "prompt_version_parent_version_id_fkey" FOREIGN KEY ("parent_version_id") REFERENCES "prompt_version"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "prompt_version" ADD CONSTRAINT "prompt_version_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "job"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "prompt_version" ADD CONSTRAINT "prompt_version_trial_id_fkey" FOREIGN KEY ("trial_id") REFERENCES "trial"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alias" ADD CONSTRAINT "alias_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "task"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alias" ADD CONSTRAINT "alias_version_id_fkey" FOREIGN KEY ("version_id") REFERENCES "prompt_version"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alias_event" ADD CONSTRAINT "alias_event_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "task"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job" ADD CONSTRAINT "job_base_model_id_fkey" FOREIGN KEY ("base_model_id") REFERENCES "base_model"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trial" ADD CONSTRAINT "trial_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trial" ADD CONSTRAINT "trial_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "task"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trial" ADD CONSTRAINT "trial_lease_owner_fkey" FOREIGN KEY ("lease_owner") REFERENCES "worker"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_event" ADD CONSTRAINT "job_event_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

