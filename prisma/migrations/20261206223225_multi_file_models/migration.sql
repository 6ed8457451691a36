-- CreateTable
CREATE TABLE "base_model_file" (
    "base_model_id" UUID NOT NULL,
    "path" TEXT NOT NULL,
    "sha256" CHAR(64) NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "blob_key" TEXT NOT NULL,

    CONSTRAINT "base_model_file_pkey" PRIMARY KEY ("base_model_id","path")
);

-- AddForeignKey
ALTER TABLE "base_model_file" ADD CONSTRAINT "base_model_file_base_model_id_fkey" FOREIGN KEY ("base_model_id") REFERENCES "base_model"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill: every model registered before is one file, listed under its conventional name.
INSERT INTO "base_model_file" ("base_model_id", "path", "sha256", "size_bytes", "blob_key")
SELECT "id",
       CASE "weights_format" WHEN 'gguf' THEN 'model.gguf' WHEN 'onnx' THEN 'model.onnx' ELSE 'model.safetensors' END,
       "fingerprint", "weights_size_bytes", "weights_blob_key"
FROM "base_model";
