// Identifiers for sessions, runs and workers: random UUIDv4 strings, the form
// the original system's clients already handle.
#pragma once

#include <string>
#include <string_view>

namespace baton {

// A random RFC 4122 version-4 UUID, lower-case with dashes. Thread-safe.
std::string NewId();

// True for the canonical 36-character lower- or upper-case UUID form.
// Routes reject anything else with 4xx before touching storage.
bool IsValidId(std::string_view id);

// "<hostname>-<pid>-<random>": unique per process start, readable in logs.
std::string NewWorkerId();

}  // namespace baton
