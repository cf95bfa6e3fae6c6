// The chat client's control flow over the HTTP API: submit a turn
// (asynchronously, with an Idempotency-Key), follow the session's event
// stream until that run's terminal event, answer approvals, reattach, and
// ride out dropped connections by resuming after the last seq seen.
//
// Not thread-safe. The ApiClient, printer, prompt and `status` stream must
// outlive the client.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "cli/chat/api_client.hpp"
#include "cli/chat/approval_prompt.hpp"
#include "cli/chat/chat_event.hpp"
#include "cli/chat/turn_printer.hpp"

namespace baton::cli::chat {

// How a turn (or an attach) ended, from the user's point of view.
enum class Outcome {
  kDone,               // turn_complete or a maintenance operation's terminal event
  kApprovalLeft,       // approvals pending and the input ended: the user walked away
  kFailed,             // an error event, or the run was interrupted
  kInterruptedByUser,  // interrupted after our own Ctrl-C
  kRejected,           // the API refused the request (4xx)
  kUnreachable,        // the server stayed unreachable past the reconnect budget
};

// The process exit code for an outcome.
int ExitCode(Outcome outcome);

struct ChatClientOptions {
  // How long to keep trying while the server cannot be reached.
  std::chrono::milliseconds reconnect_budget{60'000};
  // A stream silent this long is assumed dead (the server sends a
  // keep-alive comment every 15 s by default).
  std::chrono::milliseconds stall_timeout{45'000};
};

class ChatClient {
 public:
  ChatClient(ApiClient& api, TurnPrinter& printer, ApprovalPrompt& approvals, std::ostream& status,
             ChatClientOptions options)
      : api_(api), printer_(printer), approvals_(approvals), status_(status), options_(options) {}

  // POST /api/session; the new id, or nullopt after printing why not.
  std::optional<std::string> CreateSession();

  // Sends `text` as a turn and follows it (and any approval rounds) to its end.
  Outcome SendText(const std::string& session_id, const std::string& text);

  // Shows the active run from its first event and follows it, or else
  // replays the last run; then handles pending approvals.
  Outcome Attach(const std::string& session_id);

 private:
  struct Submitted {
    std::string run_id;
    std::int64_t after_seq = 0;
  };

  // POST /api/chat/{id} with Prefer: respond-async, retried with the same
  // Idempotency-Key while the server is unreachable.
  std::optional<Submitted> Submit(const std::string& session_id, const boost::json::value& body,
                                  Outcome& failure);
  // Follows the run, then loops over approval rounds.
  Outcome FollowTurn(const std::string& session_id, Submitted run);
  // Puts the calls the user edited into the transcript, as they will run.
  void ShowEditedCalls(const boost::json::array& tools, const boost::json::array& decisions);
  // Reads events after `after_seq` until the run's terminal event.
  std::optional<ChatEvent> Follow(const std::string& session_id, const std::string& run_id,
                                  std::int64_t after_seq, Outcome& failure);
  // A GET returning JSON, with the same retries as everything else.
  std::optional<boost::json::value> GetJson(const std::string& path, Outcome& failure);

  // Sleeps for the current back-off step; false when the budget is spent.
  bool BackOff(std::chrono::steady_clock::time_point outage_start, std::chrono::milliseconds& step);
  // Asks the server to interrupt the session's run if the user pressed Ctrl-C.
  void ForwardInterrupt(const std::string& session_id);
  // Starts a status message on a line of its own on a shared terminal.
  void StatusLineStart();

  ApiClient& api_;
  TurnPrinter& printer_;
  ApprovalPrompt& approvals_;
  std::ostream& status_;
  const ChatClientOptions options_;
  bool interrupt_sent_ = false;
};

}  // namespace baton::cli::chat
