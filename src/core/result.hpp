// Result<T>: a value or an Error. The project's one return type for operations
// that can fail in expected ways (see error.hpp). Result<void> carries no value.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "core/error.hpp"

namespace baton {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  ErrorCode code() const { return error().code; }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }
  ErrorCode code() const { return error().code; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace baton

// Evaluates `expr` (a Result<T>); on error returns the error from the calling
// function, else moves the value into `lhs`.
#define BATON_ASSIGN_OR_RETURN(lhs, expr)             \
  do {                                                \
    auto baton_result_ = (expr);                      \
    if (!baton_result_) return baton_result_.error(); \
    lhs = std::move(*baton_result_);                  \
  } while (0)

// Evaluates `expr` (a Status or Result<T>); on error returns the error.
#define BATON_RETURN_IF_ERROR(expr)                   \
  do {                                                \
    auto baton_status_ = (expr);                      \
    if (!baton_status_) return baton_status_.error(); \
  } while (0)

namespace baton {}  // namespace baton
