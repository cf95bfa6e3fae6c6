#include "cli/chat/turn_printer.hpp"

namespace baton::cli::chat {
namespace {

constexpr std::string_view kDim = "\x1b[2m";
constexpr std::string_view kRed = "\x1b[31m";
constexpr std::string_view kYellow = "\x1b[33m";
constexpr std::string_view kCyan = "\x1b[36m";
constexpr std::string_view kReset = "\x1b[0m";

// Tool output on one line each, indented under its call. A final newline
// ends the output, not an empty line of it.
std::string Indent(std::string_view text) {
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += "    ";
  }
  return out;
}

std::string NumberField(const boost::json::object& data, std::string_view key) {
  const auto* v = data.if_contains(key);
  if (!v) return "?";
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  if (v->is_double()) return std::to_string(static_cast<long long>(v->as_double()));
  return "?";
}

}  // namespace

std::string Truncate(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t cut = max;
  // Do not split a UTF-8 sequence: back up over continuation bytes.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "…";
}

std::string Abridge(std::string_view text, std::size_t head, std::size_t tail) {
  if (text.size() <= head + tail) return std::string(text);
  std::size_t from = text.size() - tail;
  // Start the tail on a character, not inside a UTF-8 sequence.
  while (from < text.size() && (static_cast<unsigned char>(text[from]) & 0xC0) == 0x80) ++from;
  std::string out = Truncate(text, head);  // longer than head: cut, with "…"
  out.append(text.substr(from));
  return out;
}

std::string FormatArguments(const boost::json::value* arguments) {
  if (!arguments || arguments->is_null()) return "";
  if (arguments->is_string()) return std::string(arguments->as_string());
  return boost::json::serialize(*arguments);
}

void TurnPrinter::EditedCall(std::string_view tool, const boost::json::value& arguments) {
  Line(kCyan, "⚙ " + std::string(tool) + "(" + Truncate(FormatArguments(&arguments), kMaxToolText) +
                  ") (edited)");
  out_.flush();
}

void TurnPrinter::EndLine() {
  if (mid_line_) out_ << '\n';
  mid_line_ = false;
  out_.flush();
}

void TurnPrinter::Text(std::string_view text) {
  if (text.empty()) return;
  out_ << text;
  mid_line_ = text.back() != '\n';
  said_anything_ = true;
}

void TurnPrinter::Line(std::string_view style, std::string_view text) {
  EndLine();
  if (styled_ && !style.empty()) {
    out_ << style << text << kReset << '\n';
  } else {
    out_ << text << '\n';
  }
}

void TurnPrinter::Print(const ChatEvent& e) {
  const auto& d = e.data;
  const std::string& t = e.type;
  if (t == "assistant_chunk") {
    Text(StringField(d, "content"));
    streamed_ = true;
  } else if (t == "assistant_stream_end") {
    EndLine();
  } else if (t == "assistant_message") {
    if (!streamed_) Text(StringField(d, "content"));
    streamed_ = false;
    EndLine();
  } else if (t == "tool_call") {
    streamed_ = false;
    Line(kCyan, "⚙ " + StringField(d, "tool") + "(" +
                    Truncate(FormatArguments(d.if_contains("arguments")), kMaxToolText) + ")");
  } else if (t == "tool_output") {
    const auto* ok = d.if_contains("success");
    const bool failed = ok && ok->is_bool() && !ok->as_bool();
    // Head and tail: a command's result (its exit status) comes last.
    const auto output =
        Abridge(StringField(d, "output"), kMaxToolText - kToolTextTail, kToolTextTail);
    Line(failed ? kRed : kDim, std::string(failed ? "  ✗ " : "  → ") + Indent(output));
  } else if (t == "tool_log") {
    Line(kDim, "  │ " + Indent(Truncate(StringField(d, "log"), kMaxToolText)));
  } else if (t == "tool_state_change") {
    // running/approved/completed are implied by the call and its output.
    const auto state = StringField(d, "state");
    if (state == "rejected" || state == "cancelled" || state == "abandoned" || state == "failed")
      Line(kYellow, "  " + StringField(d, "tool") + ": " + state);
  } else if (t == "plan_update") {
    const auto* plan = d.if_contains("plan");
    Line(kDim, "plan: " + Truncate(plan ? FormatArguments(plan) : "", kMaxToolText));
  } else if (t == "approval_required") {
    Line(kYellow, "approval required for " + NumberField(d, "count") + " tool call(s)");
  } else if (t == "turn_complete") {
    // An agent that answers without assistant events still shows its answer.
    if (!said_anything_) Text(StringField(d, "final_response"));
    EndLine();
  } else if (t == "error") {
    auto code = StringField(d, "code");
    Line(kRed, "error: " + StringField(d, "error") + (code.empty() ? "" : " (" + code + ")"));
  } else if (t == "interrupted") {
    Line(kYellow, "interrupted (" + StringField(d, "reason") + ")");
  } else if (t == "compacted") {
    Line(kDim, "compacted: " + NumberField(d, "old_tokens") + " -> " +
                   NumberField(d, "new_tokens") + " tokens");
  } else if (t == "undo_complete") {
    Line(kDim, "undone");
  } else if (t == "truncated") {
    Line(kDim, "truncated to " + NumberField(d, "history_size") + " messages");
  } else if (t == "shutdown") {
    Line(kDim, "session ended");
  }
  // processing and title carry nothing to show in a transcript.
  if (IsTerminalEvent(t)) {
    streamed_ = false;
    said_anything_ = false;
  }
  out_.flush();
}

}  // namespace baton::cli::chat
