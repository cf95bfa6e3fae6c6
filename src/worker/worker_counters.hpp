// Counters a WorkerPool keeps for /metrics. Thread-safe (atomics).
#pragma once

#include <atomic>

#include "metrics/histogram.hpp"

namespace baton {

struct WorkerCounters {
  std::atomic<long> claimed{0};
  std::atomic<long> completed{0};
  std::atomic<long> failed{0};
  std::atomic<long> cancelled{0};
  std::atomic<long> interrupted{0};
  std::atomic<long> waiting_approval{0};
  std::atomic<long> lease_lost{0};
  std::atomic<long> lease_renewals{0};
  std::atomic<long> reaped_requeued{0};
  std::atomic<long> reaped_failed{0};
  std::atomic<long> reaped_interrupted{0};
  std::atomic<long> reaped_cancelled{0};
  std::atomic<long> active{0};
  std::atomic<long> events_appended{0};
  // Claim to finish, seconds.
  Histogram run_duration{{0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600}};
};

}  // namespace baton
