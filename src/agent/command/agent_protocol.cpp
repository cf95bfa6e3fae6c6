#include "agent/command/agent_protocol.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>

#include "core/operation.hpp"

namespace baton {
namespace {

constexpr std::array<std::string_view, 4> kKinds = {"event", "messages", "pending_approvals",
                                                    "done"};

std::string Quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// Rejects any key of `o` outside `allowed`, naming the kind of line.
Status CheckKeys(const boost::json::object& o, std::initializer_list<std::string_view> allowed,
                 std::string_view what) {
  for (const auto& [key, value] : o) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
      return Error::Invalid("unknown key " + Quoted(key) + " in " + std::string(what));
    }
  }
  return {};
}

// An array whose elements are all objects.
Result<boost::json::array> GetObjectArray(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_array()) return Error::Invalid(Quoted(key) + " must be an array");
  const auto& array = v->get_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    if (!array[i].is_object()) {
      return Error::Invalid(Quoted(key) + " must be an array of objects; element " +
                            std::to_string(i) + " is not an object");
    }
  }
  return array;
}

Result<AgentMessage> ParseEvent(const boost::json::object& o) {
  BATON_RETURN_IF_ERROR(CheckKeys(o, {"event", "data"}, "an event line"));
  const auto& type = o.at("event");
  if (!type.is_string()) return Error::Invalid("'event' must be a string");
  auto parsed = ParseEventType(type.get_string());
  if (!parsed) {
    return Error::Invalid("unknown event type " + Quoted(type.get_string()));
  }
  AgentEvent out;
  out.event.type = *parsed;
  if (const auto* data = o.if_contains("data")) {
    if (!data->is_object()) return Error::Invalid("'data' must be an object");
    out.event.data = data->get_object();
    // Every stored event carries its run's id; the agent does not get to pick it.
    out.event.data.erase("run_id");
  }
  return AgentMessage(std::move(out));
}

Result<AgentMessage> ParseMessages(const boost::json::object& o) {
  BATON_RETURN_IF_ERROR(CheckKeys(o, {"messages"}, "a messages line"));
  AgentMessages out;
  BATON_ASSIGN_OR_RETURN(out.messages, GetObjectArray(o, "messages"));
  return AgentMessage(std::move(out));
}

Result<AgentMessage> ParsePendingApprovals(const boost::json::object& o) {
  BATON_RETURN_IF_ERROR(CheckKeys(o, {"pending_approvals"}, "a pending_approvals line"));
  AgentPendingApprovals out;
  BATON_ASSIGN_OR_RETURN(out.pending_approvals, GetObjectArray(o, "pending_approvals"));
  return AgentMessage(std::move(out));
}

Result<AgentMessage> ParseDone(const boost::json::object& o) {
  BATON_RETURN_IF_ERROR(CheckKeys(o, {"done", "error"}, "a done line"));
  const auto& done = o.at("done");
  if (!done.is_string()) return Error::Invalid("'done' must be a string");
  AgentDone out;
  const std::string_view status = done.get_string();
  if (status == "completed") {
    out.status = RunStatus::kCompleted;
  } else if (status == "waiting_approval") {
    out.status = RunStatus::kWaitingApproval;
  } else if (status == "failed") {
    out.status = RunStatus::kFailed;
  } else {
    return Error::Invalid("'done' must be one of completed, waiting_approval, failed; got " +
                          Quoted(status));
  }
  if (const auto* error = o.if_contains("error")) {
    if (out.status != RunStatus::kFailed) {
      return Error::Invalid("'error' is only allowed with \"done\": \"failed\"");
    }
    const auto* e = error->if_object();
    const auto* code = e ? e->if_contains("code") : nullptr;
    const auto* message = e ? e->if_contains("message") : nullptr;
    if (!code || !code->is_string() || !message || !message->is_string()) {
      return Error::Invalid("'error' must be an object with string fields 'code' and 'message'");
    }
    BATON_RETURN_IF_ERROR(CheckKeys(*e, {"code", "message"}, "'error'"));
    out.error = RunError{std::string(code->get_string()), std::string(message->get_string())};
  }
  return AgentMessage(std::move(out));
}

}  // namespace

bool IsBlankAgentLine(std::string_view line) {
  return line.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

Result<AgentMessage> ParseAgentLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(line, ec);
  if (ec) return Error::Invalid("not a JSON value: " + ec.message());
  const auto* o = value.if_object();
  if (!o) return Error::Invalid("a line must be a JSON object");

  std::string_view kind;
  for (std::string_view k : kKinds) {
    if (!o->contains(k)) continue;
    if (!kind.empty()) {
      return Error::Invalid(
          "a line must have exactly one of the keys event, messages, "
          "pending_approvals, done; found both " +
          Quoted(kind) + " and " + Quoted(k));
    }
    kind = k;
  }
  if (kind == "event") return ParseEvent(*o);
  if (kind == "messages") return ParseMessages(*o);
  if (kind == "pending_approvals") return ParsePendingApprovals(*o);
  if (kind == "done") return ParseDone(*o);
  return Error::Invalid(
      "a line must have one of the keys event, messages, pending_approvals, done");
}

boost::json::object AgentRequestJson(const ExecutionRequest& request) {
  const Session& s = request.session;
  return {
      {"protocol", kAgentProtocolVersion},
      {"session",
       {{"id", s.id},
        {"user_id", s.user_id},
        {"title", s.title},
        {"model", s.model},
        {"turn_count", s.turn_count}}},
      {"run", {{"run_id", request.run.id}, {"attempt", request.run.attempt}}},
      {"operation", ToJson(request.run.operation)},
      {"messages", s.messages},
      {"pending_approvals", s.pending_approvals},
  };
}

std::string BuildAgentRequest(const ExecutionRequest& request) {
  return boost::json::serialize(AgentRequestJson(request));
}

}  // namespace baton
