// Helpers of the raft core's tests: etcd raft_test.go's newTestRaft,
// newNetwork, nextEnts, readMessages, ... over the C++ state machine, and a
// fixture parameterized by the storage kind.

#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "raftlog/raft/config.h"
#include "raftlog/raft/internal/raft.h"
#include "raftlog/raft/logger.h"
#include "tests/rafttest/network.h"
#include "raftlog/raft/rawnode.h"
#include "raftlog/raft/storage.h"
#include "raftlog/raft/types.h"
#include "raftlog/raft/util.h"
#include "tests/raft/testutil/storage_factory.h"

namespace raftlog::raft {

// Readable gtest failure output for the raft value types.
inline void PrintTo(const Message& m, std::ostream* os) { *os << DescribeMessage(m); }
inline void PrintTo(const Entry& e, std::ostream* os) { *os << DescribeEntry(e); }

}  // namespace raftlog::raft

namespace raftlog::raft::testing {

using internal::Raft;

// etcd's index(first).terms(t...): entries at first, first+1, ... with the
// given terms and no data.
std::vector<Entry> IndexTerms(uint64_t first, std::initializer_list<uint64_t> terms);

// An entry with data (etcd's pb.Entry{Data: []byte(s)}).
inline Entry DataEntry(std::string data) {
  return Entry{0, 0, EntryType::kNormal, std::move(data)};
}

// A message with the fields etcd's tests set most: {From, To, Type}.
Message Msg(uint64_t from, uint64_t to, MessageType type);
Message Msg(uint64_t from, uint64_t to, MessageType type, uint64_t term);
// A MsgProp from `from` to `to` with one entry of `data`.
Message PropMsg(uint64_t from, uint64_t to, std::string data = "somedata");

// The logger of test nodes: silent, unless RAFTLOG_TEST_VERBOSE is set in
// the environment (then the package logger, at DEBUG). Panics are printed
// either way.
Logger* TestLogger();

// etcd's newTestConfig: MaxSizePerMsg unlimited, 256 inflight messages, and
// TestLogger().
Config NewTestConfig(uint64_t id, int election, int heartbeat, const Storage* storage);
std::unique_ptr<Raft> NewTestRaft(uint64_t id, int election, int heartbeat, const Storage* storage);
std::unique_ptr<Raft> NewRaft(Config config);
std::unique_ptr<RawNode> NewTestRawNode(uint64_t id, int election, int heartbeat,
                                        const Storage* storage);

// etcd's test-only raft methods.
// readMessages: steps/sends msgs_after_append, then takes msgs.
std::vector<Message> ReadMessages(Raft& r);
// advanceMessagesAfterAppend: steps the self-addressed ones (as if the
// state were persisted), queues the others in msgs.
void AdvanceMessagesAfterAppend(Raft& r);
// stepOrSend.
Status StepOrSend(Raft& r, std::vector<Message> msgs);
// nextEnts: persists the unstable entries to `s`, marks them stable, runs
// the post-append steps, and returns the committed entries to apply
// (marking them applied).
std::vector<Entry> NextEnts(Raft& r, WritableStorage& s);
// mustAppendEntry.
void MustAppendEntry(Raft& r, std::vector<Entry> ents);
// setRandomizedElectionTimeout.
inline void SetRandomizedElectionTimeout(Raft& r, int v) { r.set_randomized_election_timeout(v); }
// expectOneMessage.
Message ExpectOneMessage(Raft& r);

// etcd's ltoa: a textual dump of the log (last index, applied, entries).
std::string Ltoa(const internal::RaftLog& l);

// Sorts messages into a deterministic order (etcd's messageSlice).
void SortMessages(std::vector<Message>& msgs);

// etcd's preVoteConfig.
void PreVoteConfig(Config& c);

using ConfigFunc = std::function<void(Config&)>;

// Adapts a Raft to the network (etcd's *raft stateMachine).
class RaftPeer final : public rafttest::StateMachine {
 public:
  // Borrows `r`, which must outlive the peer.
  explicit RaftPeer(Raft* r) : r_(r) {}
  explicit RaftPeer(std::unique_ptr<Raft> r) : owned_(std::move(r)), r_(owned_.get()) {}

