// The session title the model writes after the first turn (and for the
// compatibility route POST /api/title): the request and the clean-up of its
// answer, shared so both paths title sessions the same way.
#pragma once

#include <string>

#include "agent/llm/llm_client.hpp"

namespace baton {

// A short completion asking `model` to title a conversation that starts with
// `first_user_text` (cut to a couple of thousand bytes).
LlmRequest TitleRequest(const std::string& model, std::string first_user_text);

// One line, no quotes or Markdown marks, no final period, at most 80 bytes
// (never cutting a UTF-8 sequence). Empty if nothing usable remains.
std::string CleanTitle(std::string text);

}  // namespace baton
