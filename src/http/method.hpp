// HTTP request methods the router distinguishes. Kept free of Beast so that
// handler code does not pay for Beast's headers.
#pragma once

#include <optional>
#include <string_view>

namespace baton::http {

enum class Method {
  kGet,
  kHead,
  kPost,
  kPut,
  kPatch,
  kDelete,
  kOptions,
  kOther,  // any method not listed above (routes cannot be registered for it)
};

// "GET", "POST", ...; "OTHER" for kOther.
std::string_view ToString(Method method);

// Exact, case-sensitive token as on the request line ("GET"); nullopt otherwise.
std::optional<Method> ParseMethod(std::string_view token);

}  // namespace baton::http
