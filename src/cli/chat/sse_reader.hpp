// Incremental Server-Sent Events parser for the client side: bytes go in as
// they arrive from the socket (split anywhere, even inside a line break),
// complete events come out. No I/O.
//
// Follows the SSE field rules a browser applies: lines end with LF, CR or
// CRLF; "field: value" (one optional space after the colon); several data
// fields join with LF; a line starting with ':' is a comment; a blank line
// dispatches the event; an event without data is dropped; unknown fields
// are ignored.
//
// Not thread-safe; one reader per stream.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace baton::cli::chat {

struct SseFrame {
  std::optional<std::string> id;  // the event's own "id:" field, if it had one
  std::string data;
};

class SseReader {
 public:
  // Parses `bytes`, queueing every event they complete.
  void Feed(std::string_view bytes);

  // The oldest complete event not taken yet.
  std::optional<SseFrame> Next();

  // Comment lines seen so far (": keepalive").
  std::size_t comments() const { return comments_; }

  // True while part of an event (or of a line) has been read but not yet
  // dispatched: a stream that ends now ended inside an event.
  bool mid_event() const { return !line_.empty() || has_data_ || pending_id_.has_value(); }

 private:
  void ProcessLine(std::string_view line);

  std::string line_;  // the current, unfinished line
  bool last_was_cr_ = false;
  std::optional<std::string> pending_id_;
  std::string pending_data_;
  bool has_data_ = false;
  std::deque<SseFrame> ready_;
  std::size_t comments_ = 0;
};

}  // namespace baton::cli::chat
