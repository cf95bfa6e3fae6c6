// One table per enum maps values to their stored and API string forms, so
// ToString and Parse can never disagree.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace baton {

template <typename E, std::size_t N>
struct EnumNames {
  std::array<std::pair<E, std::string_view>, N> items;

  constexpr std::string_view Name(E value) const {
    for (const auto& [v, name] : items)
      if (v == value) return name;
    return "unknown";
  }
  constexpr std::optional<E> Parse(std::string_view s) const {
    for (const auto& [v, name] : items)
      if (name == s) return v;
    return std::nullopt;
  }
};

}  // namespace baton
