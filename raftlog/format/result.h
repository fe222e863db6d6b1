// Result<T>: either a value of type T or a non-OK Status.
//
// Shaped like std::expected (C++23) and absl::StatusOr, so that a later switch
// is mechanical; g++ 12 has no usable <expected> (it needs
// -std=c++23 there and lacks and_then/transform, which arrived in GCC 13).
//
//   Result<uint64_t> r = storage.Term(i);
//   if (!r.ok()) return r.status();
//   uint64_t term = *r;
//
// Thread-safety: a value type, like Status.

#pragma once

#include <type_traits>
#include <utility>
#include <variant>

#include "raftlog/format/status.h"

namespace raftlog {

template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cvref_t<T>, Status>,
                "Result<Status> is meaningless; return Status");

 public:
  using value_type = T;

  // REQUIRES: !status.ok(). A Result made from an OK status would hold neither
  // a value nor an error; that is a programmer's error and aborts.
  Result(Status status) : rep_(std::in_place_index<0>, std::move(status)) {  // NOLINT
    RAFTLOG_CHECK_MSG(!std::get<0>(rep_).ok(), "Result constructed from an OK Status");
  }
  Result(const T& value) : rep_(std::in_place_index<1>, value) {}        // NOLINT
  Result(T&& value) : rep_(std::in_place_index<1>, std::move(value)) {}  // NOLINT
  // Converting construction from anything T is constructible from (a braced
  // list, a derived pointer, ...).
  template <class U = T, class = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                  !std::is_same_v<std::remove_cvref_t<U>, Result> &&
                                                  !std::is_same_v<std::remove_cvref_t<U>, Status> &&
                                                  !std::is_same_v<std::remove_cvref_t<U>, T>>>
  Result(U&& value) : rep_(std::in_place_index<1>, std::forward<U>(value)) {}  // NOLINT

  bool ok() const { return rep_.index() == 1; }

  // OK when a value is held, else the error.
  Status status() const& { return ok() ? Status::OK() : std::get<0>(rep_); }
  Status status() && { return ok() ? Status::OK() : std::get<0>(std::move(rep_)); }

  // REQUIRES: ok(). Aborts with the error's text otherwise.
  const T& value() const& {
    CheckOk();
    return std::get<1>(rep_);
  }
  T& value() & {
    CheckOk();
    return std::get<1>(rep_);
  }
  T&& value() && {
    CheckOk();
    return std::get<1>(std::move(rep_));
  }

  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  // The value if ok(), else `fallback`.
  template <class U>
  T value_or(U&& fallback) const& {
    return ok() ? std::get<1>(rep_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void CheckOk() const {
    if (!ok()) [[unlikely]] {
      ::raftlog::internal::CheckFailed(__FILE__, __LINE__, "Result::ok()",
                                       std::get<0>(rep_).ToString());
    }
  }

  std::variant<Status, T> rep_;
};

}  // namespace raftlog

#define RAFTLOG_INTERNAL_CONCAT2(a, b) a##b
#define RAFTLOG_INTERNAL_CONCAT(a, b) RAFTLOG_INTERNAL_CONCAT2(a, b)
#define RAFTLOG_INTERNAL_ASSIGN_OR_RETURN(tmp, lhs, expr) \
  auto tmp = (expr);                                      \
  if (!tmp.ok()) return std::move(tmp).status();          \
  lhs = std::move(tmp).value()

// Evaluates `expr` (a Result<T>); on error returns its Status from the
// enclosing function, otherwise assigns the value to `lhs`, which may be a
// declaration: RAFTLOG_ASSIGN_OR_RETURN(auto term, storage.Term(i));
#define RAFTLOG_ASSIGN_OR_RETURN(lhs, expr) \
  RAFTLOG_INTERNAL_ASSIGN_OR_RETURN(RAFTLOG_INTERNAL_CONCAT(raftlog_result_, __LINE__), lhs, expr)
