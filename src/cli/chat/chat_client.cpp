#include "cli/chat/chat_client.hpp"

#include <algorithm>
#include <thread>

#include "cli/chat/interrupt_signal.hpp"
#include "cli/chat/sse_reader.hpp"
#include "core/ids.hpp"

namespace baton::cli::chat {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kFirstBackOff{200};
constexpr milliseconds kMaxBackOff{2000};
constexpr milliseconds kReadSlice{200};  // how often a waiting read looks at Ctrl-C

// Marks the span of a turn for the Ctrl-C handler.
struct TurnScope {
  TurnScope() { SetInTurn(true); }
  ~TurnScope() { SetInTurn(false); }
};

std::int64_t IntField(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v && v->is_int64()) return v->as_int64();
  if (v && v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return 0;
}

Outcome OutcomeOf(const ChatEvent& terminal, bool interrupt_sent) {
  if (terminal.type == "error") return Outcome::kFailed;
  if (terminal.type == "interrupted") {
    return interrupt_sent && StringField(terminal.data, "reason") == "user"
               ? Outcome::kInterruptedByUser
               : Outcome::kFailed;
  }
  return Outcome::kDone;
}

}  // namespace

int ExitCode(Outcome outcome) {
  switch (outcome) {
    case Outcome::kDone:
    case Outcome::kApprovalLeft:
      return 0;
    case Outcome::kInterruptedByUser:
      return 130;
    case Outcome::kFailed:
    case Outcome::kRejected:
    case Outcome::kUnreachable:
      return 1;
  }
  return 1;
}

bool ChatClient::BackOff(Clock::time_point outage_start, milliseconds& step) {
  const auto spent = Clock::now() - outage_start;
  if (spent >= options_.reconnect_budget) return false;
  const auto wait = std::min<milliseconds>(
      step, std::chrono::duration_cast<milliseconds>(options_.reconnect_budget - spent));
  const auto until = Clock::now() + wait;
  while (Clock::now() < until) {
    std::this_thread::sleep_for(std::min<milliseconds>(
        kReadSlice, std::chrono::duration_cast<milliseconds>(until - Clock::now())));
  }
  step = std::min(step * 2, kMaxBackOff);
  return true;
}

void ChatClient::StatusLineStart() {
  // On stderr, not stdout: the transcript must stay exactly the streamed text.
  if (printer_.mid_line()) status_ << '\n';
}

void ChatClient::ForwardInterrupt(const std::string& session_id) {
  if (!TakeInterruptRequest() || interrupt_sent_) return;
  interrupt_sent_ = true;
  StatusLineStart();
  status_ << "interrupting… (Ctrl-C again to quit)" << std::endl;
  auto reply = api_.Request("POST", "/api/interrupt/" + session_id);
  if (!reply) {
    status_ << "could not ask for the interrupt: " << reply.error().message << std::endl;
  } else if (!reply->ok()) {
    status_ << "could not ask for the interrupt: " << reply->Describe() << std::endl;
  }
}

std::optional<std::string> ChatClient::CreateSession() {
  const boost::json::value body = boost::json::object{};
  auto start = Clock::now();
  auto step = kFirstBackOff;
  for (;;) {
    auto reply = api_.Request("POST", "/api/session", &body);
    if (reply && reply->ok()) {
      auto j = reply->Json();
      if (j.is_object()) {
        auto id = StringField(j.as_object(), "session_id");
        if (!id.empty()) return id;
      }
      status_ << "error: unexpected reply to POST /api/session: " << reply->body << std::endl;
      return std::nullopt;
    }
    if (reply && reply->status < 500) {
      status_ << "error: cannot create a session: " << reply->Describe() << std::endl;
      return std::nullopt;
    }
    if (!BackOff(start, step)) {
      status_ << "error: cannot create a session: "
              << (reply ? reply->Describe() : reply.error().message) << std::endl;
      return std::nullopt;
    }
  }
}

