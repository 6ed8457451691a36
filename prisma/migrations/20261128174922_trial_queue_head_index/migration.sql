-- DropIndex
DROP INDEX "trial_job_id_state_idx";

-- CreateIndex
CREATE INDEX "trial_job_id_state_ordinal_idx" ON "trial"("job_id", "state", "ordinal");
