-- AlterTable
ALTER TABLE "audit_event" ADD COLUMN     "outcome" TEXT NOT NULL DEFAULT 'ok';