  Status Step(Message m) override { return r_->Step(std::move(m)); }
  std::vector<Message> ReadMessages() override { return testing::ReadMessages(*r_); }
  void Tick() override { r_->Tick(); }

  Raft& raft() { return *r_; }

 private:
  std::unique_ptr<Raft> owned_;
  Raft* r_;
};

// A peer argument of NewNetwork: nullptr (a new raft over a new storage), a
// raft (owned, or borrowed when passed as a pointer), or kNopStepper (a
// black hole).
struct BlackHoleTag {};
inline constexpr BlackHoleTag kNopStepper{};

struct NetPeer {
  enum class Kind { kNew, kRaft, kBlackHole };
  NetPeer(std::nullptr_t) : kind(Kind::kNew) {}                                 // NOLINT
  NetPeer(std::unique_ptr<Raft> r) : kind(Kind::kRaft), owned(std::move(r)) {}  // NOLINT
  NetPeer(Raft* r) : kind(Kind::kRaft), borrowed(r) {}                          // NOLINT
  NetPeer(BlackHoleTag) : kind(Kind::kBlackHole) {}                             // NOLINT

  Kind kind;
  std::unique_ptr<Raft> owned;
  Raft* borrowed = nullptr;
};

// etcd's network: rafttest::Network plus the storages of the rafts it made.
class TestNetwork : public rafttest::Network {
 public:
  TestNetwork() = default;
  TestNetwork(TestNetwork&&) noexcept = default;
  TestNetwork& operator=(TestNetwork&&) noexcept = default;

  // The raft of node `id`; fails the test if it is not a raft.
  Raft& raft(uint64_t id) const;
  // Whether node `id` is a raft (not a black hole).
  bool is_raft(uint64_t id) const;
  // The storage made for node `id` (nullptr for rafts passed in).
  WritableStorage* storage(uint64_t id) const;

  std::map<uint64_t, WritableStorage*> storages;
};

// The fixture of cluster-level tests, parameterized by the storage kind.
// Its helpers are public so that free helper functions of a test can use them.
class RaftTestBase : public ::testing::TestWithParam<StorageKind> {
 public:
  RaftTestBase() : storages_(GetParam()) {}

  StorageKind kind() const { return GetParam(); }
  bool disk() const { return GetParam() == StorageKind::kDisk; }

  // etcd's newTestMemoryStorage(withPeers(voters...), withLearners(...)).
  WritableStorage* NewStorage(std::vector<uint64_t> voters = {},
                              std::vector<uint64_t> learners = {}) {
    return storages_.New(std::move(voters), std::move(learners));
  }

  // etcd's newNetworkWithConfig(configFunc, peers...).
  TestNetwork NewNetworkWithConfig(const ConfigFunc& cfg, std::vector<NetPeer> peers);
  template <class... P>
  TestNetwork NewNetworkWithConfigOf(const ConfigFunc& cfg, P&&... peers) {
    std::vector<NetPeer> v;
    (v.emplace_back(std::forward<P>(peers)), ...);
    return NewNetworkWithConfig(cfg, std::move(v));
  }
  template <class... P>
  TestNetwork NewNetwork(P&&... peers) {
    return NewNetworkWithConfigOf(nullptr, std::forward<P>(peers)...);
  }

  // etcd's entsWithConfig: a raft (id 1) whose storage holds entries of the
  // given terms at indexes 1, 2, ..., reset to the last term.
  std::unique_ptr<Raft> EntsWithConfig(const ConfigFunc& cfg, std::vector<uint64_t> terms);
  // etcd's votedWithConfig: a raft (id 1) that voted for `vote` in `term`
  // and has no entries.
  std::unique_ptr<Raft> VotedWithConfig(const ConfigFunc& cfg, uint64_t vote, uint64_t term);

