// Small helpers for header names and values.
#pragma once

#include <string_view>

namespace baton::http {

// ASCII case-insensitive equality, as header field names compare.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// True if `name` is a valid header field name (an RFC 9110 token).
bool IsValidHeaderName(std::string_view name);

// True if `value` can be sent as a field value: no CR, LF or NUL, so a value
// that came from a client can never split a response.
bool IsValidHeaderValue(std::string_view value);

}  // namespace baton::http
