// `baton admin ...`: operator commands against the database directly.
#pragma once

#include <CLI/CLI.hpp>

namespace baton::cli {

// Registers `admin` and its subcommands on `app`.
void AddAdminCommand(CLI::App& app);

}  // namespace baton::cli
