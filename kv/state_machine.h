// StateMachine: the replicated key-value map of the kv service, and the
// membership addresses it learns from the log.
//
// Every node applies the same committed commands in the same order, so every
// node's map goes through the same states. Apply is deterministic and never
// fails on a well-formed command; a command that does not decode is skipped
// by the caller (it cannot have been proposed by this code).
//
// Thread-safety: thread-compatible. The node's raft loop thread owns it.

#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "kv/codec.h"

namespace raftlog::kv {

// What applying a command did.
struct ApplyResult {
  // kPut and kDelete: always true. kCas: whether the swap happened.
  bool ok = true;
  // The value before the command (nullopt: absent). For a failed cas this is
  // the value that did not match.
  std::optional<std::string> previous;
};

class StateMachine {
 public:
  ApplyResult Apply(const Command& c);
  std::optional<std::string> Get(const std::string& key) const;
  size_t size() const { return data_.size(); }

  // The members' addresses: set by applied conf changes and snapshots.
  const std::map<uint64_t, std::string>& members() const { return members_; }
  void SetMember(uint64_t id, std::string addr) { members_[id] = std::move(addr); }
  void RemoveMember(uint64_t id) { members_.erase(id); }

  // The whole state, for a snapshot, and back.
  SnapshotImage Image() const { return SnapshotImage{members_, data_}; }
  void Restore(SnapshotImage image);

 private:
  std::map<std::string, std::string> data_;
  std::map<uint64_t, std::string> members_;
};

}  // namespace raftlog::kv
