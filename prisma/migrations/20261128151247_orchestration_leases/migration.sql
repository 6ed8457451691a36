-- AlterTable
ALTER TABLE "job" ADD COLUMN     "last_event_seq" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "started_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "trial" ADD COLUMN     "max_attempts" INTEGER NOT NULL DEFAULT 3,
ADD COLUMN     "step" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "job_event" ADD COLUMN     "job_seq" INTEGER NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "job_event_job_id_job_seq_key" ON "job_event"("job_id", "job_seq");
