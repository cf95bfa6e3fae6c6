// Versioned schema migrations for the SQLite backend. Each migration runs in
// its own write transaction and records its version, so concurrent processes
// opening the same file apply each exactly once.
#pragma once

#include <cstdint>

#include "core/result.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace baton::sqlite {

// Applies every migration newer than the recorded version; returns the version now in force.
Result<std::int32_t> ApplyMigrations(SqliteDb& db);

// The newest version this build knows.
std::int32_t LatestSchemaVersion();

}  // namespace baton::sqlite
