// The flags of `baton serve` and `baton worker` (the operators' contract:
// keep the names). Every flag also reads BATON_<FLAG> in upper snake case.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/runtime.hpp"

namespace baton::cli {

void AddServeCommand(CLI::App& app);
void AddWorkerCommand(CLI::App& app);

}  // namespace baton::cli
