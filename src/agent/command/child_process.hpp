// ChildProcess: a program started in its own process group with its stdin,
// stdout and stderr connected to pipes, waited for without blocking the
// io_context.
//
// Signalling is by process group and stays safe against pid reuse: the
// leader's exit is observed without reaping it (pidfd readiness or
// waitid(WNOWAIT)), so while the leader is an unreaped zombie its pid — which
// is also the group id — cannot be handed to another process. Reap() ends
// that; SignalGroup() is a no-op afterwards.
//
// Thread safety: none; use one object from one strand. Ownership: the pipes
// and the pidfd belong to this object. The destructor of a child that was
// not reaped SIGKILLs its group and reaps it (blocking, but SIGKILL makes that
// brief); the normal paths reap asynchronously before that.
#pragma once

#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace baton {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the program's path (no PATH search)
  std::filesystem::path cwd;
  // Set in (or overriding) the parent's environment.
  std::map<std::string, std::string> env;
  // Names of the parent's variables the child must not see.
  std::function<bool(std::string_view name)> drop_env;
  // Watch for exit with a pidfd when the kernel has one; false forces
  // waitid() polling (what happens anyway on kernels before 5.3). For tests.
  bool use_pidfd = true;
};

class ChildProcess {
 public:
  // Starts the program via posix_spawn: new process group (setpgid(0, 0)),
  // cwd, all signals at their default disposition and unblocked, every fd
  // above 2 closed. Fails with kUnavailable (system error text) when the
  // pipes or the process cannot be made, e.g. cwd does not exist.
  static Result<std::unique_ptr<ChildProcess>> Spawn(boost::asio::any_io_executor executor,
                                                     const SpawnOptions& options);

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool uses_pidfd() const { return pidfd_ >= 0; }

  // The parent's ends of the pipes.
  boost::asio::posix::stream_descriptor& stdin_pipe() { return stdin_; }
  boost::asio::posix::stream_descriptor& stdout_pipe() { return stdout_; }
  boost::asio::posix::stream_descriptor& stderr_pipe() { return stderr_; }

  // True once the leader has exited (it may still be unreaped).
  bool HasExited();

  // Completes when the leader has exited, without reaping it. Supports
  // cancellation (e.g. when raced against a timer with ||).
  boost::asio::awaitable<void> WaitExit();

  // Sends `signal` to every process in the group. No-op once reaped.
  void SignalGroup(int signal);

  // True while a process other than a zombie is in the group, the leader
  // included. The leader may have exited while the group lives on: `sh -c
  // CMD` does not always exec CMD, so the agent can be the shell's child.
  // Scans /proc (if there is none: true while the leader is unreaped).
  bool GroupHasLiveMembers() const;

  // Reaps the leader if it has exited and returns its wait status
  // (WIFEXITED, ...; kUnknownWaitStatus if it was reaped elsewhere); nullopt
  // while it is still running.
  std::optional<int> TryReap();
  bool reaped() const { return wait_status_.has_value(); }
  std::optional<int> wait_status() const { return wait_status_; }

 private:
  ChildProcess(boost::asio::any_io_executor executor, pid_t pid, int pidfd, int stdin_fd,
               int stdout_fd, int stderr_fd);

  boost::asio::any_io_executor executor_;
  pid_t pid_;
  int pidfd_;  // -1: poll with waitid
  boost::asio::posix::stream_descriptor stdin_;
  boost::asio::posix::stream_descriptor stdout_;
  boost::asio::posix::stream_descriptor stderr_;
  bool exited_ = false;
  std::optional<int> wait_status_;
};

// The wait status of a child that something else reaped first.
inline constexpr int kUnknownWaitStatus = -1;

// "exit status 3", "signal 9 (SIGKILL)": a wait status for messages and logs.
std::string DescribeWaitStatus(int wait_status);

}  // namespace baton
