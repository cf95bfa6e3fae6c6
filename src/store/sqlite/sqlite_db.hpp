// A thin RAII layer over one sqlite3 connection: cached prepared statements,
// typed binding, and the one place SQLite result codes become ErrorCodes.
// Not thread-safe: one SqliteDb is used by one thread at a time.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.hpp"

namespace baton::sqlite {

// Translates a SQLite result code: busy/locked/I-O -> kUnavailable (retry
// later), constraint -> kConflict, anything else -> kInternal.
Error TranslateError(int rc, sqlite3* db, std::string_view what);

// A prepared statement borrowed from a SqliteDb's cache; reset and unbound
// when the guard dies so the next user starts clean.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  Statement(Statement&& other) noexcept : stmt_(other.stmt_), db_(other.db_) {
    other.stmt_ = nullptr;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Binds parameters 1..N in order.
  template <typename... Args>
  Statement& Bind(const Args&... args) {
    int index = 1;
    (BindOne(index++, args), ...);
    return *this;
  }

  // Makes the statement ready to bind and step again.
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  // Steps once: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion, ignoring rows.
  Status Run();

  std::int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const;
  std::optional<std::string> OptText(int col) const;
  std::optional<std::int64_t> OptInt(int col) const;

 private:
  void BindOne(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindOne(int i, int v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindOne(int i, bool v) { sqlite3_bind_int64(stmt_, i, v ? 1 : 0); }
  void BindOne(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void BindOne(int i, const std::string& v) { BindOne(i, std::string_view(v)); }
  void BindOne(int i, const char* v) { BindOne(i, std::string_view(v)); }
  void BindOne(int i, std::nullptr_t) { sqlite3_bind_null(stmt_, i); }
  template <typename T>
  void BindOne(int i, const std::optional<T>& v) {
    if (v) {
      BindOne(i, *v);
    } else {
      sqlite3_bind_null(stmt_, i);
    }
  }

  sqlite3_stmt* stmt_;
  sqlite3* db_;
};

class SqliteDb {
 public:
  struct Options {
    bool synchronous_full = true;
    // How long a writer waits for another process's write lock before
    // giving up with kUnavailable.
    std::chrono::milliseconds busy_timeout{30'000};
  };

  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, const Options& options);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements without results.
  Status Exec(const char* sql);
  // A cached prepared statement for `sql` (which must be a string literal or
  // otherwise outlive this connection: it keys the cache by address).
  Result<Statement> Prepare(const char* sql);
  std::int64_t Changes() const { return sqlite3_changes64(db_); }
  sqlite3* raw() const { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  static int BusyHandler(void* self, int count);

  sqlite3* db_;
  std::chrono::milliseconds busy_timeout_{};
  std::chrono::steady_clock::time_point busy_since_{};
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace baton::sqlite
