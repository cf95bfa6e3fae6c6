// A thin RAII layer over one libpq connection, shaped like sqlite::SqliteDb
// so the two backends read alike: typed binding, statements prepared once per
// connection, and the one place SQLSTATEs become ErrorCodes.
// Not thread-safe: one PgDb is used by one thread at a time.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"

namespace baton::pg {

class PgDb;

// SQLSTATEs after which a transaction that did not commit may simply be run
// again: serialization failure, deadlock, unique violation of a racing insert.
bool IsRetryableState(std::string_view sqlstate);

// One statement with its parameters; executed on the first Step() or Run().
// SQL uses `?` (numbered in order) or `?N` placeholders, as in the SQLite
// backend; they become `$N`.
class Statement {
 public:
  Statement(PgDb* db, const char* sql) : db_(db), sql_(sql) {}
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  template <typename... Args>
  Statement& Bind(const Args&... args) {
    values_.clear();
    types_.clear();
    (BindOne(args), ...);
    return *this;
  }

  // Executes if needed; then true when a row is available, false when done.
  Result<bool> Step();
  // Executes if needed, ignoring rows.
  Status Run();

  std::int64_t Int(int col) const;
  bool IsNull(int col) const { return PQgetisnull(result_, row_, col) != 0; }
  std::string Text(int col) const;
  std::optional<std::string> OptText(int col) const;
  std::optional<std::int64_t> OptInt(int col) const;

 private:
  static constexpr Oid kInt8 = 20;
  static constexpr Oid kText = 25;

  Status Execute();
  void BindOne(std::int64_t v) { Push(std::to_string(v), kInt8); }
  void BindOne(int v) { Push(std::to_string(v), kInt8); }
  void BindOne(bool v) { Push(v ? "1" : "0", kInt8); }
  void BindOne(std::string_view v) { Push(std::string(v), kText); }
  void BindOne(const std::string& v) { Push(v, kText); }
  void BindOne(const char* v) { Push(v, kText); }
  template <typename T>
  void BindOne(const std::optional<T>& v) {
    if (v) {
      BindOne(*v);
    } else {
      values_.emplace_back();
      types_.push_back(std::is_same_v<T, std::string> ? kText : kInt8);
    }
  }
  void Push(std::string v, Oid type) {
    values_.emplace_back(std::move(v));
    types_.push_back(type);
  }

  PgDb* db_;
  const char* sql_;
  std::vector<std::optional<std::string>> values_;
  std::vector<Oid> types_;
  PGresult* result_ = nullptr;
  int row_ = -1;
  int rows_ = 0;
};

class PgDb {
 public:
  // `conninfo` is a libpq connection string or URI.
  static Result<std::unique_ptr<PgDb>> Open(const std::string& conninfo);
  ~PgDb();
  PgDb(const PgDb&) = delete;
  PgDb& operator=(const PgDb&) = delete;

  // Runs one or more statements without parameters or results.
  Status Exec(const char* sql);
  // `sql` must outlive this connection (a string literal): it keys the
  // prepared-statement cache by address.
  Result<Statement> Prepare(const char* sql) { return Statement(this, sql); }
  std::int64_t Changes() const { return changes_; }
  // True once the connection is unusable (server gone, reset).
  bool broken() const { return PQstatus(conn_) != CONNECTION_OK; }
  // The SQLSTATE of the last failed statement; empty after a success.
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  // True when the last failure happened before any statement was executed
  // (while preparing it): whatever the failure, nothing was changed.
  bool last_failure_before_execute() const { return failed_before_execute_; }
  // For a pooled connection about to be reused: reads what the server sent
  // while it sat idle (e.g. that it is shutting down); false if it is dead.
  bool StillAlive();
  PGconn* raw() const { return conn_; }

 private:
  friend class Statement;
  explicit PgDb(PGconn* conn) : conn_(conn) {}
  // Executes a cached prepared statement; the caller owns the result.
  Result<PGresult*> ExecPrepared(const char* sql, const std::vector<Oid>& types,
                                 const std::vector<std::optional<std::string>>& values);
  Error Fail(PGresult* result, std::string_view what);

  PGconn* conn_;
  std::unordered_map<const char*, std::string> prepared_;  // sql -> statement name
  std::int64_t changes_ = 0;
  std::string last_sqlstate_;
  bool failed_before_execute_ = false;
};

}  // namespace baton::pg
