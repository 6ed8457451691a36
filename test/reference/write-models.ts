/**
 * Writes the tiny generated Hugging Face folder of each family (the models the committed reference
 * outputs were computed on): `npx tsx test/reference/write-models.ts OUT_DIR SEED`.
 * Prints one JSON line per family: { family, dir, files }.
 */
import { join } from 'node:path';

import { writeHfModel } from '../../services/engine/model/hf/generate-hf.js';
import { families } from '../../services/engine/model/spec.js';

const [outDir, seedText] = process.argv.slice(2);
if (!outDir || !seedText) throw new Error('usage: write-models.ts OUT_DIR SEED');
for (const family of families) {
  const dir = join(outDir, family);
  const written = await writeHfModel(dir, { family, preset: 'tiny', seed: Number(seedText) });
  console.log(JSON.stringify({ family, dir, files: written.files }));
}
