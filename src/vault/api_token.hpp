// API bearer tokens: issued once by `baton admin token create`, stored only
// as a hash. A token is "bt_" + 43 characters of URL-safe base64 (256 random
// bits); its hash is BLAKE2b-256 in hex. Tokens are random, so a fast hash
// is enough: there is nothing to brute-force from the hash.
#pragma once

#include <string>
#include <string_view>

namespace baton {

// A new random token. Thread-safe.
std::string NewApiToken();

// The stored form of `token`.
std::string HashApiToken(std::string_view token);

}  // namespace baton
