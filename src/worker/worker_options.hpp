// Configuration of a WorkerPool; every duration is a flag so tests can shorten it.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

namespace baton {

struct WorkerOptions {
  std::string worker_id;  // unique per process start (NewWorkerId())
  int slots = 4;          // runs executed at once
  std::chrono::milliseconds lease{120'000};
  std::chrono::milliseconds heartbeat{30'000};  // renew every heartbeat (default lease/4)
  std::chrono::milliseconds sweep{10'000};      // reaper interval
  std::chrono::milliseconds poll{500};          // idle claim poll when no wake-up arrives
  std::chrono::milliseconds drain{30'000};      // on SIGTERM: let running turns finish this long
  std::chrono::milliseconds chunk_flush{30};    // coalescing window for assistant_chunk events
  std::filesystem::path workspace_root = "./baton-data/workspaces";
};

}  // namespace baton
