#include "store/sqlite/sqlite_db.hpp"

#include <chrono>
#include <thread>

namespace baton::sqlite {

Error TranslateError(int rc, sqlite3* db, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return Error::Unavailable(std::move(message));
    case SQLITE_CONSTRAINT:
      return Error::Conflict(std::move(message));
    default:
      return Error::Internal(std::move(message));
  }
}

Statement::~Statement() {
  if (stmt_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return TranslateError(rc, db_, "step");
}

Status Statement::Run() {
  for (;;) {
    auto row = Step();
    if (!row) return row.error();
    if (!*row) return {};
  }
}

std::string Statement::Text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (!p) return {};
  return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::optional<std::string> Statement::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}

std::optional<std::int64_t> Statement::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, const Options& options) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e = TranslateError(rc, raw, "open " + path);
    sqlite3_close_v2(raw);
    return e;
  }
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw));
  db->busy_timeout_ = options.busy_timeout;
  sqlite3_busy_handler(raw, &SqliteDb::BusyHandler, db.get());
  sqlite3_extended_result_codes(raw, 1);
  const char* sync =
      options.synchronous_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
  BATON_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL;"));
  BATON_RETURN_IF_ERROR(db->Exec(sync));
  BATON_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON;"));
  return db;
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

// SQLite's own busy handler sleeps in steps of 1 ms up to 100 ms, far longer
// than a baton write transaction holds the lock; poll finely instead so
// several processes sharing a file hand the write lock over quickly.
int SqliteDb::BusyHandler(void* self, int count) {
  auto* db = static_cast<SqliteDb*>(self);
  const auto now = std::chrono::steady_clock::now();
  if (count == 0) db->busy_since_ = now;
  if (now - db->busy_since_ > db->busy_timeout_) return 0;
  const int micros = count < 10 ? 20 << (count / 2) : 1000;
  std::this_thread::sleep_for(std::chrono::microseconds(micros));
  return 1;
}

Status SqliteDb::Exec(const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string what = err ? err : "exec";
    sqlite3_free(err);
    return TranslateError(rc, db_, what);
  }
  return {};
}

Result<Statement> SqliteDb::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return TranslateError(rc, db_, std::string("prepare ") + sql);
    it = cache_.emplace(sql, stmt).first;
  }
  return Statement(it->second, db_);
}

}  // namespace baton::sqlite
