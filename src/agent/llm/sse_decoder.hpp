// SseDecoder: turns a text/event-stream byte stream, fed in arbitrary pieces,
// into the `data` payloads of its events (the client side of the SSE wire
// format; Chat Completions streams one JSON chunk or `[DONE]` per event).
//
// Follows the SSE parsing rules: lines end in LF, CR or CRLF (a CRLF split
// across two pieces counts once); an empty line ends an event; several `data`
// lines of one event are joined with LF; comments (`:` lines) and other fields
// (`event`, `id`, `retry`) are ignored; one space after the colon is dropped.
//
// Thread safety: none; one decoder per response stream.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace baton {

class SseDecoder {
 public:
  // A line longer than `max_line_bytes` fails the stream (kInvalidInput)
  // instead of growing the buffer without bound.
  explicit SseDecoder(std::size_t max_line_bytes = 16 * 1024 * 1024)
      : max_line_bytes_(max_line_bytes) {}

  // Consumes `bytes`; appends to `events` the data of every event they complete.
  Status Feed(std::string_view bytes, std::vector<std::string>& events);

  // At the end of the stream: a last event that lacks its terminating empty
  // line still counts (some servers end with "data: [DONE]\n" and close).
  void Finish(std::vector<std::string>& events);

 private:
  void OnLine(std::string_view line, std::vector<std::string>& events);

  std::size_t max_line_bytes_;
  std::string line_;       // the unterminated line so far
  std::string data_;       // data lines of the event being built, LF-joined
  bool has_data_ = false;  // a data line was seen (it may have been empty)
  bool skip_lf_ = false;   // the last piece ended in CR: a leading LF ends nothing
};

}  // namespace baton
