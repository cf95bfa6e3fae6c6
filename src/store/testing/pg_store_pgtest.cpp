// The store contract suite (store_contract.hpp) against the PostgreSQL
// backend, on the server named by BATON_TEST_PG_URL (tests/support/
// with-postgres starts one). Every test gets a fresh schema, dropped when the
// test ends.
#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "store/store.hpp"
#include "store/testing/store_contract.hpp"

namespace baton::store_testing {
namespace {

std::string ServerUrl() {
  const char* url = std::getenv("BATON_TEST_PG_URL");
  return url ? url : "";
}

// Runs one administrative statement on the test server.
bool Admin(const std::string& sql) {
  PGconn* conn = PQconnectdb(ServerUrl().c_str());
  bool ok = PQstatus(conn) == CONNECTION_OK;
  if (ok) {
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(conn, sql.c_str());
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) ADD_FAILURE() << sql << ": " << PQresultErrorMessage(r);
    PQclear(r);
  } else {
    ADD_FAILURE() << "cannot connect to " << ServerUrl() << ": " << PQerrorMessage(conn);
  }
  PQfinish(conn);
  return ok;
}

// The server URL with every connection's search_path set to `schema`.
std::string SchemaUrl(const std::string& schema) {
  const std::string base = ServerUrl();
  const char sep = base.find('?') == std::string::npos ? '?' : '&';
  return base + sep + "options=-csearch_path%3D" + schema;
}

std::unique_ptr<Store> OpenPg(const std::string& schema, const StoreOptions& options) {
  auto store = OpenStore(SchemaUrl(schema), options);
  if (!store.ok()) {
    ADD_FAILURE() << "OpenStore(" << SchemaUrl(schema) << "): " << Describe(store.error());
    return nullptr;
  }
  return std::move(*store);
}

StoreBackend PostgresBackend() {
  struct Schemas {
    std::vector<std::string> names;
  };
  auto schemas = std::make_shared<Schemas>();
  StoreBackend backend;
  backend.name = "Postgres";
  backend.open_fresh = [schemas](const StoreOptions& options) -> std::unique_ptr<Store> {
    if (ServerUrl().empty()) {
      ADD_FAILURE() << "BATON_TEST_PG_URL is not set: run the PostgreSQL tests under "
                       "tests/support/with-postgres";
      return nullptr;
    }
    std::string name = "t_" + NewId();
    for (char& c : name) {
      if (c == '-') c = '_';
    }
    if (!Admin("CREATE SCHEMA " + name)) return nullptr;
    schemas->names.push_back(name);
    return OpenPg(name, options);
  };
  backend.open_again = [schemas](const StoreOptions& options) -> std::unique_ptr<Store> {
    if (schemas->names.empty()) {
      ADD_FAILURE() << "open_again before open_fresh";
      return nullptr;
    }
    return OpenPg(schemas->names.back(), options);
  };
  backend.drop = [schemas] {
    for (const auto& name : schemas->names) Admin("DROP SCHEMA " + name + " CASCADE");
    schemas->names.clear();
  };
  return backend;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Postgres, StoreContractTest, ::testing::Values(PostgresBackend()),
                         BackendName);

}  // namespace baton::store_testing
