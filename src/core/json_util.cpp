#include "core/json_util.hpp"

#include <string>

namespace baton::json {
namespace {

Error Missing(std::string_view key, std::string_view type) {
  return Error::Invalid("field '" + std::string(key) + "' must be " + std::string(type));
}

}  // namespace

Result<std::string> GetString(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return Missing(key, "a string");
  return std::string(v->get_string());
}

Result<std::int64_t> GetInt(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v && v->is_int64()) return v->get_int64();
  if (v && v->is_uint64() && v->get_uint64() <= INT64_MAX)
    return static_cast<std::int64_t>(v->get_uint64());
  return Missing(key, "an integer");
}

Result<bool> GetBool(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_bool()) return Missing(key, "a boolean");
  return v->get_bool();
}

Result<std::optional<std::string>> GetOptString(const boost::json::object& o,
                                                std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<std::string>{};
  if (!v->is_string()) return Missing(key, "a string or null");
  return std::optional<std::string>(std::string(v->get_string()));
}

Result<boost::json::object> GetObject(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_object()) return Missing(key, "an object");
  return v->get_object();
}

Result<boost::json::array> GetArray(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_array()) return Missing(key, "an array");
  return v->get_array();
}

Result<Timestamp> ParseTimestamp(std::string_view s) {
  // Exactly the form FormatTimestamp writes, "YYYY-MM-DDTHH:MM:SS.mmmZ", checked
  // character by character: sscanf would accept signs, spaces and short fields.
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddZ";
  const auto malformed = [&] {
    return Error::Invalid("timestamp must look like 2026-01-01T00:00:00.000Z: " + std::string(s));
  };
  if (s.size() != kShape.size()) return malformed();
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool ok = kShape[i] == 'd' ? (s[i] >= '0' && s[i] <= '9') : s[i] == kShape[i];
    if (!ok) return malformed();
  }
  const auto num = [&](std::size_t pos, std::size_t len) {
    int n = 0;
    for (std::size_t i = pos; i < pos + len; ++i) n = n * 10 + (s[i] - '0');
    return n;
  };
  const int y = num(0, 4), mo = num(5, 2), d = num(8, 2);
  const int h = num(11, 2), mi = num(14, 2), sec = num(17, 2), ms = num(20, 3);
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(unsigned(mo)),
                                        std::chrono::day(unsigned(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) {
    return Error::Invalid("invalid date or time in timestamp: " + std::string(s));
  }
  const auto days = std::chrono::sys_days(ymd);
  return Timestamp(std::chrono::duration_cast<Millis>(days.time_since_epoch()) +
                   std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(sec) +
                   Millis(ms));
}

Result<Timestamp> GetTimestamp(const boost::json::object& o, std::string_view key) {
  auto s = GetString(o, key);
  if (!s) return s.error();
  return ParseTimestamp(*s);
}

Result<std::optional<Timestamp>> GetOptTimestamp(const boost::json::object& o,
                                                 std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<Timestamp>{};
  if (!v->is_string()) return Missing(key, "a timestamp string or null");
  auto t = ParseTimestamp(v->get_string());
  if (!t) return t.error();
  return std::optional<Timestamp>(*t);
}

boost::json::value OptTimestamp(const std::optional<Timestamp>& t) {
  if (!t) return nullptr;
  return boost::json::value(FormatTimestamp(*t));
}

boost::json::value OptString(const std::optional<std::string>& s) {
  if (!s) return nullptr;
  return boost::json::value(*s);
}

Result<boost::json::value> Parse(std::string_view text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec) return Error::Invalid("malformed JSON: " + ec.message());
  return v;
}

}  // namespace baton::json