std::optional<boost::json::value> ChatClient::GetJson(const std::string& path, Outcome& failure) {
  auto start = Clock::now();
  auto step = kFirstBackOff;
  for (;;) {
    auto reply = api_.Request("GET", path);
    if (reply && reply->ok()) return reply->Json();
    if (reply && reply->status < 500) {
      status_ << "error: GET " << path << ": " << reply->Describe() << std::endl;
      failure = Outcome::kRejected;
      return std::nullopt;
    }
    if (!BackOff(start, step)) {
      status_ << "error: GET " << path << ": "
              << (reply ? reply->Describe() : reply.error().message) << std::endl;
      failure = Outcome::kUnreachable;
      return std::nullopt;
    }
  }
}

std::optional<ChatClient::Submitted> ChatClient::Submit(const std::string& session_id,
                                                        const boost::json::value& body,
                                                        Outcome& failure) {
  // One key for every attempt: if a first attempt reached the server but its
  // reply was lost, the retry gets that same run back instead of a second one.
  const Headers headers = {{"Prefer", "respond-async"}, {"Idempotency-Key", NewId()}};
  const std::string path = "/api/chat/" + session_id;
  auto start = Clock::now();
  auto step = kFirstBackOff;
  bool announced = false;
  for (;;) {
    auto reply = api_.Request("POST", path, &body, headers);
    if (reply && reply->ok()) {
      auto j = reply->Json();
      if (j.is_object() && !StringField(j.as_object(), "run_id").empty()) {
        return Submitted{StringField(j.as_object(), "run_id"),
                         IntField(j.as_object(), "after_seq")};
      }
      status_ << "error: unexpected reply to POST " << path << ": " << reply->body << std::endl;
      failure = Outcome::kRejected;
      return std::nullopt;
    }
    if (reply && reply->status < 500) {
      status_ << "error: " << reply->Describe() << std::endl;
      failure = Outcome::kRejected;
      return std::nullopt;
    }
    if (!announced) {
      status_ << "reconnecting… (" << (reply ? reply->Describe() : reply.error().message) << ")"
              << std::endl;
      announced = true;
    }
    if (!BackOff(start, step)) {
      status_ << "error: gave up sending after "
              << std::chrono::duration_cast<std::chrono::seconds>(options_.reconnect_budget).count()
              << " s" << std::endl;
      failure = Outcome::kUnreachable;
      return std::nullopt;
    }
  }
}

std::optional<ChatEvent> ChatClient::Follow(const std::string& session_id,
                                            const std::string& run_id, std::int64_t after_seq,
                                            Outcome& failure) {
  std::optional<std::int64_t> last_seq;
  std::optional<Clock::time_point> outage_start;
  auto step = kFirstBackOff;
  std::string why;
  for (;;) {
    ForwardInterrupt(session_id);
    if (outage_start) {
      if (!BackOff(*outage_start, step)) {
        printer_.EndLine();
        status_
            << "error: lost the event stream (" << why << ") and could not resume within "
            << std::chrono::duration_cast<std::chrono::seconds>(options_.reconnect_budget).count()
            << " s; reattach with: baton chat --session " << session_id << " --attach" << std::endl;
        failure = Outcome::kUnreachable;
        return std::nullopt;
      }
      ForwardInterrupt(session_id);
    }
    auto opening = api_.OpenEvents(session_id, after_seq, last_seq);
    if (!opening) {
      why = opening.error().message;
    } else if (!opening->stream) {
      if (opening->rejected.status < 500) {
        printer_.EndLine();
        status_ << "error: " << opening->rejected.Describe() << std::endl;
        failure = Outcome::kRejected;
        return std::nullopt;
      }
      why = opening->rejected.Describe();
    } else {
      SseReader reader;
      auto silent_since = Clock::now();
      std::string bytes;
      for (;;) {
        ForwardInterrupt(session_id);
        bytes.clear();
        auto read = opening->stream->Read(bytes, kReadSlice);
        if (!read) {
          why = read.error().message;
          break;
        }
        if (*read == EventStream::ReadStatus::kEnd) {
          why = "the server ended the stream";
          break;
        }
        if (*read == EventStream::ReadStatus::kTimeout) {
          if (Clock::now() - silent_since > options_.stall_timeout) {
            why = "no data, not even a keep-alive";
            break;
          }
          continue;
        }
        silent_since = Clock::now();
        reader.Feed(bytes);
        while (auto frame = reader.Next()) {
          auto parsed = ParseChatEvent(*frame);
          if (!parsed.event) {
            status_ << "warning: skipping an event: " << parsed.error << std::endl;
            continue;
          }
          ChatEvent& e = *parsed.event;
          // A resumed stream starts after last_seq; this guards against any overlap.
          if (last_seq && e.seq <= *last_seq) continue;
          last_seq = e.seq;
          outage_start.reset();
          step = kFirstBackOff;
          if (e.run_id != run_id) continue;
          printer_.Print(e);
          if (IsTerminalEvent(e.type)) return std::move(e);
        }
      }
    }
    if (!outage_start) {
      StatusLineStart();
      status_ << "reconnecting… (" << why << ")" << std::endl;
      outage_start = Clock::now();
    }
  }
}

