#include "agent/command/child_process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fstream>

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace baton {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

std::string SystemError(std::string_view what, int err) {
  return std::string(what) + ": " + strerrordesc_np(err);
}

// Closes the fds it holds unless released; keeps Spawn's error paths leak-free.
class FdCloser {
 public:
  FdCloser() = default;
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() {
    for (int fd : fds_)
      if (fd >= 0) ::close(fd);
  }
  void Add(int fd) { fds_.push_back(fd); }
  // Closes `fd` now (the child's ends, once the child has them).
  void CloseNow(int fd) {
    auto it = std::find(fds_.begin(), fds_.end(), fd);
    if (it == fds_.end()) return;
    ::close(fd);
    *it = -1;
  }
  void Release(int fd) {
    auto it = std::find(fds_.begin(), fds_.end(), fd);
    if (it != fds_.end()) *it = -1;
  }

 private:
  std::vector<int> fds_;
};

struct SpawnAttributes {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnAttributes() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnAttributes() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
};

std::vector<std::string> BuildEnvironment(const std::map<std::string, std::string>& overrides,
                                          const std::function<bool(std::string_view)>& drop) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    const auto eq = entry.find('=');
    const std::string name(entry.substr(0, eq));
    if (!overrides.contains(name) && !(drop && drop(name))) env.emplace_back(entry);
  }
  for (const auto& [name, value] : overrides) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int OpenPidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  // The pidfd comes with close-on-exec set.
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);
  return fd >= 0 ? static_cast<int>(fd) : -1;
#else
  (void)pid;
  return -1;
#endif
}

