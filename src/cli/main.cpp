// The one baton binary: `baton serve`, `baton worker`, `baton admin ...`, `baton chat`.
#include <CLI/CLI.hpp>

#include "cli/admin_command.hpp"
#include "cli/chat/chat_command.hpp"
#include "cli/runtime_flags.hpp"

int main(int argc, char** argv) {
  CLI::App app{"baton: durable background workers for interactive LLM-agent sessions"};
  app.require_subcommand(1);
  baton::cli::AddServeCommand(app);
  baton::cli::AddWorkerCommand(app);
  baton::cli::AddAdminCommand(app);
  baton::cli::AddChatCommand(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
