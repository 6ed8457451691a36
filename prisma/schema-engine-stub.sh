#!/bin/sh
# Stand-in for Prisma's native schema-engine binary, which Prisma 7 downloads from the
# network. ptune never needs it: `prisma generate` only checks that the file exists,
# and migrations are applied by services/storage/migrations (see prisma/README.md).
echo "ptune: the native Prisma schema engine is not installed (offline build)." >&2
echo "Apply migrations with 'ptune migrate' (services/storage/migrations), not 'prisma migrate'." >&2
echo "See prisma/README.md. To use the real engine, unset PRISMA_SCHEMA_ENGINE_BINARY." >&2
exit 1
