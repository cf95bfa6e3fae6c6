// The environment of the processes tools start (shell commands, jobs): the
// worker's own, minus what would hand the server's secrets to the model's
// commands — its configuration (BATON_*, which includes the database URL and
// the model key) and the well-known credential variables.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace baton {

bool IsServerSecretVariable(std::string_view name);

// The current environment without the server's secrets, as NAME=VALUE.
std::vector<std::string> ToolEnvironment();

}  // namespace baton
