-- AlterTable: the width of one attention head, which prefix tuning's key/value width and PEFT's
-- export need; every model registered before is a Llama-layout GGUF, where it is hidden / heads.
ALTER TABLE "base_model" ADD COLUMN "head_dim" INTEGER;
UPDATE "base_model" SET "head_dim" = "hidden_size" / "num_heads";
ALTER TABLE "base_model" ALTER COLUMN "head_dim" SET NOT NULL;
