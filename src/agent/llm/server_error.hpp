// The message a model server puts in an error answer. OpenAI-compatible
// servers use {"error": {"message": "..."}}; some send {"error": "..."} or
// {"detail": "..."} (FastAPI-based ones), and proxies answer plain text or HTML.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace baton {

// The error message of a parsed JSON answer; nullopt when it is not an error.
std::optional<std::string> ServerErrorMessage(const boost::json::value& answer);

// The error message of a raw error body: the JSON message when there is one,
// else the body's text, whitespace-trimmed and cut to a few hundred bytes.
// Never empty ("(empty body)").
std::string ServerErrorMessageFromBody(std::string_view body);

}  // namespace baton
