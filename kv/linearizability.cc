#include "kv/linearizability.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <utility>

namespace raftlog::kv::check {

namespace {

using Value = std::optional<std::string>;

std::string Show(const Value& v) { return v ? "\"" + *v + "\"" : "absent"; }

// The register states an operation can leave behind when applied to `s`
// (empty: it cannot be applied there). Unknown outcomes may branch.
void Step(const Operation& op, const Value& s, std::vector<Value>* next) {
  next->clear();
  switch (op.kind) {
    case OpKind::kGet:
      if (s == op.value) next->push_back(s);
      return;
    case OpKind::kPut:
      next->push_back(op.value);
      return;
    case OpKind::kDelete:
      next->push_back(std::nullopt);
      return;
    case OpKind::kCas:
      if (!op.known) {
        // It may have swapped (if it could), or never have happened.
        if (s == op.expected) next->push_back(op.value);
        next->push_back(s);
        return;
      }
      if (op.swapped) {
        if (s == op.expected) next->push_back(op.value);
      } else if (s != op.expected) {
        next->push_back(s);
      }
      return;
  }
}

// The search. Known operations must all be linearized; unknown ones
// (infinite return time) may be linearized once their invocation allows it,
// or never. Five prunings keep it small:
//   - memoization: a (linearized known operations, register value) pair
//     already explored with a subset of the unknown operations consumed is
//     not explored again: having consumed more unknown operations leaves
//     fewer choices, never more (they may always be left out);
//   - an unknown operation is consumed only when it changes the value (one
//     that leaves it alone is the same as leaving it out);
//   - within a burst of unknown operations (between two known ones), a put
//     or a delete comes first or not at all: what came before it in the
//     burst is overwritten, so it could be left out;
//   - of unknown operations with the same effect that are all available
//     (invoked early enough), only one is tried: they are interchangeable;
//   - after an unknown operation, the next known operation must be one that
//     the value before that unknown operation did not allow. This loses no
//     linearization: if the known operation k was allowed before the unknown
//     u, then either k overwrites the value (u can be left out) or k leaves
//     it alone (u can move after k, as its return time is infinite); doing
//     this repeatedly turns any linearization into one of that form.
// Known candidates are tried before unknown ones, so the first visit of a
// pair tends to have consumed the fewest. Memoization applies only outside
// bursts of unknown operations, where the options are not restricted.
class Search {
 public:
  Search(std::vector<Operation> ops, uint64_t budget) : budget_(budget) {
    for (Operation& op : ops) (op.known ? known_ : unknown_).push_back(std::move(op));
    auto by_call = [](const Operation& a, const Operation& b) { return a.call < b.call; };
    std::stable_sort(known_.begin(), known_.end(), by_call);
    std::stable_sort(unknown_.begin(), unknown_.end(), by_call);
    for (Operation& op : unknown_) op.ret = kNever;
    done_.assign(known_.size(), false);
    used_.assign((unknown_.size() + 63) / 64, 0);
  }

  // 1: linearizable, 0: not, -1: budget exceeded.
  int Run() { return Dfs(0, 0, std::nullopt, nullptr); }

  uint64_t states() const { return states_; }

  std::string Explain() const {
    std::string out = "no operation can follow after " + std::to_string(best_depth_) +
                      " linearized; the register would be " + Show(best_state_) +
                      "; the operations that could come next:";
    for (size_t i : best_window_) out += "\n    " + Describe(known_[i]);
    return out;
  }

 private:
  // `burst_prev`: set right after an unknown operation, the value before it.
  int Dfs(size_t lo, size_t depth, const Value& state, const Value* burst_prev) {
    while (lo < known_.size() && done_[lo]) ++lo;
    if (lo == known_.size()) return 1;
    if (++states_ > budget_) return -1;

    // The known candidates: remaining operations invoked no later than the
    // earliest answer among the remaining ones (none precedes them). Every
    // linearized known operation lies in [lo, end).
    int64_t min_ret = kNever;
    size_t end = lo;
    for (; end < known_.size() && known_[end].call <= min_ret; ++end) {
      if (!done_[end]) min_ret = std::min(min_ret, known_[end].ret);
    }
    std::string key = std::to_string(lo) + ":";
    for (size_t i = lo; i < end; i += 8) {
      uint8_t byte = 0;
      for (size_t b = 0; b < 8 && i + b < end; ++b) byte |= static_cast<uint8_t>(done_[i + b]) << b;
      key.push_back(static_cast<char>(byte));
    }
    key.push_back(state ? 'v' : 'n');
    if (state) key += *state;
    if (burst_prev == nullptr) {
      std::vector<std::vector<uint64_t>>& visits = seen_[key];
      for (const std::vector<uint64_t>& prev : visits) {
        bool subset = true;
        for (size_t w = 0; w < used_.size() && subset; ++w) subset = (prev[w] & ~used_[w]) == 0;
        if (subset) return 0;
      }
      visits.push_back(used_);
    }

    std::vector<Value> next;
    for (size_t i = lo; i < end; ++i) {
      if (done_[i] || known_[i].call > min_ret) continue;
      if (burst_prev != nullptr) {
        Step(known_[i], *burst_prev, &next);
        if (!next.empty()) continue;  // allowed without the unknown operation
      }
      Step(known_[i], state, &next);
      if (next.empty()) continue;
      const Value s = next.front();  // known operations are deterministic
      done_[i] = true;
      const int r = Dfs(lo, depth + 1, s, nullptr);
      done_[i] = false;
      if (r != 0) return r;
    }
    std::vector<const Operation*> tried;
    for (size_t j = 0; j < unknown_.size() && unknown_[j].call <= min_ret; ++j) {
      if (Used(j)) continue;
      // Two unknown operations with the same effect (two deletes, say) that
      // are both available now are interchangeable: try one of them.
      const Operation& u = unknown_[j];
      bool same = false;
      for (const Operation* t : tried) {
        same = same || (t->kind == u.kind && t->value == u.value && t->expected == u.expected);
      }
      if (same) continue;
      tried.push_back(&u);
      // Within a burst only a cas may follow: whatever came before a put or
      // a delete in the burst is overwritten, so it could be left out.
      if (burst_prev != nullptr && unknown_[j].kind != OpKind::kCas) continue;
      Step(unknown_[j], state, &next);
      for (const Value& s : std::vector<Value>(next)) {
        if (s == state) continue;  // no change: the same as leaving it out
        SetUsed(j, true);
        const int r = Dfs(lo, depth, s, &state);
        SetUsed(j, false);
        if (r != 0) return r;
      }
    }
    if (burst_prev == nullptr && depth >= best_depth_) {
      best_depth_ = depth;
      best_state_ = state;
      best_window_.clear();
      for (size_t i = lo; i < end; ++i) {
        if (!done_[i] && known_[i].call <= min_ret) best_window_.push_back(i);
      }
    }
    return 0;
  }

