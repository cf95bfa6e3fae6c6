#include "agent/tools/tool_arguments.hpp"

#include <cmath>

namespace baton {
namespace {

std::string_view KindName(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      return "a number";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
  }
  return "an unknown value";
}

const boost::json::value* Present(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

}  // namespace

Result<std::string> RequiredString(const boost::json::object& arguments, std::string_view key) {
  const auto* v = Present(arguments, key);
  if (!v) return Error::Invalid("missing required argument '" + std::string(key) + "' (a string)");
  if (!v->is_string()) {
    return Error::Invalid("argument '" + std::string(key) + "' must be a string, not " +
                          std::string(KindName(*v)));
  }
  return std::string(v->get_string());
}

Result<std::optional<std::string>> OptionalString(const boost::json::object& arguments,
                                                  std::string_view key) {
  if (!Present(arguments, key)) return std::optional<std::string>();
  auto s = RequiredString(arguments, key);
  if (!s) return s.error();
  return std::optional<std::string>(std::move(*s));
}

Result<std::optional<std::int64_t>> OptionalInt(const boost::json::object& arguments,
                                                std::string_view key, std::int64_t min,
                                                std::int64_t max) {
  const auto* v = Present(arguments, key);
  if (!v) return std::optional<std::int64_t>();
  const std::string name(key);
  const std::string range = " between " + std::to_string(min) + " and " + std::to_string(max);
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64()) {
    if (v->get_uint64() > static_cast<std::uint64_t>(max)) {
      return Error::Invalid("argument '" + name + "' must be" + range);
    }
    n = static_cast<std::int64_t>(v->get_uint64());
  } else if (v->is_double()) {
    const double d = v->get_double();
    if (!std::isfinite(d) || d != std::floor(d)) {
      return Error::Invalid("argument '" + name + "' must be a whole number");
    }
    if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
      return Error::Invalid("argument '" + name + "' must be" + range);
    }
    n = static_cast<std::int64_t>(d);
  } else {
    return Error::Invalid("argument '" + name + "' must be an integer, not " +
                          std::string(KindName(*v)));
  }
  if (n < min || n > max) return Error::Invalid("argument '" + name + "' must be" + range);
  return std::optional<std::int64_t>(n);
}

ToolResult Failure(const Error& error) {
  return ToolResult{error.message, false};
}

ToolResult Failure(std::string message) {
  return ToolResult{std::move(message), false};
}

boost::json::object SchemaProperty(std::string_view type, std::string_view description) {
  boost::json::object property;
  property["type"] = type;
  property["description"] = description;
  return property;
}

boost::json::object ObjectSchema(boost::json::object properties,
                                 std::initializer_list<std::string_view> required) {
  boost::json::object schema{{"type", "object"}, {"properties", std::move(properties)}};
  if (required.size() > 0) {
    boost::json::array names;
    for (auto name : required) names.emplace_back(name);
    schema["required"] = std::move(names);
  }
  return schema;
}

}  // namespace baton
