// Reaper: every sweep interval, moves runs whose lease expired (store's
// RunReapExpired: retry, fail, or interrupt). Runs in every baton process,
// API-only ones included; concurrent reapers are safe because every move is
// one conditional statement in the store.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "store/store.hpp"
#include "worker/worker_counters.hpp"

namespace baton {

struct ReaperHooks {
  std::function<void(const std::string& session_id)> on_events;  // live delivery
  std::function<void()> on_requeued;                             // wake idle worker slots
};

// Loops until `stopping` becomes true (checked after each sweep).
boost::asio::awaitable<void> ReaperLoop(Store& store, boost::asio::thread_pool& db,
                                        std::chrono::milliseconds sweep, WorkerCounters& counters,
                                        ReaperHooks hooks, const std::atomic<bool>& stopping);

}  // namespace baton
