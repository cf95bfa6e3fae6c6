#include "agent/tools/job_files.hpp"

#include "agent/tools/tool_environment.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "agent/tools/atomic_file.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"

namespace baton {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMarkerPrefix = "baton-job:";

// Run as `/bin/sh -c WRAPPER baton-job:<id> COMMAND JOB_DIR`. The TERM trap
// keeps the wrapper alive until the command has ended, so that a cancelled
// command still gets its exit code written; a trap handler (unlike an ignored
// signal) is not inherited by the command.
constexpr const char* kWrapper =
    "trap : TERM\n"
    "/bin/sh -c -- \"$1\"\n"
    "code=$?\n"
    "printf '%s\\n' \"$code\" > \"$2/exit_code.tmp\" &&\n"
    "  mv -f \"$2/exit_code.tmp\" \"$2/exit_code\" ||\n"
    "  printf '%s\\n' \"$code\" > \"$2/exit_code\"\n";

std::string SystemError(std::string_view what, int err) {
  return std::string(what) + ": " + strerrordesc_np(err);
}

std::optional<std::string> ReadSmallFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Marker(std::string_view job_id) {
  return std::string(kMarkerPrefix) + std::string(job_id);
}

std::string NewJobId() {
  std::string id = NewId();
  std::erase(id, '-');
  return "job-" + id.substr(0, 12);
}

boost::json::object ToJson(const JobRecord& r) {
  boost::json::object o;
  o["job_id"] = r.job_id;
  o["command"] = r.command;
  if (r.pid) {
    o["pid"] = *r.pid;
  } else {
    o["pid"] = nullptr;
  }
  o["host"] = r.host;
  o["started_at"] = r.started_at;
  o["run_id"] = r.run_id;
  o["session_id"] = r.session_id;
  return o;
}

Result<JobRecord> FromJson(std::string_view text) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) return Error::Internal("job.json is not a JSON object");
  const auto& o = value.get_object();
  JobRecord r;
  auto str = [&o](std::string_view key) -> std::string {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  r.job_id = str("job_id");
  r.command = str("command");
  r.host = str("host");
  r.started_at = str("started_at");
  r.run_id = str("run_id");
  r.session_id = str("session_id");
  if (const auto* pid = o.if_contains("pid");
      pid && pid->is_int64() && pid->get_int64() > 0 && pid->get_int64() <= INT_MAX) {
    r.pid = static_cast<pid_t>(pid->get_int64());
  }
  if (r.job_id.empty()) return Error::Internal("job.json has no job_id");
  return r;
}

Status WriteRecord(const fs::path& dir, const JobRecord& record) {
  return WriteFileAtomically(dir / "job.json", boost::json::serialize(ToJson(record)));
}

// "S", "Z", ...: the state letter of /proc/PID/stat, and its process group.
bool ReadStat(pid_t pid, char& state, long& pgrp) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto paren = line.rfind(')');  // comm may hold spaces and ')'
  if (paren == std::string::npos) return false;
  long ppid = 0;
  return std::sscanf(line.c_str() + paren + 1, " %c %ld %ld", &state, &ppid, &pgrp) == 3;
}

bool IsLive(char state) {
  return state != 'Z' && state != 'X';
}

// What the double-forked job process does before exec; async-signal-safe
// calls only (the worker is multi-threaded). Never returns.
// `exec_fd` (close-on-exec) stays open until execve, so that the starter can
// wait until the job's command line carries its marker.
[[noreturn]] void ExecJob(const char* workspace, const char* log_path, const char* exit_code_path,
                          char* const* argv, char* const* envp, int exec_fd) {
  ::setsid();  // own session and process group: no signal aimed at the worker reaches it
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
  const int in = ::open("/dev/null", O_RDONLY);
  const int log = ::open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  bool ok = in >= 0 && log >= 0 && ::dup2(in, STDIN_FILENO) >= 0 &&
            ::dup2(log, STDOUT_FILENO) >= 0 && ::dup2(log, STDERR_FILENO) >= 0 &&
            ::chdir(workspace) == 0;
  if (ok) {
    for (int fd = 3; fd < exec_fd; ++fd) ::close(fd);
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, static_cast<unsigned>(exec_fd) + 1, ~0U, 0U) != 0)
#endif
      for (int fd = exec_fd + 1; fd < 4096; ++fd) ::close(fd);
    ::execve("/bin/sh", argv, envp);
  }
  // Could not start: leave the exit code a shell gives for "cannot execute".
  const int fd = ::open(exit_code_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    (void)!::write(fd, "127\n", 4);
    ::close(fd);
  }
  ::_exit(127);
}

