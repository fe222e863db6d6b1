// A linearizability checker for histories of a key-value register service
// (get, put, delete, compare-and-swap), after Wing & Gong, with the
// memoization of Lowe and of Porcupine (Athalye's checker for Go).
//
// A history is a set of operations, each with the time it was invoked and
// the time its answer arrived. It is linearizable if there is one total
// order of the operations that (1) respects real time: an operation that
// returned before another was invoked comes first, and (2) is a legal
// sequential run of the register: every get returns the value of the last
// write before it, a cas succeeds exactly when the value is the expected one.
// Keys are independent registers, so the history is checked key by key
// (linearizability is compositional), which keeps each search small.
//
// Unknown outcomes: an operation whose answer never came (a timeout, a lost
// connection) may have taken effect at any time after its invocation, or
// never. It is given an infinite return time and any result: a write may be
// placed anywhere after its invocation, or treated as not having happened;
// an unknown cas may or may not have swapped. A read with an unknown outcome
// tells nothing and is left out by the caller, as are operations that were
// refused (they certainly did not happen).
//
// The search explores orders depth first: the next operation must be one
// that no other remaining operation precedes in real time; a (set of
// linearized operations, register value) pair already explored is not
// explored again. It is exponential in the worst case; `budget` bounds the
// states visited per key, and a key whose search runs out is reported
// inconclusive, never as linearizable.
//
// Thread-safety: pure functions.

#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace raftlog::kv::check {

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

enum class OpKind : uint8_t { kGet, kPut, kDelete, kCas };

struct Operation {
  OpKind kind = OpKind::kGet;
  std::string key;
  // kGet: the value read (nullopt: absent). kPut, kCas: the value written.
  std::optional<std::string> value;
  // kCas: the value that had to be current (nullopt: the key absent).
  std::optional<std::string> expected;
  // kCas with a known outcome: whether it swapped.
  bool swapped = false;
  // Whether the answer arrived. false: `ret` is ignored (treated as never).
  bool known = true;
  int64_t call = 0;  // invocation time (any monotonic unit)
  int64_t ret = 0;   // answer time, >= call
  int client = 0;    // for messages only
};

struct KeyResult {
  std::string key;
  size_t operations = 0;
  bool linearizable = false;
  bool inconclusive = false;  // the search exceeded its budget
  uint64_t states = 0;        // states visited
  // When not linearizable: the operations of the deepest point the search
  // reached that none could follow, described for a person.
  std::string explanation;
};

struct HistoryResult {
  size_t keys = 0;
  size_t operations = 0;
  size_t violations = 0;  // keys that are not linearizable
  size_t inconclusive = 0;
  std::vector<KeyResult> failures;  // non-linearizable and inconclusive keys
  bool ok() const { return violations == 0 && inconclusive == 0; }
};

// Checks the operations of one key (all must have the same key).
KeyResult CheckKey(std::vector<Operation> ops, uint64_t budget = 20'000'000);
// Splits the history by key and checks every key.
HistoryResult CheckHistory(const std::vector<Operation>& ops, uint64_t budget_per_key = 20'000'000);

// "No acknowledged write lost": `final_values` holds every key's value read
// after the run (nullopt: absent). An acknowledged write (put, delete, or a
// cas that swapped) that no other write to its key could follow in real
// time must be the final value. Returns one line per lost write.
std::vector<std::string> FindLostWrites(
    const std::vector<Operation>& ops,
    const std::vector<std::pair<std::string, std::optional<std::string>>>& final_values);

std::string Describe(const Operation& op);

}  // namespace raftlog::kv::check
