import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

const root = path.dirname(fileURLToPath(import.meta.url));

// Prisma 7's CLI insists on a native schema-engine binary (downloaded from the network)
// even for `prisma generate`, which does not use it. On offline machines we point it at a
// stub that explains itself; migrations are applied by ptune's own applier instead
// (prisma/README.md). Set PRISMA_SCHEMA_ENGINE_BINARY yourself to use a real engine.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(root, 'prisma/schema-engine-stub.sh');

export default defineConfig({
  schema: path.join(root, 'prisma/schema.prisma'),
  migrations: { path: path.join(root, 'prisma/migrations') },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/ptune' },
});
