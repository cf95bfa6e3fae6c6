// `baton chat`: a terminal client of a baton server's HTTP API.
#pragma once

#include <CLI/CLI.hpp>

namespace baton::cli {

// Registers `chat` on `app`.
void AddChatCommand(CLI::App& app);

}  // namespace baton::cli
