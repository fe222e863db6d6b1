// The Ready loop with asynchronous storage writes: the same three-node
// cluster as examples/ready_loop.cc, but each node's appends go to an
// engine::LogWriter, a thread that persists them while the loop goes on
// (stepping messages, sending, applying, proposing) and groups the appends
// that arrive during one fdatasync into the next one.
//
// What changes against the synchronous loop (raftlog/raft/rawnode.h):
//   - Config::async_storage_writes is set, and Advance() is never called;
//   - a Ready's MsgStorageAppend (to raft::kLocalAppendThread) goes to the
//     writer; once durable, the writer hands back its responses (the node's
//     own MsgStorageAppendResp, a follower's MsgAppResp to the leader),
//     which the loop delivers like any other message;
//   - committed entries come in MsgStorageApply (to raft::kLocalApplyThread):
//     the loop applies them, then delivers that message's responses;
//   - every other message of the Ready may be sent at once: raft holds back
//     the ones that must wait for the disk inside the append's responses.
// Exits 0 once every node has applied the same entries.

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/engine/log_writer.h"
#include "raftlog/raft/conf_change.h"
#include "raftlog/raft/logger.h"
#include "raftlog/raft/rawnode.h"
#include "raftlog/raft/util.h"

namespace {

namespace engine = raftlog::engine;
namespace raft = raftlog::raft;
using raftlog::Bytes;
using raftlog::Result;
using raftlog::Status;

void Check(const Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

// Messages handed back by the writers' threads, for the loop's thread.
class Mailbox {
 public:
  void Put(std::vector<raft::Message> msgs) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (raft::Message& m : msgs) msgs_.push_back(std::move(m));
    }
    cv_.notify_one();
  }
  // Everything there; waits up to `wait` for something if it is empty.
  std::vector<raft::Message> Take(std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, wait, [this] { return !msgs_.empty(); });
    std::vector<raft::Message> out;
    out.swap(msgs_);
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<raft::Message> msgs_;  // guarded by mu_
};

struct Node {
  uint64_t id = 0;
  std::unique_ptr<engine::DiskStorage> storage;
  std::unique_ptr<raft::RawNode> raft;
  std::unique_ptr<engine::LogWriter> writer;  // borrows storage: stopped first
  std::map<std::string, std::string> kv;     // the state machine
  std::vector<std::string> applied;          // the entries applied, in order
};

void Apply(Node& n, const std::vector<raft::Entry>& entries) {
  for (const raft::Entry& e : entries) {
    if (e.type != raft::EntryType::kNormal) {
      Result<raft::ConfChangeI> cc = raft::ConfChangeFromEntry(e);
      Check(cc.status(), "conf change");
      n.raft->ApplyConfChange(*cc);
      continue;
    }
    if (e.data.empty()) continue;  // a new leader's empty entry
    const std::string data = e.data.ToString();
    const size_t eq = data.find('=');
    n.kv[data.substr(0, eq)] = data.substr(eq + 1);
    n.applied.push_back(data);
    std::printf("node %" PRIu64 ": applied %" PRIu64 ": %s\n", n.id, e.index, data.c_str());
  }
}

// One node's Readies: the append to the writer, the committed entries
// applied here, the rest onto the network at once.
void HandleReadies(Node& n, std::deque<raft::Message>& network) {
  while (n.raft->HasReady()) {
    raft::Ready rd = n.raft->Ready();
    for (raft::Message& m : rd.messages) {
      if (m.to == raft::kLocalAppendThread) {
        n.writer->Submit(std::move(m));  // returns at once
      } else if (m.to == raft::kLocalApplyThread) {
        Apply(n, m.entries);
        for (raft::Message& resp : m.responses) network.push_back(std::move(resp));
      } else {
        network.push_back(std::move(m));
      }
    }
    // No Advance(): the responses above tell raft what was persisted and
    // applied.
  }
}

