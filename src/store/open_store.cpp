#include <string>

#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"

namespace baton {

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const StoreOptions& options) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (url.starts_with(kSqlite)) {
    const std::string path(url.substr(kSqlite.size()));
    if (path.empty()) return Error::Invalid("sqlite URL needs a path: sqlite:PATH");
    auto store = sqlite::SqliteStore::Open(path, options);
    if (!store) return store.error();
    return std::unique_ptr<Store>(std::move(*store));
  }
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
    auto store = pg::PostgresStore::Open(std::string(url), options);
    if (!store) return store.error();
    return std::unique_ptr<Store>(std::move(*store));
  }
  return Error::Invalid("unknown database URL '" + std::string(url) +
                        "': expected sqlite:PATH or postgres://...");
}

}  // namespace baton