asio::awaitable<void> Sleep(asio::any_io_executor executor, std::chrono::milliseconds d) {
  asio::steady_timer timer(executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

// Deregisters a borrowed fd from the reactor without closing it.
struct ReleaseOnExit {
  asio::posix::stream_descriptor& descriptor;
  ~ReleaseOnExit() {
    if (descriptor.is_open()) (void)descriptor.release();
  }
};

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(asio::any_io_executor executor,
                                                          const SpawnOptions& options) {
  if (options.argv.empty()) return Error::Invalid("no program to start");
  FdCloser fds;
  // [0] read end, [1] write end. O_CLOEXEC so that processes spawned
  // concurrently elsewhere in this process never inherit them: a stray copy
  // of the stdin write end would keep the agent from ever seeing EOF.
  std::array<int, 2> in{-1, -1}, out{-1, -1}, err{-1, -1};
  for (auto* p : {&in, &out, &err}) {
    if (::pipe2(p->data(), O_CLOEXEC) != 0) return Error::Unavailable(SystemError("pipe2", errno));
    fds.Add((*p)[0]);
    fds.Add((*p)[1]);
  }

  SpawnAttributes sa;
  int rc = 0;
  // dup2 clears close-on-exec on the targets; closefrom then drops every other fd.
  rc = rc ? rc : posix_spawn_file_actions_adddup2(&sa.actions, in[0], STDIN_FILENO);
  rc = rc ? rc : posix_spawn_file_actions_adddup2(&sa.actions, out[1], STDOUT_FILENO);
  rc = rc ? rc : posix_spawn_file_actions_adddup2(&sa.actions, err[1], STDERR_FILENO);
  rc = rc ? rc : posix_spawn_file_actions_addchdir_np(&sa.actions, options.cwd.c_str());
  rc = rc ? rc : posix_spawn_file_actions_addclosefrom_np(&sa.actions, STDERR_FILENO + 1);
  // A server ignores SIGPIPE and may block signals in its threads; ignored
  // dispositions and the mask survive exec, so reset both for the child.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  rc = rc ? rc
          : posix_spawnattr_setflags(
                &sa.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  rc = rc ? rc : posix_spawnattr_setpgroup(&sa.attr, 0);
  rc = rc ? rc : posix_spawnattr_setsigmask(&sa.attr, &none);
  rc = rc ? rc : posix_spawnattr_setsigdefault(&sa.attr, &all);
  if (rc != 0) return Error::Internal(SystemError("posix_spawn attributes", rc));

  std::vector<std::string> argv_strings = options.argv;
  std::vector<std::string> env_strings = BuildEnvironment(options.env, options.drop_env);
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);

  pid_t pid = -1;
  rc = ::posix_spawn(&pid, argv[0], &sa.actions, &sa.attr, argv.data(), envp.data());
  if (rc != 0) {
    return Error::Unavailable(
        SystemError("cannot start " + options.argv[0] + " in " + options.cwd.string(), rc));
  }
  fds.CloseNow(in[0]);
  fds.CloseNow(out[1]);
  fds.CloseNow(err[1]);
  fds.Release(in[1]);
  fds.Release(out[0]);
  fds.Release(err[0]);
  const int pidfd = options.use_pidfd ? OpenPidfd(pid) : -1;
  return std::unique_ptr<ChildProcess>(
      new ChildProcess(std::move(executor), pid, pidfd, in[1], out[0], err[0]));
}

ChildProcess::ChildProcess(asio::any_io_executor executor, pid_t pid, int pidfd, int stdin_fd,
                           int stdout_fd, int stderr_fd)
    : executor_(executor),
      pid_(pid),
      pidfd_(pidfd),
      stdin_(executor, stdin_fd),
      stdout_(executor, stdout_fd),
      stderr_(executor, stderr_fd) {}

ChildProcess::~ChildProcess() {
  if (!reaped()) {
    // Only reached when the owner was torn down mid-run (io_context
    // destroyed, exception): SIGKILL cannot be ignored, so the wait is short.
    SignalGroup(SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (pidfd_ >= 0) ::close(pidfd_);
}

bool ChildProcess::HasExited() {
  if (exited_) return true;
  siginfo_t info{};
  // WNOWAIT: look, do not reap, so the pid (= the group id) stays reserved.
  const int r = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
  // ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN, a stray
  // waitpid(-1)); it is gone either way.
  if ((r == 0 && info.si_pid == pid_) || (r < 0 && errno == ECHILD)) exited_ = true;
  return exited_;
}

asio::awaitable<void> ChildProcess::WaitExit() {
  using namespace asio::experimental::awaitable_operators;
  auto poll = 1ms;
  while (!HasExited()) {
    if (pidfd_ >= 0) {
      // Registered with the reactor for this wait only. Asio registers fds
      // edge-triggered and does not retry a descriptor wait speculatively, so
      // an exit that fires while no wait is queued would be missed; a fresh
      // registration reports an already-readable pidfd, and the slow timer
      // re-checks with waitid in case the edge still slipped through.
      asio::posix::stream_descriptor watch(executor_, pidfd_);
      ReleaseOnExit release{watch};
      co_await (watch.async_wait(asio::posix::stream_descriptor::wait_read, asio::use_awaitable) ||
                Sleep(executor_, 100ms));
    } else {
      co_await Sleep(executor_, poll);
      poll = std::min<std::chrono::milliseconds>(poll * 2, 50ms);
    }
  }
}

void ChildProcess::SignalGroup(int signal) {
  if (reaped()) return;
  ::kill(-pid_, signal);
}

bool ChildProcess::GroupHasLiveMembers() const {
  if (reaped()) return false;
  if (::kill(-pid_, 0) != 0 && errno == ESRCH) return false;
  DIR* proc = ::opendir("/proc");
  if (!proc) return true;  // cannot tell: assume it lives (callers bound the wait)
  bool live = false;
  while (const dirent* entry = ::readdir(proc)) {
    const std::string_view name(entry->d_name);
    pid_t pid = 0;
    if (std::from_chars(name.data(), name.data() + name.size(), pid).ec != std::errc{}) continue;
    // /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and ')'.
    std::ifstream stat("/proc/" + std::string(name) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;  // exited meanwhile
    const auto paren = line.rfind(')');
    if (paren == std::string::npos) continue;
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (std::sscanf(line.c_str() + paren + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3) continue;
    if (pgrp == pid_ && state != 'Z' && state != 'X') {
      live = true;
      break;
    }
  }
  ::closedir(proc);
  return live;
}

std::optional<int> ChildProcess::TryReap() {
  if (wait_status_) return wait_status_;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    exited_ = true;
    wait_status_ = status;
  } else if (r < 0 && errno == ECHILD) {
    exited_ = true;
    wait_status_ = kUnknownWaitStatus;
  }
  return wait_status_;
}

std::string DescribeWaitStatus(int wait_status) {
  if (wait_status == kUnknownWaitStatus) return "unknown exit status (reaped elsewhere)";
  if (WIFEXITED(wait_status)) return "exit status " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    const char* name = sigabbrev_np(sig);
    return "signal " + std::to_string(sig) + (name ? " (SIG" + std::string(name) + ")" : "");
  }
  return "wait status " + std::to_string(wait_status);
}

}  // namespace baton
