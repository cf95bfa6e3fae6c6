#include "core/operation.hpp"

#include "core/enum_names.hpp"

namespace baton {
namespace {

constexpr EnumNames<OperationType, 7> kOperationNames{{{
    {OperationType::kUserInput, "user_input"},
    {OperationType::kExecApproval, "exec_approval"},
    {OperationType::kInterrupt, "interrupt"},
    {OperationType::kCompact, "compact"},
    {OperationType::kUndo, "undo"},
    {OperationType::kTruncate, "truncate"},
    {OperationType::kShutdown, "shutdown"},
}}};

constexpr EnumNames<MultitaskStrategy, 3> kStrategyNames{{{
    {MultitaskStrategy::kReject, "reject"},
    {MultitaskStrategy::kEnqueue, "enqueue"},
    {MultitaskStrategy::kInterrupt, "interrupt"},
}}};

}  // namespace

std::string_view ToString(OperationType t) {
  return kOperationNames.Name(t);
}
std::optional<OperationType> ParseOperationType(std::string_view s) {
  return kOperationNames.Parse(s);
}
std::string_view ToString(MultitaskStrategy s) {
  return kStrategyNames.Name(s);
}
std::optional<MultitaskStrategy> ParseMultitaskStrategy(std::string_view s) {
  return kStrategyNames.Parse(s);
}

boost::json::object ToJson(const Operation& op) {
  return {{"type", ToString(op.type)}, {"payload", op.payload}};
}

Result<Operation> OperationFromJson(const boost::json::value& v) {
  const auto* obj = v.if_object();
  if (!obj) return Error::Invalid("operation must be a JSON object");
  const auto* type = obj->if_contains("type");
  if (!type || !type->is_string()) return Error::Invalid("operation.type must be a string");
  auto parsed = ParseOperationType(type->get_string());
  if (!parsed) return Error::Invalid("unknown operation type: " + std::string(type->get_string()));
  Operation op{*parsed, {}};
  if (const auto* payload = obj->if_contains("payload")) {
    if (!payload->is_object()) return Error::Invalid("operation.payload must be an object");
    op.payload = payload->get_object();
  }
  return op;
}

}  // namespace baton
