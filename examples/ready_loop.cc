// A three-node raft cluster in one process: each node is a RawNode over a
// DiskStorage in its own directory, running the Ready loop of raftlog/raft/rawnode.h.
// The nodes elect a leader, the leader proposes a few "key=value" entries,
// and every node applies them to a tiny key-value map. Exits 0 once every
// node has applied the same entries. Messages travel through a queue; a real
// application sends them over its transport instead.

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/raft/conf_change.h"
#include "raftlog/raft/logger.h"
#include "raftlog/raft/rawnode.h"

namespace {

namespace engine = raftlog::engine;
namespace raft = raftlog::raft;
using raftlog::Bytes;
using raftlog::Result;
using raftlog::Status;

struct Node {
  uint64_t id = 0;
  std::unique_ptr<engine::DiskStorage> storage;
  std::unique_ptr<raft::RawNode> raft;
  std::map<std::string, std::string> kv;  // the state machine
  std::vector<std::string> applied;       // the entries applied, in order
};

void Check(const Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

// The Ready loop: everything the node has to do, in the contract's order.
void HandleReadies(Node& n, std::deque<raft::Message>& network) {
  while (n.raft->HasReady()) {
    raft::Ready rd = n.raft->Ready();
    if (rd.soft_state && rd.soft_state->raft_state == raft::StateType::kStateLeader) {
      std::printf("node %" PRIu64 ": became leader at term %" PRIu64 "\n", n.id,
                  n.raft->GetBasicStatus().hard_state.term);
    }
    // 1. Persist the HardState, snapshot and entries; durably if must_sync.
    Check(n.storage->Save(rd.hard_state, rd.entries, rd.snapshot.get(), rd.must_sync), "Save");
    // 2. Only now send the messages: they may acknowledge what was saved.
    for (raft::Message& m : rd.messages) network.push_back(std::move(m));
    // 3. Apply the snapshot, if any (this cluster never compacts its log,
    //    so there is none), then the committed entries, in order.
    for (const raft::Entry& e : rd.committed_entries) {
      if (e.type == raft::EntryType::kNormal) {
        if (e.data.empty()) continue;  // a new leader's empty entry
        const std::string data = e.data.ToString();
        const size_t eq = data.find('=');
        n.kv[data.substr(0, eq)] = data.substr(eq + 1);
        n.applied.push_back(data);
        std::printf("node %" PRIu64 ": applied %" PRIu64 ": %s\n", n.id, e.index, data.c_str());
      } else {
        Result<raft::ConfChangeI> cc = raft::ConfChangeFromEntry(e);
        Check(cc.status(), "conf change");
        n.raft->ApplyConfChange(*cc);
      }
    }
    // 4. Tell raft that this Ready is persisted and applied.
    n.raft->Advance();
  }
}

// Delivers every message in flight, and what the nodes answer, until quiet.
void DeliverAll(std::vector<Node>& nodes, std::deque<raft::Message>& network) {
  for (Node& n : nodes) HandleReadies(n, network);
  while (!network.empty()) {
    raft::Message m = std::move(network.front());
    network.pop_front();
    Node& to = nodes[m.to - 1];
    (void)to.raft->Step(std::move(m));  // errors: stale or unknown messages, dropped
    HandleReadies(to, network);
  }
}

}  // namespace

int main() {
  char tmpl[] = "/tmp/raftlog-ready-loop-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  const std::filesystem::path dir = tmpl;
  raft::StderrLogger logger(raft::LogLevel::kWarning);

  // A new group: each storage starts with the initial membership in a
  // snapshot at index 1, so the nodes need no bootstrap entries.
  raft::Snapshot initial;
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
    config.logger = &logger;
    Result<std::unique_ptr<raft::RawNode>> rn = raft::RawNode::New(config);
    Check(rn.status(), "RawNode::New");
    n.raft = std::move(rn).value();
  }

  const std::vector<std::string> proposals = {"x=1", "y=2", "x=3"};
  std::deque<raft::Message> network;
  size_t proposed = 0;
  bool done = false;
  for (int tick = 0; tick < 1000 && !done; ++tick) {
    for (Node& n : nodes) n.raft->Tick();
    DeliverAll(nodes, network);
    for (Node& n : nodes) {
      if (proposed < proposals.size() &&
          n.raft->GetBasicStatus().soft_state.raft_state == raft::StateType::kStateLeader &&
          n.raft->Propose(Bytes(proposals[proposed])).ok()) {
        std::printf("node %" PRIu64 ": proposed %s\n", n.id, proposals[proposed].c_str());
        ++proposed;
      }
    }
    DeliverAll(nodes, network);
    done = true;
    for (const Node& n : nodes) done = done && n.applied == proposals;
  }
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
