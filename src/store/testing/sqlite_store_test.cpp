// The store contract suite (store_contract.hpp) against the SQLite backend:
// every test gets a fresh database file in a fresh temp directory, removed
// when the test ends.
#include <filesystem>
#include <memory>
#include <vector>

#include "store/store.hpp"
#include "store/testing/store_contract.hpp"

namespace baton::store_testing {
namespace {

std::unique_ptr<Store> OpenSqlite(const std::filesystem::path& file, const StoreOptions& options) {
  auto store = OpenStore("sqlite:" + file.string(), options);
  if (!store.ok()) {
    ADD_FAILURE() << "OpenStore(sqlite:" << file.string() << "): " << Describe(store.error());
    return nullptr;
  }
  return std::move(*store);
}

StoreBackend SqliteBackend() {
  // The directories open_fresh made since the last drop; the newest is the
  // one open_again opens. Tests run one at a time, so no lock is needed.
  struct Scratch {
    std::vector<std::unique_ptr<ScratchDir>> dirs;
    std::filesystem::path Newest() const { return dirs.back()->path() / "baton.db"; }
  };
  auto scratch = std::make_shared<Scratch>();
  StoreBackend backend;
  backend.name = "Sqlite";
  backend.open_fresh = [scratch](const StoreOptions& options) {
    scratch->dirs.push_back(std::make_unique<ScratchDir>("baton-sqlite-test"));
    return OpenSqlite(scratch->Newest(), options);
  };
  backend.open_again = [scratch](const StoreOptions& options) -> std::unique_ptr<Store> {
    if (scratch->dirs.empty()) {
      ADD_FAILURE() << "open_again before open_fresh";
      return nullptr;
    }
    return OpenSqlite(scratch->Newest(), options);
  };
  backend.drop = [scratch] { scratch->dirs.clear(); };
  return backend;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest, ::testing::Values(SqliteBackend()),
                         BackendName);

}  // namespace baton::store_testing