void ChatClient::ShowEditedCalls(const boost::json::array& tools,
                                 const boost::json::array& decisions) {
  for (const auto& decision : decisions) {
    const auto* edited = decision.as_object().if_contains("edited_arguments");
    if (!edited) continue;
    const auto id = StringField(decision.as_object(), "tool_call_id");
    for (const auto& call : tools) {
      if (call.is_object() && StringField(call.as_object(), "tool_call_id") == id) {
        printer_.EditedCall(StringField(call.as_object(), "tool"), *edited);
        break;
      }
    }
  }
}

Outcome ChatClient::FollowTurn(const std::string& session_id, Submitted run) {
  for (;;) {
    Outcome failure = Outcome::kFailed;
    std::optional<ChatEvent> terminal;
    {
      TurnScope turn;
      interrupt_sent_ = false;
      terminal = Follow(session_id, run.run_id, run.after_seq, failure);
    }
    if (!terminal) return failure;
    if (terminal->type != "approval_required") return OutcomeOf(*terminal, interrupt_sent_);

    const auto* tools = terminal->data.if_contains("tools");
    if (!tools || !tools->is_array() || tools->as_array().empty()) {
      status_ << "error: approval_required without tool calls" << std::endl;
      return Outcome::kFailed;
    }
    auto decisions = approvals_.Ask(tools->as_array());
    if (!decisions) {
      status_ << "approvals still pending; answer them later with: baton chat --session "
              << session_id << " --attach" << std::endl;
      return Outcome::kApprovalLeft;
    }
    ShowEditedCalls(tools->as_array(), *decisions);
    boost::json::object body;
    body["approvals"] = std::move(*decisions);
    const boost::json::value request = std::move(body);
    auto submitted = Submit(session_id, request, failure);
    if (!submitted) return failure;
    run = *submitted;
  }
}

Outcome ChatClient::SendText(const std::string& session_id, const std::string& text) {
  boost::json::object body;
  body["text"] = text;
  const boost::json::value request = std::move(body);
  Outcome failure = Outcome::kFailed;
  auto submitted = Submit(session_id, request, failure);
  if (!submitted) return failure;
  return FollowTurn(session_id, *submitted);
}

Outcome ChatClient::Attach(const std::string& session_id) {
  Outcome failure = Outcome::kFailed;
  auto info = GetJson("/api/session/" + session_id, failure);
  if (!info) return failure;
  if (!info->is_object()) {
    status_ << "error: unexpected session info" << std::endl;
    return Outcome::kFailed;
  }
  std::string run_id = StringField(info->as_object(), "active_run_id");
  std::string state = StringField(info->as_object(), "runtime_state");
  if (run_id.empty()) {
    // Nothing running: show the last run, which ends with its terminal event.
    auto runs = GetJson("/api/session/" + session_id + "/runs", failure);
    if (!runs) return failure;
    if (!runs->is_array() || runs->as_array().empty()) {
      status_ << "session " << session_id << " has no turns yet (" << state << ")" << std::endl;
      return Outcome::kDone;
    }
    const auto& last = runs->as_array().front();
    if (!last.is_object()) return Outcome::kFailed;
    run_id = StringField(last.as_object(), "run_id");
  }
  auto run = GetJson("/api/runs/" + run_id, failure);
  if (!run) return failure;
  if (!run->is_object()) return Outcome::kFailed;
  const auto& r = run->as_object();
  status_ << "run " << run_id << " (" << StringField(r, "status") << "), session " << state
          << std::endl;
  return FollowTurn(session_id, Submitted{run_id, IntField(r, "after_seq")});
}

}  // namespace baton::cli::chat