  bool Used(size_t j) const { return (used_[j / 64] >> (j % 64)) & 1; }
  void SetUsed(size_t j, bool on) {
    if (on) {
      used_[j / 64] |= uint64_t{1} << (j % 64);
    } else {
      used_[j / 64] &= ~(uint64_t{1} << (j % 64));
    }
  }

  std::vector<Operation> known_;
  std::vector<Operation> unknown_;
  const uint64_t budget_;
  std::vector<bool> done_;
  std::vector<uint64_t> used_;  // bitset over unknown_
  std::unordered_map<std::string, std::vector<std::vector<uint64_t>>> seen_;
  uint64_t states_ = 0;
  size_t best_depth_ = 0;
  Value best_state_;
  std::vector<size_t> best_window_;
};

}  // namespace

std::string Describe(const Operation& op) {
  std::string s = "client " + std::to_string(op.client) + ": ";
  switch (op.kind) {
    case OpKind::kGet:
      s += "get(" + op.key + ") -> " + Show(op.value);
      break;
    case OpKind::kPut:
      s += "put(" + op.key + ", " + Show(op.value) + ")";
      break;
    case OpKind::kDelete:
      s += "del(" + op.key + ")";
      break;
    case OpKind::kCas:
      s += "cas(" + op.key + ", " + Show(op.expected) + " -> " + Show(op.value) + ")";
      if (op.known) s += op.swapped ? " swapped" : " not swapped";
      break;
  }
  s += " [" + std::to_string(op.call) + ", " + (op.known ? std::to_string(op.ret) : "unknown") + "]";
  return s;
}

KeyResult CheckKey(std::vector<Operation> ops, uint64_t budget) {
  KeyResult r;
  r.key = ops.empty() ? std::string() : ops.front().key;
  r.operations = ops.size();
  Search search(std::move(ops), budget);
  const int outcome = search.Run();
  r.states = search.states();
  r.linearizable = outcome == 1;
  r.inconclusive = outcome == -1;
  if (outcome == 0) r.explanation = search.Explain();
  if (outcome == -1) r.explanation = "search budget exceeded";
  return r;
}

HistoryResult CheckHistory(const std::vector<Operation>& ops, uint64_t budget_per_key) {
  std::map<std::string, std::vector<Operation>> by_key;
  for (const Operation& op : ops) by_key[op.key].push_back(op);
  HistoryResult h;
  h.keys = by_key.size();
  h.operations = ops.size();
  for (auto& [key, key_ops] : by_key) {
    KeyResult r = CheckKey(std::move(key_ops), budget_per_key);
    if (r.linearizable) continue;
    if (r.inconclusive) {
      h.inconclusive++;
    } else {
      h.violations++;
    }
    h.failures.push_back(std::move(r));
  }
  return h;
}

std::vector<std::string> FindLostWrites(
    const std::vector<Operation>& ops,
    const std::vector<std::pair<std::string, std::optional<std::string>>>& final_values) {
  std::map<std::string, std::vector<const Operation*>> writes;
  for (const Operation& op : ops) {
    if (op.kind != OpKind::kGet) writes[op.key].push_back(&op);
  }
  std::vector<std::string> lost;
  for (const auto& [key, final_value] : final_values) {
    for (const Operation* w : writes[key]) {
      const bool acked = w->known && (w->kind != OpKind::kCas || w->swapped);
      if (!acked) continue;
      // Could any other write have come after it? (Not finished before it
      // began, and possibly effective: unknown, or acknowledged.)
      bool superseded = false;
      for (const Operation* o : writes[key]) {
        if (o == w) continue;
        const bool may_effect = !o->known || o->kind != OpKind::kCas || o->swapped;
        const int64_t o_ret = o->known ? o->ret : kNever;
        if (may_effect && o_ret >= w->call) superseded = true;
      }
      if (superseded) continue;
      const Value expected = w->kind == OpKind::kDelete ? Value() : w->value;
      if (expected != final_value) {
        lost.push_back(key + ": the last acknowledged write " + Describe(*w) +
                       " is not the final value " + Show(final_value));
      }
    }
  }
  return lost;
}

}  // namespace raftlog::kv::check
