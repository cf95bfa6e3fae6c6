// A session's settings object: what a user may change about how the agent
// treats their session. Validated here so that a bad value is a 400 and the
// worker can trust what it reads.
#pragma once

#include <boost/json.hpp>

#include "core/result.hpp"

namespace baton {

// Accepts {auto_approve?: [tool name | "*", ...]}; anything else is refused.
Result<boost::json::object> ParseSessionSettings(const boost::json::value& value);

}  // namespace baton
