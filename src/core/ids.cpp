#include "core/ids.hpp"

#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <random>

namespace baton {
namespace {

std::uint64_t RandomWord() {
  // One generator per thread, seeded from the OS so forked processes differ.
  thread_local std::mt19937_64 gen([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), static_cast<unsigned>(getpid())};
    return std::mt19937_64(seq);
  }());
  return gen();
}

}  // namespace

std::string NewId() {
  std::uint64_t hi = RandomWord(), lo = RandomWord();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", unsigned(hi >> 32),
                unsigned((hi >> 16) & 0xffff), unsigned(hi & 0xffff), unsigned(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

bool IsValidId(std::string_view id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string NewWorkerId() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host = {'h', 'o', 's', 't'};
  char buf[320];
  std::snprintf(buf, sizeof buf, "%s-%d-%06x", host.data(), int(getpid()),
                unsigned(RandomWord() & 0xffffff));
  return buf;
}

}  // namespace baton
