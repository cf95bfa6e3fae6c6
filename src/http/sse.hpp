// Server-Sent Events framing (the wire format of system.md §4), as pure
// functions: no I/O, no state.
//
// One event:   "id: <seq>\n" "data: <json>\n" "\n"
// Keep-alive:  ": keepalive\n" "\n"
// No "event:" line, so a browser's EventSource.onmessage sees every event.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace baton::http {

// Frames one event. `data` is normally single-line JSON (a serializer escapes
// newlines inside strings). Should it contain raw line breaks (LF, CR or CRLF),
// each line gets its own "data: " field, which an SSE client joins back with
// LF, so the framing can never be broken by the payload.
std::string FormatSseEvent(std::int64_t id, std::string_view data);

// Frames a comment, e.g. FormatSseComment("keepalive") == ": keepalive\n\n".
// Clients ignore comments; they keep proxies and the connection alive.
std::string FormatSseComment(std::string_view text);

// Parses a Last-Event-ID header (or an ?after= value): a non-negative decimal
// integer that fits int64, nothing else (no sign, no spaces). kInvalidInput
// otherwise.
Result<std::int64_t> ParseLastEventId(std::string_view text);

}  // namespace baton::http
