// The PostgreSQL schema, versioned like the SQLite one (same tables, columns
// and meaning; see sqlite_migrations.cpp), applied under an advisory lock so
// several processes may migrate at once.
#pragma once

#include <cstdint>

#include "core/result.hpp"
#include "store/postgres/pg_db.hpp"

namespace baton::pg {

std::int32_t LatestSchemaVersion();
Result<std::int32_t> ApplyMigrations(PgDb& db);

}  // namespace baton::pg
