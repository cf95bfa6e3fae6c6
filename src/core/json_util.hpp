// Small helpers for reading typed fields out of Boost.JSON objects with a
// clear error naming the field, and for optional timestamps.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace baton::json {

Result<std::string> GetString(const boost::json::object& o, std::string_view key);
Result<std::int64_t> GetInt(const boost::json::object& o, std::string_view key);
Result<bool> GetBool(const boost::json::object& o, std::string_view key);
// Missing or null -> nullopt; present but wrong type -> error.
Result<std::optional<std::string>> GetOptString(const boost::json::object& o, std::string_view key);
Result<boost::json::object> GetObject(const boost::json::object& o, std::string_view key);
Result<boost::json::array> GetArray(const boost::json::object& o, std::string_view key);

// Timestamps travel as RFC 3339 strings (FormatTimestamp).
Result<Timestamp> ParseTimestamp(std::string_view s);
Result<Timestamp> GetTimestamp(const boost::json::object& o, std::string_view key);
Result<std::optional<Timestamp>> GetOptTimestamp(const boost::json::object& o,
                                                 std::string_view key);
boost::json::value OptTimestamp(const std::optional<Timestamp>& t);
boost::json::value OptString(const std::optional<std::string>& s);

// Parse text that must be a JSON value; a clear kInvalidInput error otherwise.
Result<boost::json::value> Parse(std::string_view text);

}  // namespace baton::json