  StorageFactory storages_;
};

// --- implementation (header-only: the test glob compiles *_test.cc only) ---

inline std::vector<Entry> IndexTerms(uint64_t first, std::initializer_list<uint64_t> terms) {
  std::vector<Entry> out;
  out.reserve(terms.size());
  uint64_t index = first;
  for (uint64_t t : terms) out.push_back(Entry{t, index++, EntryType::kNormal, {}});
  return out;
}

inline Message Msg(uint64_t from, uint64_t to, MessageType type) {
  Message m;
  m.from = from;
  m.to = to;
  m.type = type;
  return m;
}

inline Message Msg(uint64_t from, uint64_t to, MessageType type, uint64_t term) {
  Message m = Msg(from, to, type);
  m.term = term;
  return m;
}

inline Message PropMsg(uint64_t from, uint64_t to, std::string data) {
  Message m = Msg(from, to, MessageType::kMsgProp);
  m.entries.push_back(DataEntry(std::move(data)));
  return m;
}

inline Logger* TestLogger() {
  static Logger* const logger = [] {
    if (std::getenv("RAFTLOG_TEST_VERBOSE") == nullptr) return &GetDiscardLogger();
    static StderrLogger verbose(LogLevel::kDebug);
    return static_cast<Logger*>(&verbose);
  }();
  return logger;
}

inline Config NewTestConfig(uint64_t id, int election, int heartbeat, const Storage* storage) {
  Config c;
  c.logger = TestLogger();
  c.id = id;
  c.election_tick = election;
  c.heartbeat_tick = heartbeat;
  c.storage = storage;
  c.max_size_per_msg = kNoLimit;
  c.max_inflight_msgs = 256;
  return c;
}

inline std::unique_ptr<Raft> NewRaft(Config config) {
  return std::make_unique<Raft>(std::move(config));
}

inline std::unique_ptr<Raft> NewTestRaft(uint64_t id, int election, int heartbeat,
                                         const Storage* storage) {
  return NewRaft(NewTestConfig(id, election, heartbeat, storage));
}

inline std::unique_ptr<RawNode> NewTestRawNode(uint64_t id, int election, int heartbeat,
                                               const Storage* storage) {
  Result<std::unique_ptr<RawNode>> rn =
      RawNode::New(NewTestConfig(id, election, heartbeat, storage));
  if (!rn.ok()) {
    ADD_FAILURE() << rn.status().ToString();
    std::abort();
  }
  return std::move(rn).value();
}

inline Status StepOrSend(Raft& r, std::vector<Message> msgs) {
  for (Message& m : msgs) {
    if (m.to == r.id()) {
      RAFTLOG_RETURN_IF_ERROR(r.Step(std::move(m)));
    } else {
      r.msgs().push_back(std::move(m));
    }
  }
  return Status::OK();
}

inline void AdvanceMessagesAfterAppend(Raft& r) {
  for (;;) {
    std::vector<Message> msgs = r.TakeMsgsAfterAppend();
    if (msgs.empty()) break;
    (void)StepOrSend(r, std::move(msgs));
  }
}

inline std::vector<Message> ReadMessages(Raft& r) {
  AdvanceMessagesAfterAppend(r);
  return r.TakeMsgs();
}

inline std::vector<Entry> NextEnts(Raft& r, WritableStorage& s) {
  // Append unstable entries.
  const std::span<const Entry> unstable = r.raft_log().NextUnstableEnts();
  const std::vector<Entry> ents(unstable.begin(), unstable.end());
  Status st = s.Append(ents);
  EXPECT_TRUE(st.ok()) << st.ToString();
  r.raft_log().StableTo(r.raft_log().LastEntryID());
  // Run post-append steps.
  AdvanceMessagesAfterAppend(r);
  // Return committed entries.
  std::vector<Entry> committed = r.raft_log().NextCommittedEnts(true);
  r.raft_log().AppliedTo(r.raft_log().committed(), 0);
  return committed;
}

inline void MustAppendEntry(Raft& r, std::vector<Entry> ents) {
  if (!r.AppendEntry(std::move(ents))) {
    ADD_FAILURE() << "entry unexpectedly dropped";
    std::abort();
  }
}

inline Message ExpectOneMessage(Raft& r) {
  std::vector<Message> msgs = ReadMessages(r);
  EXPECT_EQ(msgs.size(), 1u) << "expect one message";
  if (msgs.empty()) return Message{};
  return std::move(msgs[0]);
}

inline std::string Ltoa(const internal::RaftLog& l) {
  std::string s = StringPrintf("lastIndex: %" PRIu64 "\n", l.LastIndex());
  s += StringPrintf("applied:  %" PRIu64 "\n", l.applied());
  const std::vector<Entry> ents = l.AllEntries();
  for (size_t i = 0; i < ents.size(); ++i) {
    s += StringPrintf("#%zu: ", i) + DescribeEntry(ents[i]) + "\n";
  }
  return s;
}

inline void SortMessages(std::vector<Message>& msgs) {
  std::stable_sort(msgs.begin(), msgs.end(), [](const Message& a, const Message& b) {
    return DescribeMessage(a) < DescribeMessage(b);
  });
}

inline void PreVoteConfig(Config& c) { c.pre_vote = true; }

inline Raft& TestNetwork::raft(uint64_t id) const {
  auto* p = dynamic_cast<RaftPeer*>(peer(id));
  if (p == nullptr) {
    ADD_FAILURE() << "peer " << id << " is not a raft";
    std::abort();
  }
  return p->raft();
}

inline bool TestNetwork::is_raft(uint64_t id) const {
  return dynamic_cast<RaftPeer*>(peer(id)) != nullptr;
}

inline WritableStorage* TestNetwork::storage(uint64_t id) const {
  auto it = storages.find(id);
  return it == storages.end() ? nullptr : it->second;
}

inline TestNetwork RaftTestBase::NewNetworkWithConfig(const ConfigFunc& cfg,
                                                      std::vector<NetPeer> peers) {
  const size_t size = peers.size();
  std::vector<uint64_t> ids(size);
  for (size_t i = 0; i < size; ++i) ids[i] = i + 1;

  TestNetwork nw;
  for (size_t j = 0; j < size; ++j) {
    const uint64_t id = ids[j];
    NetPeer& p = peers[j];
    switch (p.kind) {
      case NetPeer::Kind::kNew: {
        WritableStorage* s = NewStorage(ids);
        nw.storages[id] = s;
        Config c = NewTestConfig(id, 10, 1, s);
        if (cfg) cfg(c);
        nw.Add(id, std::make_unique<RaftPeer>(NewRaft(std::move(c))));
        break;
      }
      case NetPeer::Kind::kRaft: {
        Raft* v = p.owned != nullptr ? p.owned.get() : p.borrowed;
        // As etcd's: the raft takes the id of its slot, and every node of the
        // network as a voter (or as a learner, if it was a learner before).
        const std::set<uint64_t> learners = v->trk().config.learners;
        v->set_id(id);
        v->trk() = tracker::ProgressTracker(v->trk().max_inflight, v->trk().max_inflight_bytes);
        for (uint64_t pid : ids) {
          tracker::Progress pr;
          if (learners.count(pid) != 0) {
            pr.is_learner = true;
            v->trk().config.learners.insert(pid);
          } else {
            v->trk().config.voters.incoming.Insert(pid);
          }
          v->trk().progress[pid] = pr;
        }
        v->Reset(v->term());
        if (p.owned != nullptr) {
          nw.Add(id, std::make_unique<RaftPeer>(std::move(p.owned)));
        } else {
          nw.Add(id, std::make_unique<RaftPeer>(p.borrowed));
        }
        break;
      }
      case NetPeer::Kind::kBlackHole:
        nw.Add(id, std::make_unique<rafttest::BlackHole>());
        break;
    }
  }
  return nw;
}

inline std::unique_ptr<Raft> RaftTestBase::EntsWithConfig(const ConfigFunc& cfg,
                                                          std::vector<uint64_t> terms) {
  WritableStorage* storage = NewStorage();
  for (size_t i = 0; i < terms.size(); ++i) {
    const Entry e{terms[i], i + 1, EntryType::kNormal, {}};
    EXPECT_TRUE(storage->Append(std::span<const Entry>(&e, 1)).ok());
  }
  Config c = NewTestConfig(1, 5, 1, storage);
  if (cfg) cfg(c);
  auto sm = NewRaft(std::move(c));
  sm->Reset(terms.back());
  return sm;
}

inline std::unique_ptr<Raft> RaftTestBase::VotedWithConfig(const ConfigFunc& cfg, uint64_t vote,
                                                           uint64_t term) {
  WritableStorage* storage = NewStorage();
  EXPECT_TRUE(storage->SetHardState(HardState{term, vote, 0}).ok());
  Config c = NewTestConfig(1, 5, 1, storage);
  if (cfg) cfg(c);
  auto sm = NewRaft(std::move(c));
  sm->Reset(term);
  return sm;
}

}  // namespace raftlog::raft::testing
