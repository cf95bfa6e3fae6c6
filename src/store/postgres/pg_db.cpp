#include "store/postgres/pg_db.hpp"

#include <cstdlib>

namespace baton::pg {
namespace {

// `?` -> `$1, $2, ...` in order; `?N` -> `$N`.
std::string ToDollarPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 1;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != '?') {
      out += sql[i];
      continue;
    }
    out += '$';
    if (i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') continue;
    out += std::to_string(next++);
  }
  return out;
}

bool IsConnectionState(std::string_view s) {
  return s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03";
}

}  // namespace

bool IsRetryableState(std::string_view s) {
  return s == "40001" || s == "40P01" || s == "23505" || IsConnectionState(s);
}

// --- Statement ---------------------------------------------------------------

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      sql_(other.sql_),
      values_(std::move(other.values_)),
      types_(std::move(other.types_)),
      result_(other.result_),
      row_(other.row_),
      rows_(other.rows_) {
  other.result_ = nullptr;
}

Statement::~Statement() {
  if (result_) PQclear(result_);
}

Status Statement::Execute() {
  if (result_) return {};
  auto r = db_->ExecPrepared(sql_, types_, values_);
  if (!r) return r.error();
  result_ = *r;
  rows_ = PQntuples(result_);
  row_ = -1;
  return {};
}

Result<bool> Statement::Step() {
  BATON_RETURN_IF_ERROR(Execute());
  if (row_ + 1 >= rows_) {
    row_ = rows_;
    return false;
  }
  ++row_;
  return true;
}

Status Statement::Run() {
  return Execute();
}

std::int64_t Statement::Int(int col) const {
  if (IsNull(col)) return 0;
  return std::strtoll(PQgetvalue(result_, row_, col), nullptr, 10);
}

std::string Statement::Text(int col) const {
  return std::string(PQgetvalue(result_, row_, col),
                     static_cast<std::size_t>(PQgetlength(result_, row_, col)));
}

std::optional<std::string> Statement::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}

std::optional<std::int64_t> Statement::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}

// --- PgDb ----------------------------------------------------------------------

Result<std::unique_ptr<PgDb>> PgDb::Open(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (!conn) return Error::Unavailable("PostgreSQL: out of memory opening a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    return Error::Unavailable("PostgreSQL: cannot connect: " + message);
  }
  std::unique_ptr<PgDb> db(new PgDb(conn));
  // Quiet notices (e.g. "relation already exists, skipping") and make every
  // session's timing predictable.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  BATON_RETURN_IF_ERROR(db->Exec("SET client_min_messages = warning"));
  return db;
}

PgDb::~PgDb() {
  PQfinish(conn_);
}

bool PgDb::StillAlive() {
  return PQconsumeInput(conn_) == 1 && PQstatus(conn_) == CONNECTION_OK;
}

Error PgDb::Fail(PGresult* result, std::string_view what) {
  failed_before_execute_ = false;
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state ? state : (broken() ? "08006" : "");
  std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(conn_);
  if (message.empty()) message = PQerrorMessage(conn_);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  if (result) PQclear(result);
  const std::string text = "PostgreSQL " + std::string(what) + ": " + message;
  if (last_sqlstate_ == "23505") return Error::Conflict(text);
  if (IsRetryableState(last_sqlstate_) || broken()) return Error::Unavailable(text);
  if (last_sqlstate_.starts_with("22")) return Error::Invalid(text);
  return Error::Internal(text);
}

Status PgDb::Exec(const char* sql) {
  PGresult* r = PQexec(conn_, sql);
  const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return Fail(r, "exec");
  PQclear(r);
  last_sqlstate_.clear();
  return {};
}

Result<PGresult*> PgDb::ExecPrepared(const char* sql, const std::vector<Oid>& types,
                                     const std::vector<std::optional<std::string>>& values) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    const std::string name = "s" + std::to_string(prepared_.size());
    const std::string text = ToDollarPlaceholders(sql);
    PGresult* r =
        PQprepare(conn_, name.c_str(), text.c_str(), static_cast<int>(types.size()), types.data());
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
      auto error = Fail(r, "prepare");
      failed_before_execute_ = true;
      return error;
    }
    PQclear(r);
    it = prepared_.emplace(sql, name).first;
  }
  std::vector<const char*> params;
  params.reserve(values.size());
  for (const auto& v : values) params.push_back(v ? v->c_str() : nullptr);
  PGresult* r = PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(params.size()),
                               params.data(), nullptr, nullptr, 0);
  const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return Fail(r, "statement");
  const char* affected = PQcmdTuples(r);
  changes_ = (affected && *affected) ? std::strtoll(affected, nullptr, 10) : 0;
  last_sqlstate_.clear();
  return r;
}

}  // namespace baton::pg
