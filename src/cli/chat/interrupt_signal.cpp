#include "cli/chat/interrupt_signal.hpp"

#include <signal.h>
#include <unistd.h>

namespace baton::cli::chat {
namespace {

volatile sig_atomic_t g_in_turn = 0;
volatile sig_atomic_t g_presses = 0;
volatile sig_atomic_t g_requested = 0;

void Write(const char* text, size_t n) {
  // Nothing useful to do if stderr is gone.
  [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, text, n);
}

void OnSigint(int) {
  if (!g_in_turn || g_presses > 0) {
    Write("\n", 1);
    ::_exit(130);
  }
  g_presses = 1;
  g_requested = 1;
}

}  // namespace

void InstallInterruptHandler() {
  struct sigaction sa {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking poll wakes up with EINTR
  ::sigaction(SIGINT, &sa, nullptr);
}

void SetInTurn(bool in_turn) {
  g_presses = 0;
  g_requested = 0;
  g_in_turn = in_turn ? 1 : 0;
}

bool TakeInterruptRequest() {
  if (!g_requested) return false;
  g_requested = 0;
  return true;
}

}  // namespace baton::cli::chat
