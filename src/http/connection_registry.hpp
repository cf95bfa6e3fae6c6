// ConnectionRegistry: the set of live connections of one HttpServer, so that
// Stop() can reach each of them. Shared (shared_ptr) between the server and
// its connections, because a connection may outlive a server that was
// destroyed without Stop().
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace baton::http {

class Connection;

class ConnectionRegistry {
 public:
  void Add(std::uint64_t id, std::weak_ptr<Connection> connection);
  void Remove(std::uint64_t id);
  std::vector<std::shared_ptr<Connection>> Snapshot() const;
  std::size_t size() const;

  // Set once by Stop(); a connection checks it before reading each request.
  void MarkStopping() { stopping_.store(true); }
  bool stopping() const { return stopping_.load(); }

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections_;  // guarded by mu_
  std::atomic<bool> stopping_{false};
};

}  // namespace baton::http
