#include "http/method.hpp"

#include "core/enum_names.hpp"

namespace baton::http {
namespace {

constexpr EnumNames<Method, 8> kMethodNames{{{
    {Method::kGet, "GET"},
    {Method::kHead, "HEAD"},
    {Method::kPost, "POST"},
    {Method::kPut, "PUT"},
    {Method::kPatch, "PATCH"},
    {Method::kDelete, "DELETE"},
    {Method::kOptions, "OPTIONS"},
    {Method::kOther, "OTHER"},
}}};

}  // namespace

std::string_view ToString(Method method) {
  return kMethodNames.Name(method);
}

std::optional<Method> ParseMethod(std::string_view token) {
  std::optional<Method> method = kMethodNames.Parse(token);
  if (method == Method::kOther) return std::nullopt;  // "OTHER" is not a real method
  return method;
}

}  // namespace baton::http
