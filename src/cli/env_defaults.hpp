// Shared flag helpers: every flag can also come from BATON_<FLAG> (upper snake case).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace baton::cli {

// --db URL (env BATON_DB): `sqlite:PATH` or `postgres://...`.
inline CLI::Option* AddDbOption(CLI::App& cmd, std::string& db) {
  return cmd.add_option("--db", db, "Database URL: sqlite:PATH or postgres://...")
      ->envname("BATON_DB")
      ->capture_default_str();
}

}  // namespace baton::cli
