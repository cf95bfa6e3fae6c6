// Every operation ends with exactly one terminal event of its own run. When
// an executor finishes without naming one, the worker supplies it here.
#pragma once

#include <optional>

#include "core/event.hpp"
#include "core/operation.hpp"
#include "core/run.hpp"

namespace baton {

// The terminal event a run finishing with `status` gets by default.
NewEvent DefaultTerminalEvent(RunStatus status, OperationType op,
                              const std::optional<RunError>& error);

}  // namespace baton
