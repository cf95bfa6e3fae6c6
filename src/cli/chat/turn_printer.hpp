// Renders a turn's events as terminal text: assistant text as it streams,
// tool calls and their results, logs, errors, interruptions. ANSI styling
// only when asked (the caller checks for a tty).
//
// Keeps just enough state to lay text out: whether the cursor is inside a
// line, and whether the current assistant message was already streamed as
// chunks (then its assistant_message is not printed again).
//
// Not thread-safe; `out` must outlive the printer.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

#include "cli/chat/chat_event.hpp"

namespace baton::cli::chat {

class TurnPrinter {
 public:
  TurnPrinter(std::ostream& out, bool styled) : out_(out), styled_(styled) {}

  // Prints one event (flushing the stream, so text appears as it arrives).
  void Print(const ChatEvent& event);

  // Shows a call the user edited at the approval prompt: the agent's events
  // show only the arguments the model proposed.
  void EditedCall(std::string_view tool, const boost::json::value& arguments);

  // Ends a line the assistant left open (before a prompt, or at exit).
  void EndLine();

  // True while the assistant's current line is unfinished.
  bool mid_line() const { return mid_line_; }

  // Longest rendering of tool arguments and outputs before "…".
  static constexpr std::size_t kMaxToolText = 300;
  // Of that, how much of a long tool output's end is kept.
  static constexpr std::size_t kToolTextTail = 100;

 private:
  void Text(std::string_view text);
  void Line(std::string_view style, std::string_view text);

  std::ostream& out_;
  const bool styled_;
  bool mid_line_ = false;
  bool streamed_ = false;       // chunks of the current assistant message were printed
  bool said_anything_ = false;  // some assistant text of this run was printed
};

// `text` cut to `max` bytes (on a UTF-8 boundary) with "…" appended when cut.
std::string Truncate(std::string_view text, std::size_t max);

// `text` cut to its first `head` and last `tail` bytes joined by "…" when
// longer than both (UTF-8 kept whole).
std::string Abridge(std::string_view text, std::size_t head, std::size_t tail);

// Tool arguments as compact JSON (a JSON string is shown as its text).
std::string FormatArguments(const boost::json::value* arguments);

}  // namespace baton::cli::chat
