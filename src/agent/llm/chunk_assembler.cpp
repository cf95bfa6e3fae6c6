#include "agent/llm/chunk_assembler.hpp"

#include <boost/json.hpp>
#include <utility>

#include "agent/llm/server_error.hpp"

namespace baton {
namespace json = boost::json;

namespace {

const json::value* Find(const json::object& object, std::string_view key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &it->value();
}

std::string_view StringOr(const json::object& object, std::string_view key) {
  const json::value* v = Find(object, key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

std::int64_t IntOr(const json::object& object, std::string_view key) {
  const json::value* v = Find(object, key);
  if (!v) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  return 0;
}

void ReadUsage(const json::object& object, LlmUsage& usage) {
  const json::value* v = Find(object, "usage");
  if (!v || !v->is_object()) return;  // many servers send "usage": null in every chunk
  const auto& u = v->get_object();
  usage.prompt_tokens = IntOr(u, "prompt_tokens");
  usage.completion_tokens = IntOr(u, "completion_tokens");
  usage.total_tokens = IntOr(u, "total_tokens");
  if (usage.total_tokens == 0) usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
}

const json::object* FirstChoice(const json::object& object) {
  const json::value* choices = Find(object, "choices");
  if (!choices || !choices->is_array() || choices->get_array().empty()) return nullptr;
  const json::value& first = choices->get_array().front();
  return first.is_object() ? &first.get_object() : nullptr;
}

Error ServerError(const std::string& message) {
  return Error::Internal("model server error: " + message);
}

}  // namespace

Result<std::string> ChunkAssembler::Add(const json::value& chunk) {
  if (auto message = ServerErrorMessage(chunk)) return ServerError(*message);
  if (!chunk.is_object()) return Error::Internal("model server sent a chunk that is not an object");
  const auto& object = chunk.get_object();
  ReadUsage(object, response_.usage);
  const json::object* choice = FirstChoice(object);
  if (!choice) return std::string();  // e.g. the usage-only chunk
  if (auto reason = StringOr(*choice, "finish_reason"); !reason.empty()) {
    response_.finish_reason = std::string(reason);
  }
  const json::value* delta = Find(*choice, "delta");
  if (!delta || !delta->is_object()) return std::string();
  const json::value* tool_calls = Find(delta->get_object(), "tool_calls");
  if (tool_calls && tool_calls->is_array()) {
    for (const json::value& call : tool_calls->get_array()) AddToolCallDelta(call);
  }
  std::string content(StringOr(delta->get_object(), "content"));
  response_.content += content;
  return content;
}

void ChunkAssembler::AddToolCallDelta(const json::value& delta) {
  if (!delta.is_object()) return;
  const auto& object = delta.get_object();
  std::string_view id = StringOr(object, "id");
  // `index` is required by the API; servers that omit it start a new call
  // whenever a new id appears and continue the last call otherwise.
  std::int64_t index;
  if (const json::value* v = Find(object, "index"); v && v->is_number()) {
    index = IntOr(object, "index");
  } else if (last_index_ < 0 || (!id.empty() && tool_calls_[last_index_].id != id)) {
    index = last_index_ + 1;
  } else {
    index = last_index_;
  }
  last_index_ = index;
  LlmToolCall& call = tool_calls_[index];
  if (!id.empty()) call.id = std::string(id);
  const json::value* function = Find(object, "function");
  if (!function || !function->is_object()) return;
  const auto& f = function->get_object();
  // The name comes whole in the first piece; a server that repeats it in
  // later pieces must not double it.
  if (std::string_view name = StringOr(f, "name"); !name.empty() && call.name != name) {
    call.name += name;
  }
  call.arguments += StringOr(f, "arguments");
}

LlmResponse ChunkAssembler::Take() {
  LlmResponse out = std::move(response_);
  out.tool_calls.clear();
  for (auto& [index, call] : tool_calls_) out.tool_calls.push_back(std::move(call));
  response_ = {};
  tool_calls_.clear();
  last_index_ = -1;
  return out;
}

Result<LlmResponse> ParseChatCompletion(const json::value& completion) {
  if (auto message = ServerErrorMessage(completion)) return ServerError(*message);
  if (!completion.is_object()) return Error::Internal("model server answer is not an object");
  const json::object* choice = FirstChoice(completion.get_object());
  if (!choice) return Error::Internal("model server answer has no choices");
  LlmResponse response;
  ReadUsage(completion.get_object(), response.usage);
  response.finish_reason = std::string(StringOr(*choice, "finish_reason"));
  const json::value* message = Find(*choice, "message");
  if (!message || !message->is_object()) return response;
  response.content = std::string(StringOr(message->get_object(), "content"));
  const json::value* calls = Find(message->get_object(), "tool_calls");
  if (!calls || !calls->is_array()) return response;
  for (const json::value& call : calls->get_array()) {
    if (!call.is_object()) continue;
    LlmToolCall out;
    out.id = std::string(StringOr(call.get_object(), "id"));
    if (const json::value* f = Find(call.get_object(), "function"); f && f->is_object()) {
      out.name = std::string(StringOr(f->get_object(), "name"));
      const json::value* arguments = Find(f->get_object(), "arguments");
      // Arguments are a JSON string by the API; a few servers send the object.
      if (arguments && arguments->is_string()) {
        out.arguments = std::string(arguments->get_string());
      } else if (arguments && !arguments->is_null()) {
        out.arguments = json::serialize(*arguments);
      }
    }
    response.tool_calls.push_back(std::move(out));
  }
  return response;
}

}  // namespace baton
