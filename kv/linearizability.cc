#include "kv/linearizability.h"

#include <algorithm>
#include <map>
#include <unordered_set>
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

class Search {
 public:
  Search(std::vector<Operation> ops, uint64_t budget) : ops_(std::move(ops)), budget_(budget) {
    for (Operation& op : ops_) {
      if (!op.known) op.ret = kNever;
    }
    std::sort(ops_.begin(), ops_.end(),
              [](const Operation& a, const Operation& b) { return a.call < b.call; });
    done_.assign(ops_.size(), false);
  }

  // 1: linearizable, 0: not, -1: budget exceeded.
  int Run() { return Dfs(0, 0, std::nullopt); }

  uint64_t states() const { return states_; }

  std::string Explain() const {
    std::string out = "no operation can follow after " + std::to_string(best_depth_) +
                      " linearized; the register would be " + Show(best_state_) +
                      "; the operations that could come next:";
    for (size_t i : best_window_) out += "\n    " + Describe(ops_[i]);
    return out;
  }

 private:
  // `lo`: every operation before it is linearized; `depth`: how many are.
  int Dfs(size_t lo, size_t depth, const Value& state) {
    while (lo < ops_.size() && done_[lo]) ++lo;
    if (lo == ops_.size()) return 1;
    if (++states_ > budget_) return -1;
    if (!seen_.insert(Key(lo, state)).second) return 0;

    // The candidates: remaining operations invoked no later than the
    // earliest answer among the remaining ones (none precedes them).
    int64_t min_ret = kNever;
    std::vector<size_t> window;
    for (size_t i = lo; i < ops_.size() && ops_[i].call <= min_ret; ++i) {
      if (done_[i]) continue;
      window.push_back(i);
      min_ret = std::min(min_ret, ops_[i].ret);
    }
    std::vector<Value> next;
    for (size_t i : window) {
      if (ops_[i].call > min_ret) break;
      Step(ops_[i], state, &next);
      if (next.empty()) continue;
      const std::vector<Value> branches = next;
      done_[i] = true;
      for (const Value& s : branches) {
        const int r = Dfs(lo, depth + 1, s);
        if (r != 0) {
          done_[i] = false;
          return r;
        }
      }
      done_[i] = false;
    }
    if (depth >= best_depth_) {
      best_depth_ = depth;
      best_state_ = state;
      best_window_.clear();
      for (size_t i : window) {
        if (ops_[i].call <= min_ret) best_window_.push_back(i);
      }
    }
    return 0;
  }

  // The memo key: the linearized set (as `lo` and the bits after it up to
  // the last linearized operation) and the register value.
  std::string Key(size_t lo, const Value& state) const {
    std::string k = std::to_string(lo) + ":";
    size_t last = lo;
    for (size_t i = lo; i < done_.size() && i < lo + 4096; ++i) {
      if (done_[i]) last = i + 1;
    }
    for (size_t i = lo; i < last; i += 8) {
      uint8_t byte = 0;
      for (size_t b = 0; b < 8 && i + b < last; ++b) byte |= static_cast<uint8_t>(done_[i + b]) << b;
      k.push_back(static_cast<char>(byte));
    }
    // Ops beyond the 4096-wide window are essentially never linearized out
    // of order that far; include their count to stay exact anyway.
    size_t far = 0;
    for (size_t i = lo + 4096; i < done_.size(); ++i) far += done_[i];
    if (far != 0) {
      k += "|";
      for (size_t i = lo + 4096; i < done_.size(); ++i) {
        if (done_[i]) k += std::to_string(i) + ",";
      }
    }
    k.push_back(state ? 'v' : 'n');
    if (state) k += *state;
    return k;
  }

  std::vector<Operation> ops_;
  const uint64_t budget_;
  std::vector<bool> done_;
  std::unordered_set<std::string> seen_;
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
