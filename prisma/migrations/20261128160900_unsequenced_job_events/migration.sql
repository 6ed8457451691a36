-- AlterTable
ALTER TABLE "job_event" ALTER COLUMN "job_seq" DROP NOT NULL;

-- CreateIndex
CREATE INDEX "job_event_job_seq_idx" ON "job_event"("job_seq");
