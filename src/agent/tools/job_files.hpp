// Background jobs as files in the workspace: everything known about a job
// lives under `<workspace>/.baton/jobs/<job_id>/`, so any worker process that
// mounts the same workspace can inspect it later, and nothing is lost when
// the worker that started it dies.
//
//   job.json    {job_id, command, pid, host, started_at, run_id, session_id};
//               written before the process starts (pid null) and again with
//               its pid right after, before job_start returns.
//   output.log  the job's stdout and stderr, appended.
//   exit_code   written (atomically) by the job itself when its command ends.
//   cancelled   written by job_cancel before it signals the job.
//
// The job process is detached: double-forked (reparented to init at once,
// never a zombie of the worker), leader of its own session and process group,
// stdin /dev/null, cwd the workspace. Its command line carries a marker with
// the job id, so a pid is only trusted — for status or for a signal — while it
// still names that job (pids get reused).
//
// Thread safety: free functions without shared state; the file system is the
// only synchronisation (atomic renames).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace baton {

struct JobRecord {
  std::string job_id;
  std::string command;
  std::optional<pid_t> pid;  // nullopt: the starter stopped before it learnt the pid
  std::string host;
  std::string started_at;  // RFC 3339
  std::string run_id;
  std::string session_id;
};

enum class JobPhase { kRunning, kExited, kCancelled, kUnknown };

struct JobState {
  JobPhase phase = JobPhase::kUnknown;
  std::optional<int> exit_code;  // kExited (and kCancelled if the command reported one)
  std::string summary;           // one line for the model: "running (pid 12 on host h)"
};

// This machine's host name, as job records store it.
std::string LocalHostName();

// `<workspace>/.baton/jobs`.
std::filesystem::path JobsDirectory(const std::filesystem::path& workspace);
// The directory of one job; refuses ids that are not [A-Za-z0-9_-]{1,64}.
Result<std::filesystem::path> JobDirectory(const std::filesystem::path& workspace,
                                           std::string_view job_id);

// Starts `command` as a detached job and returns its record once it is on
// disk with the pid.
Result<JobRecord> JobStart(const std::filesystem::path& workspace, std::string_view command,
                           std::string_view run_id, std::string_view session_id);

// kNotFound when there is no such job.
Result<JobRecord> JobRead(const std::filesystem::path& workspace, std::string_view job_id);
// Every readable job record, oldest first.
std::vector<JobRecord> JobList(const std::filesystem::path& workspace);

JobState JobInspect(const std::filesystem::path& workspace, const JobRecord& record);

// True while the job's leader process lives on this host (not a zombie) and
// still carries the job's marker.
bool JobLeaderAlive(const JobRecord& record);
// True while any process of the job's process group (not a zombie) lives on
// this host.
bool JobGroupAlive(const JobRecord& record);

// Records the cancellation (the `cancelled` file). Signalling is the caller's.
Status JobMarkCancelled(const std::filesystem::path& workspace, const JobRecord& record);

}  // namespace baton
