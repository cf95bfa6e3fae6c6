#include "core/state_machine.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "core/event.hpp"

namespace baton {
namespace {

constexpr std::array kAllRunStatuses = {
    RunStatus::kQueued, RunStatus::kRunning,   RunStatus::kCompleted,   RunStatus::kWaitingApproval,
    RunStatus::kFailed, RunStatus::kCancelled, RunStatus::kInterrupted,
};

constexpr std::array kAllRuntimeStates = {
    RuntimeState::kIdle,        RuntimeState::kQueued,
    RuntimeState::kProcessing,  RuntimeState::kWaitingApproval,
    RuntimeState::kInterrupted, RuntimeState::kEnded,
};

constexpr std::array kAllOperationTypes = {
    OperationType::kUserInput, OperationType::kExecApproval, OperationType::kInterrupt,
    OperationType::kCompact,   OperationType::kUndo,         OperationType::kTruncate,
    OperationType::kShutdown,
};

constexpr std::array kAllEventTypes = {
    EventType::kProcessing,
    EventType::kAssistantChunk,
    EventType::kAssistantStreamEnd,
    EventType::kAssistantMessage,
    EventType::kToolCall,
    EventType::kToolOutput,
    EventType::kToolLog,
    EventType::kToolStateChange,
    EventType::kApprovalRequired,
    EventType::kPlanUpdate,
    EventType::kTurnComplete,
    EventType::kCompacted,
    EventType::kUndoComplete,
    EventType::kTruncated,
    EventType::kTitle,
    EventType::kError,
    EventType::kInterrupted,
    EventType::kShutdown,
};

// system.md §2, written out independently of the implementation.
const std::set<std::pair<RunStatus, RunStatus>>& AllowedRunTransitions() {
  static const std::set<std::pair<RunStatus, RunStatus>> allowed = {
      {RunStatus::kQueued, RunStatus::kRunning},
      {RunStatus::kQueued, RunStatus::kCancelled},
      {RunStatus::kRunning, RunStatus::kCompleted},
      {RunStatus::kRunning, RunStatus::kWaitingApproval},
      {RunStatus::kRunning, RunStatus::kFailed},
      {RunStatus::kRunning, RunStatus::kCancelled},
      {RunStatus::kRunning, RunStatus::kQueued},
      {RunStatus::kRunning, RunStatus::kInterrupted},
  };
  return allowed;
}

// The session transitions listed in state_machine.hpp.
const std::set<std::pair<RuntimeState, RuntimeState>>& AllowedRuntimeTransitions() {
  using S = RuntimeState;
  static const std::set<std::pair<S, S>> allowed = {
      {S::kIdle, S::kQueued},
      {S::kWaitingApproval, S::kQueued},
      {S::kInterrupted, S::kQueued},
      {S::kQueued, S::kProcessing},
      {S::kProcessing, S::kQueued},
      {S::kQueued, S::kIdle},
      {S::kQueued, S::kWaitingApproval},
      {S::kQueued, S::kInterrupted},
      {S::kQueued, S::kEnded},
      {S::kProcessing, S::kIdle},
      {S::kProcessing, S::kWaitingApproval},
      {S::kProcessing, S::kInterrupted},
      {S::kProcessing, S::kEnded},
  };
  return allowed;
}

TEST(RunStateMachine, EnumListsAreComplete) {
  // Guards the exhaustive loops below: every listed value has a distinct name.
  std::set<std::string_view> names;
  for (RunStatus s : kAllRunStatuses) names.insert(ToString(s));
  EXPECT_EQ(names.size(), kAllRunStatuses.size());
  EXPECT_EQ(names.count("unknown"), 0u);
  std::set<std::string_view> states;
  for (RuntimeState s : kAllRuntimeStates) states.insert(ToString(s));
  EXPECT_EQ(states.size(), kAllRuntimeStates.size());
  EXPECT_EQ(states.count("unknown"), 0u);
}

TEST(RunStateMachine, CanTransitionMatchesSpecForEveryPair) {
  int allowed_count = 0;
  for (RunStatus from : kAllRunStatuses) {
    for (RunStatus to : kAllRunStatuses) {
      const bool expected = AllowedRunTransitions().count({from, to}) == 1;
      EXPECT_EQ(CanTransition(from, to), expected) << ToString(from) << " -> " << ToString(to);
      allowed_count += CanTransition(from, to) ? 1 : 0;
    }
  }
  EXPECT_EQ(allowed_count, 8);
}

TEST(RunStateMachine, CheckTransitionOkExactlyWhenAllowed) {
  for (RunStatus from : kAllRunStatuses) {
    for (RunStatus to : kAllRunStatuses) {
      const Status st = CheckTransition(from, to);
      if (CanTransition(from, to)) {
        EXPECT_TRUE(st.ok()) << ToString(from) << " -> " << ToString(to);
      } else {
        ASSERT_FALSE(st.ok()) << ToString(from) << " -> " << ToString(to);
        EXPECT_EQ(st.code(), ErrorCode::kConflict);
        // The message names both statuses so logs and API errors are actionable.
        EXPECT_NE(st.error().message.find(std::string(ToString(from))), std::string::npos);
        EXPECT_NE(st.error().message.find(std::string(ToString(to))), std::string::npos);
      }
    }
  }
}

TEST(RunStateMachine, NoStatusTransitionsToItself) {
  for (RunStatus s : kAllRunStatuses) EXPECT_FALSE(CanTransition(s, s)) << ToString(s);
}

TEST(RunStateMachine, TerminalStatusesNeverMove) {
  for (RunStatus from : kAllRunStatuses) {
    if (!IsTerminal(from)) continue;
    for (RunStatus to : kAllRunStatuses) {
      EXPECT_FALSE(CanTransition(from, to)) << ToString(from) << " -> " << ToString(to);
    }
  }
}

TEST(RunStateMachine, IsTerminal) {
  EXPECT_FALSE(IsTerminal(RunStatus::kQueued));
  EXPECT_FALSE(IsTerminal(RunStatus::kRunning));
  EXPECT_TRUE(IsTerminal(RunStatus::kCompleted));
  EXPECT_TRUE(IsTerminal(RunStatus::kWaitingApproval));
  EXPECT_TRUE(IsTerminal(RunStatus::kFailed));
  EXPECT_TRUE(IsTerminal(RunStatus::kCancelled));
  EXPECT_TRUE(IsTerminal(RunStatus::kInterrupted));
}

TEST(RunStateMachine, IsWorkerFinishStatus) {
  EXPECT_FALSE(IsWorkerFinishStatus(RunStatus::kQueued));
  EXPECT_FALSE(IsWorkerFinishStatus(RunStatus::kRunning));
  EXPECT_TRUE(IsWorkerFinishStatus(RunStatus::kCompleted));
  EXPECT_TRUE(IsWorkerFinishStatus(RunStatus::kWaitingApproval));
  EXPECT_TRUE(IsWorkerFinishStatus(RunStatus::kFailed));
  EXPECT_TRUE(IsWorkerFinishStatus(RunStatus::kCancelled));
  EXPECT_TRUE(IsWorkerFinishStatus(RunStatus::kInterrupted));
}

TEST(RunStateMachine, WorkerFinishStatusesAreTerminalAndReachableFromRunning) {
  for (RunStatus s : kAllRunStatuses) {
    if (!IsWorkerFinishStatus(s)) continue;
    EXPECT_TRUE(IsTerminal(s)) << ToString(s);
    EXPECT_TRUE(CanTransition(RunStatus::kRunning, s)) << ToString(s);
  }
}

RuntimeState ExpectedSessionState(RunStatus s, OperationType op) {
  switch (s) {
    case RunStatus::kCompleted:
      return op == OperationType::kShutdown ? RuntimeState::kEnded : RuntimeState::kIdle;
    case RunStatus::kFailed:
    case RunStatus::kCancelled:
      return RuntimeState::kIdle;
    case RunStatus::kWaitingApproval:
      return RuntimeState::kWaitingApproval;
    case RunStatus::kInterrupted:
      return RuntimeState::kInterrupted;
    default:
      ADD_FAILURE() << "not a terminal status: " << ToString(s);
      return RuntimeState::kIdle;
  }
}

TEST(SessionStateAfterRun, EveryTerminalStatusAndOperation) {
  for (RunStatus s : kAllRunStatuses) {
    if (!IsTerminal(s)) continue;
    for (OperationType op : kAllOperationTypes) {
      EXPECT_EQ(SessionStateAfterRun(s, op), ExpectedSessionState(s, op))
          << ToString(s) << " after " << ToString(op);
    }
  }
}

TEST(SessionStateAfterRun, MapsEachFinishOntoSession) {
  EXPECT_EQ(SessionStateAfterRun(RunStatus::kCompleted, OperationType::kUserInput),
            RuntimeState::kIdle);
  EXPECT_EQ(SessionStateAfterRun(RunStatus::kFailed, OperationType::kUserInput),
            RuntimeState::kIdle);
  EXPECT_EQ(SessionStateAfterRun(RunStatus::kCancelled, OperationType::kUserInput),
            RuntimeState::kIdle);
  EXPECT_EQ(SessionStateAfterRun(RunStatus::kWaitingApproval, OperationType::kUserInput),
            RuntimeState::kWaitingApproval);
  EXPECT_EQ(SessionStateAfterRun(RunStatus::kInterrupted, OperationType::kUserInput),
            RuntimeState::kInterrupted);
}

TEST(SessionStateAfterRun, CompletedShutdownEndsSession) {
  EXPECT_EQ(SessionStateAfterRun(RunStatus::kCompleted, OperationType::kShutdown),
            RuntimeState::kEnded);
  // A shutdown that did not complete leaves the session usable.
  EXPECT_EQ(SessionStateAfterRun(RunStatus::kFailed, OperationType::kShutdown),
            RuntimeState::kIdle);
  EXPECT_EQ(SessionStateAfterRun(RunStatus::kCancelled, OperationType::kShutdown),
            RuntimeState::kIdle);
  EXPECT_EQ(SessionStateAfterRun(RunStatus::kInterrupted, OperationType::kShutdown),
            RuntimeState::kInterrupted);
}

TEST(SessionStateAfterRun, ResultIsReachableFromActiveSessionStates) {
  // Whatever a finished run maps to, the session may move there from queued or processing.
  for (RunStatus s : kAllRunStatuses) {
    if (!IsTerminal(s)) continue;
    for (OperationType op : kAllOperationTypes) {
      const RuntimeState after = SessionStateAfterRun(s, op);
      EXPECT_TRUE(CanTransition(RuntimeState::kProcessing, after)) << ToString(after);
      EXPECT_TRUE(CanTransition(RuntimeState::kQueued, after)) << ToString(after);
    }
  }
}

TEST(RuntimeStateMachine, CanTransitionMatchesHeaderForEveryPair) {
  int allowed_count = 0;
  for (RuntimeState from : kAllRuntimeStates) {
    for (RuntimeState to : kAllRuntimeStates) {
      const bool expected = AllowedRuntimeTransitions().count({from, to}) == 1;
      EXPECT_EQ(CanTransition(from, to), expected) << ToString(from) << " -> " << ToString(to);
      allowed_count += CanTransition(from, to) ? 1 : 0;
    }
  }
  EXPECT_EQ(allowed_count, 13);
}

TEST(RuntimeStateMachine, EndedIsFinal) {
  for (RuntimeState to : kAllRuntimeStates) {
    EXPECT_FALSE(CanTransition(RuntimeState::kEnded, to)) << ToString(to);
  }
}

TEST(RuntimeStateMachine, AcceptsRunsUnlessEnded) {
  for (RuntimeState s : kAllRuntimeStates) {
    EXPECT_EQ(AcceptsRuns(s), s != RuntimeState::kEnded) << ToString(s);
  }
}

TEST(EventType, IsTerminalForAllTypes) {
  const std::set<EventType> terminal = {
      EventType::kTurnComplete, EventType::kApprovalRequired, EventType::kError,
      EventType::kInterrupted,  EventType::kShutdown,         EventType::kUndoComplete,
      EventType::kCompacted,    EventType::kTruncated,
  };
  std::set<std::string_view> names;
  for (EventType t : kAllEventTypes) {
    names.insert(ToString(t));
    EXPECT_EQ(IsTerminal(t), terminal.count(t) == 1) << ToString(t);
  }
  EXPECT_EQ(names.size(), 18u);
  EXPECT_EQ(names.count("unknown"), 0u);
}

}  // namespace
}  // namespace baton