// Delivers what is on the network and what the writers handed back, until
// a short wait brings nothing more.
void DeliverAll(std::vector<Node>& nodes, std::deque<raft::Message>& network, Mailbox& written) {
  for (;;) {
    for (Node& n : nodes) HandleReadies(n, network);
    if (network.empty()) {
      std::vector<raft::Message> back = written.Take(std::chrono::milliseconds(20));
      if (back.empty()) return;
      for (raft::Message& m : back) network.push_back(std::move(m));
    }
    while (!network.empty()) {
      raft::Message m = std::move(network.front());
      network.pop_front();
      (void)nodes[m.to - 1].raft->Step(std::move(m));  // errors: stale messages, dropped
    }
  }
}

}  // namespace

int main() {
  char tmpl[] = "/tmp/raftlog-async-ready-loop-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  const std::filesystem::path dir = tmpl;
  raft::StderrLogger logger(raft::LogLevel::kWarning);
  Mailbox written;
  std::atomic<bool> write_failed{false};

  raft::Snapshot initial;  // the membership, as in examples/ready_loop.cc
  initial.metadata.index = 1;
  initial.metadata.term = 1;
  initial.metadata.conf_state.voters = {1, 2, 3};

  std::vector<Node> nodes(3);
  for (uint64_t id = 1; id <= 3; ++id) {
    Node& n = nodes[id - 1];
    n.id = id;
    Result<std::unique_ptr<engine::DiskStorage>> storage =
        engine::DiskStorage::Open(dir / ("node" + std::to_string(id)));
    Check(storage.status(), "DiskStorage::Open");
    n.storage = std::move(storage).value();
    Check(n.storage->ApplySnapshot(initial), "ApplySnapshot");

    raft::Config config;
    config.id = id;
    config.election_tick = 10;
    config.heartbeat_tick = 1;
    config.storage = n.storage.get();
    config.max_size_per_msg = 1 << 20;
    config.max_inflight_msgs = 256;
    config.async_storage_writes = true;
    config.logger = &logger;
    Result<std::unique_ptr<raft::RawNode>> rn = raft::RawNode::New(config);
    Check(rn.status(), "RawNode::New");
    n.raft = std::move(rn).value();

    // The writer's callbacks run on its thread: hand everything to the loop.
    n.writer = engine::NewThreadedLogWriter(
        n.storage.get(), [&written](std::vector<raft::Message> responses) {
          written.Put(std::move(responses));
        },
        [&write_failed, id](const Status& s) {
          // raft treats a storage error as fatal: a real node stops here.
          std::fprintf(stderr, "node %" PRIu64 ": log write failed: %s\n", id,
                       s.ToString().c_str());
          write_failed = true;
        });
  }

  const std::vector<std::string> proposals = {"x=1", "y=2", "x=3"};
  std::deque<raft::Message> network;
  size_t proposed = 0;
  bool done = false;
  for (int tick = 0; tick < 1000 && !done && !write_failed; ++tick) {
    for (Node& n : nodes) n.raft->Tick();
    DeliverAll(nodes, network, written);
    for (Node& n : nodes) {
      if (proposed < proposals.size() &&
          n.raft->GetBasicStatus().soft_state.raft_state == raft::StateType::kStateLeader &&
          n.raft->Propose(Bytes(proposals[proposed])).ok()) {
        std::printf("node %" PRIu64 ": proposed %s\n", n.id, proposals[proposed].c_str());
        ++proposed;
      }
    }
    DeliverAll(nodes, network, written);
    done = true;
    for (const Node& n : nodes) done = done && n.applied == proposals;
  }
  for (Node& n : nodes) n.writer->Stop();  // persists what it holds, then the thread ends
  if (done) {
    std::printf("all nodes applied the same %zu entries: x=%s y=%s\n", proposals.size(),
                nodes[0].kv["x"].c_str(), nodes[0].kv["y"].c_str());
  } else {
    std::fprintf(stderr, "the nodes did not all apply the entries\n");
  }
  nodes.clear();  // closes the storages
  std::filesystem::remove_all(dir);
  return done ? 0 : 1;
}
