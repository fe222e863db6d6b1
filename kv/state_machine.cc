#include "kv/state_machine.h"

#include <utility>

namespace raftlog::kv {

ApplyResult StateMachine::Apply(const Command& c) {
  ApplyResult r;
  auto it = data_.find(c.key);
  if (it != data_.end()) r.previous = it->second;
  switch (c.type) {
    case CommandType::kPut:
      data_[c.key] = c.value;
      break;
    case CommandType::kDelete:
      if (it != data_.end()) data_.erase(it);
      break;
    case CommandType::kCas:
      r.ok = c.expected_absent ? !r.previous.has_value()
                               : (r.previous.has_value() && *r.previous == c.expected);
      if (r.ok) data_[c.key] = c.value;
      break;
  }
  return r;
}

std::optional<std::string> StateMachine::Get(const std::string& key) const {
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

void StateMachine::Restore(SnapshotImage image) {
  data_ = std::move(image.data);
  members_ = std::move(image.members);
}

}  // namespace raftlog::kv
