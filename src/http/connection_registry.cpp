#include "http/connection_registry.hpp"

namespace baton::http {

void ConnectionRegistry::Add(std::uint64_t id, std::weak_ptr<Connection> connection) {
  std::lock_guard lock(mu_);
  connections_.emplace(id, std::move(connection));
}

void ConnectionRegistry::Remove(std::uint64_t id) {
  std::lock_guard lock(mu_);
  connections_.erase(id);
}

std::vector<std::shared_ptr<Connection>> ConnectionRegistry::Snapshot() const {
  std::vector<std::shared_ptr<Connection>> out;
  std::lock_guard lock(mu_);
  out.reserve(connections_.size());
  for (const auto& [id, weak] : connections_)
    if (auto connection = weak.lock()) out.push_back(std::move(connection));
  return out;
}

std::size_t ConnectionRegistry::size() const {
  std::lock_guard lock(mu_);
  return connections_.size();
}

}  // namespace baton::http
