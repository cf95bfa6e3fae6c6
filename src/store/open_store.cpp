#include <string>

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
    return Error::Invalid("PostgreSQL support is not built yet; use sqlite:PATH");
  }
  return Error::Invalid("unknown database URL '" + std::string(url) +
                        "': expected sqlite:PATH or postgres://...");
}

}  // namespace baton