// Double fork: the middle process exits at once, so the job is reparented to
// init and the worker never has to reap it. Returns the job's pid.
Result<pid_t> SpawnDetached(const fs::path& workspace, const fs::path& dir, std::string_view job_id,
                            std::string_view command) {
  // Everything the children need is prepared here: after fork only
  // async-signal-safe calls are allowed.
  const std::string workspace_s = workspace.string();
  const std::string log_s = (dir / "output.log").string();
  const std::string exit_code_s = (dir / "exit_code").string();
  std::vector<std::string> args = {
      "/bin/sh", "-c", kWrapper, Marker(job_id), std::string(command), dir.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = ToolEnvironment();
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return Error::Unavailable(SystemError("pipe2", errno));
  const pid_t middle = ::fork();
  if (middle < 0) {
    const int err = errno;
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return Error::Unavailable(SystemError("fork", err));
  }
  if (middle == 0) {
    ::close(pipe_fds[0]);
    const pid_t job = ::fork();
    if (job == 0) {
      ExecJob(workspace_s.c_str(), log_s.c_str(), exit_code_s.c_str(), argv.data(), envp.data(),
              pipe_fds[1]);
    }
    const int report[2] = {job, job < 0 ? errno : 0};
    (void)!::write(pipe_fds[1], report, sizeof report);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  int report[2] = {-1, EIO};
  ssize_t n;
  do {
    n = ::read(pipe_fds[0], report, sizeof report);
  } while (n < 0 && errno == EINTR);
  // EOF once the middle process has exited and the job has exec'd (or died).
  while (n == sizeof report) {
    char rest;
    if (::read(pipe_fds[0], &rest, 1) < 0 && errno == EINTR) continue;
    break;
  }
  ::close(pipe_fds[0]);
  while (::waitpid(middle, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (n != sizeof report || report[0] <= 0) {
    return Error::Unavailable(SystemError("cannot start the job process", report[1]));
  }
  return static_cast<pid_t>(report[0]);
}

}  // namespace

std::string LocalHostName() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

fs::path JobsDirectory(const fs::path& workspace) {
  return workspace / ".baton" / "jobs";
}

Result<fs::path> JobDirectory(const fs::path& workspace, std::string_view job_id) {
  const bool valid = !job_id.empty() && job_id.size() <= 64 &&
                     std::all_of(job_id.begin(), job_id.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '-' || c == '_';
                     });
  if (!valid) return Error::Invalid("'" + std::string(job_id) + "' is not a job id");
  return JobsDirectory(workspace) / std::string(job_id);
}

Result<JobRecord> JobStart(const fs::path& workspace, std::string_view command,
                           std::string_view run_id, std::string_view session_id) {
  JobRecord record;
  record.job_id = NewJobId();
  record.command = std::string(command);
  record.host = LocalHostName();
  record.started_at = FormatTimestamp(SystemClock::Instance().Now());
  record.run_id = std::string(run_id);
  record.session_id = std::string(session_id);
  const fs::path dir = JobsDirectory(workspace) / record.job_id;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error::Unavailable("cannot create " + dir.string() + ": " + ec.message());

  // On disk before the process exists: a job is never running unrecorded.
  BATON_RETURN_IF_ERROR(WriteRecord(dir, record));
  auto pid = SpawnDetached(workspace, dir, record.job_id, command);
  if (!pid) {
    fs::remove_all(dir, ec);
    return pid.error();
  }
  record.pid = *pid;
  if (auto written = WriteRecord(dir, record); !written) {
    // Unrecorded, it could never be cancelled: do not leave it running.
    ::kill(-*pid, SIGKILL);
    return written.error();
  }
  return record;
}

Result<JobRecord> JobRead(const fs::path& workspace, std::string_view job_id) {
  fs::path dir;
  BATON_ASSIGN_OR_RETURN(dir, JobDirectory(workspace, job_id));
  const auto text = ReadSmallFile(dir / "job.json");
  if (!text) return Error::NotFound("no job with id " + std::string(job_id));
  auto record = FromJson(*text);
  if (!record) return Error::Internal("job " + std::string(job_id) + ": " + record.error().message);
  return record;
}

std::vector<JobRecord> JobList(const fs::path& workspace) {
  std::vector<JobRecord> jobs;
  std::error_code ec;
  for (fs::directory_iterator it(JobsDirectory(workspace), ec), end; !ec && it != end;
       it.increment(ec)) {
    auto record = JobRead(workspace, it->path().filename().string());
    if (record) jobs.push_back(std::move(*record));
  }
  std::sort(jobs.begin(), jobs.end(), [](const JobRecord& a, const JobRecord& b) {
    return a.started_at != b.started_at ? a.started_at < b.started_at : a.job_id < b.job_id;
  });
  return jobs;
}

bool JobLeaderAlive(const JobRecord& record) {
  if (!record.pid || record.host != LocalHostName()) return false;
  char state = 0;
  long pgrp = 0;
  if (!ReadStat(*record.pid, state, pgrp) || !IsLive(state) || pgrp != *record.pid) return false;
  // The marker is an argument of its own in the NUL-separated command line.
  const auto cmdline = ReadSmallFile("/proc/" + std::to_string(*record.pid) + "/cmdline");
  if (!cmdline) return false;
  std::string needle = Marker(record.job_id);
  needle.insert(needle.begin(), '\0');
  needle.push_back('\0');
  return cmdline->find(needle) != std::string::npos;
}

bool JobGroupAlive(const JobRecord& record) {
  if (!record.pid || record.host != LocalHostName()) return false;
  DIR* proc = ::opendir("/proc");
  if (!proc) return ::kill(-*record.pid, 0) == 0;
  bool live = false;
  while (const dirent* entry = ::readdir(proc)) {
    const std::string_view name(entry->d_name);
    pid_t pid = 0;
    if (std::from_chars(name.data(), name.data() + name.size(), pid).ec != std::errc{}) continue;
    char state = 0;
    long pgrp = 0;
    if (ReadStat(pid, state, pgrp) && pgrp == *record.pid && IsLive(state)) {
      live = true;
      break;
    }
  }
  ::closedir(proc);
  return live;
}

JobState JobInspect(const fs::path& workspace, const JobRecord& record) {
  JobState state;
  const fs::path dir = JobsDirectory(workspace) / record.job_id;
  const bool cancelled = fs::exists(dir / "cancelled");
  if (const auto text = ReadSmallFile(dir / "exit_code")) {
    int code = 0;
    const auto begin = text->data(), end = text->data() + text->size();
    if (std::from_chars(begin, end, code).ec == std::errc{}) state.exit_code = code;
  }
  const std::string where =
      (record.pid ? "pid " + std::to_string(*record.pid) : "no pid") + " on host " + record.host;
  if (state.exit_code) {
    state.phase = cancelled ? JobPhase::kCancelled : JobPhase::kExited;
    state.summary = (cancelled ? "cancelled; its command exited with code " : "exited with code ") +
                    std::to_string(*state.exit_code);
    if (!cancelled && *state.exit_code > 128) {
      state.summary += " (killed by signal " + std::to_string(*state.exit_code - 128) + ")";
    }
    return state;
  }
  if (record.host != LocalHostName()) {
    state.summary = "unknown: started on host " + record.host + " (this is " + LocalHostName() +
                    "), where it may still be running; no exit code recorded yet";
    if (cancelled) state.summary += "; a cancellation was recorded";
    return state;
  }
  if (JobLeaderAlive(record)) {
    state.phase = JobPhase::kRunning;
    state.summary = "running (" + where + ")";
    if (cancelled) state.summary += "; cancellation requested";
    return state;
  }
  if (cancelled) {
    state.phase = JobPhase::kCancelled;
    state.summary = "cancelled (killed before it could record an exit code)";
    return state;
  }
  state.summary = record.pid ? "unknown: its process (" + where +
                                   ") is gone but recorded no exit code (killed, or the machine "
                                   "restarted)"
                             : "unknown: the worker stopped before recording the job's pid";
  return state;
}

Status JobMarkCancelled(const fs::path& workspace, const JobRecord& record) {
  const std::string when = FormatTimestamp(SystemClock::Instance().Now()) + "\n";
  return WriteFileAtomically(JobsDirectory(workspace) / record.job_id / "cancelled", when);
}

}  // namespace baton
