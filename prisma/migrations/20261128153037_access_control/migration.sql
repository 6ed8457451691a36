-- CreateEnum
CREATE TYPE "TokenRole" AS ENUM ('reader', 'trainer', 'admin', 'worker');

-- CreateTable
CREATE TABLE "api_token" (
    "id" TEXT NOT NULL,
    "namespace" TEXT NOT NULL,
    "role" "TokenRole" NOT NULL,
    "secret_hash" CHAR(64) NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_token_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_event" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "namespace" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target" TEXT NOT NULL DEFAULT '',
    "details" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "audit_event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_token_secret_hash_key" ON "api_token"("secret_hash");

-- CreateIndex
CREATE INDEX "api_token_namespace_created_at_idx" ON "api_token"("namespace", "created_at");

-- CreateIndex
CREATE INDEX "audit_event_namespace_id_idx" ON "audit_event"("namespace", "id");
