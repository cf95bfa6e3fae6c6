#include "cli/chat/chat_command.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/chat/api_client.hpp"
#include "cli/chat/approval_prompt.hpp"
#include "cli/chat/chat_client.hpp"
#include "cli/chat/interrupt_signal.hpp"
#include "cli/chat/turn_printer.hpp"

namespace baton::cli {
namespace {

struct ChatOptions {
  std::string server = "http://127.0.0.1:8080";
  std::string token;
  std::string session_id;
  std::vector<std::string> message;
  bool interactive = false;
  bool attach = false;
  double reconnect_seconds = 60;
  double request_timeout_seconds = 30;
};

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// Reads messages until EOF or /quit, one turn each.
int Interactive(chat::ChatClient& client, chat::TurnPrinter& printer, const std::string& session_id,
                bool show_prompt) {
  int code = 0;
  std::string line;
  for (;;) {
    printer.EndLine();
    if (show_prompt) std::cerr << "> " << std::flush;
    if (!std::getline(std::cin, line)) break;
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    line = line.substr(first);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line == "/quit" || line == "/exit") break;
    auto outcome = client.SendText(session_id, line);
    code = chat::ExitCode(outcome);
    if (outcome == chat::Outcome::kUnreachable) return code;
  }
  if (show_prompt) std::cerr << std::endl;
  return code;
}

int RunChat(const ChatOptions& o) {
  auto address = chat::ParseServerUrl(o.server);
  if (!address) {
    std::cerr << "baton chat: " << address.error().message << std::endl;
    return 2;
  }
  if (o.attach && o.session_id.empty()) {
    std::cerr << "baton chat: --attach needs --session ID" << std::endl;
    return 2;
  }
  const bool stdin_tty = ::isatty(STDIN_FILENO) == 1;
  const std::string message = Join(o.message);
  const bool interactive = o.interactive || (message.empty() && stdin_tty);
  if (message.empty() && !interactive && !o.attach) {
    std::cerr << "baton chat: no message given and stdin is not a terminal "
                 "(pass a message, --attach, or --interactive to read messages from stdin)"
              << std::endl;
    return 2;
  }
  if (!message.empty() && o.attach) {
    std::cerr << "baton chat: give either a message or --attach, not both" << std::endl;
    return 2;
  }

  chat::InstallInterruptHandler();
  chat::ApiClient api(*address, o.token, Millis(o.request_timeout_seconds));
  chat::TurnPrinter printer(std::cout, ::isatty(STDOUT_FILENO) == 1);
  chat::ApprovalPrompt prompt(std::cin, std::cerr);
  chat::ChatClientOptions options;
  options.reconnect_budget = Millis(o.reconnect_seconds);
  chat::ChatClient client(api, printer, prompt, std::cerr, options);

  std::string session_id = o.session_id;
  if (session_id.empty()) {
    auto created = client.CreateSession();
    if (!created) return 1;
    session_id = *created;
    std::cerr << "session " << session_id << " (reattach: baton chat --session " << session_id
              << " --attach)" << std::endl;
  }

  int code = 0;
  if (o.attach) {
    code = chat::ExitCode(client.Attach(session_id));
  } else if (!message.empty()) {
    code = chat::ExitCode(client.SendText(session_id, message));
  }
  printer.EndLine();
  // After a one-shot message the command is done; after --attach it goes on
  // reading messages when someone is there to type them.
  if (interactive && message.empty() && code != 1) {
    code = Interactive(client, printer, session_id, stdin_tty);
  }
  return code;
}

}  // namespace

void AddChatCommand(CLI::App& app) {
  auto o = std::make_shared<ChatOptions>();
  auto* cmd = app.add_subcommand(
      "chat",
      "Chat with a session of a baton server from the terminal (plain http:// only; no TLS)");
  cmd->add_option("message", o->message,
                  "Message to send (one turn, then exit). Without one, and with a terminal on "
                  "stdin, reads messages interactively (/quit or EOF ends)");
  cmd->add_option("--server", o->server, "Server base URL, http:// only")
      ->envname("BATON_SERVER")
      ->capture_default_str();
  cmd->add_option("--token", o->token, "API token (not needed against `baton serve --dev`)")
      ->envname("BATON_TOKEN");
  cmd->add_option("--session", o->session_id, "Session id (default: create a new session)");
  cmd->add_flag("--attach", o->attach,
                "With --session: follow the active run from its start, or show the last turn; "
                "answer pending approvals");
  cmd->add_flag("--interactive", o->interactive,
                "Read messages from stdin line by line even when it is not a terminal");
  cmd->add_option("--reconnect-seconds", o->reconnect_seconds,
                  "Keep trying this long while the server is unreachable")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--request-timeout-seconds", o->request_timeout_seconds,
                  "Time limit of one API request")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([o] { std::exit(RunChat(*o)); });
}

}  // namespace baton::cli
