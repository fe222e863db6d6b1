// Cluster: a set of raftlog-kv server processes on 127.0.0.1, for the fault
// harness and the benchmark. It starts, kills, pauses and restarts nodes,
// sets the transport's fault hooks, changes the membership through the
// client API, and waits for a leader.
//
// Thread-safety: one controlling thread; Endpoints() may be called from any
// thread.

#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kv/process.h"
#include "raftlog/format/result.h"
#include "raftlog/format/status.h"
#include "raftlog/port/mutex.h"

namespace raftlog::kv {

struct ClusterOptions {
  std::string binary;  // raftlog-kv
  std::string dir;     // every node's data directory and log go below it
  std::string storage = "disk";
  int tick_ms = 50;
  int election_tick = 10;
  uint64_t snapshot_interval = 10000;
  uint64_t snapshot_keep = 5000;
  int request_timeout_ms = 1500;
  bool fault_hooks = false;
  std::string log_level = "info";
  bool unsafe_stale_reads = false;  // a deliberate bug, to test the harness
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options) : options_(std::move(options)) {}
  ~Cluster();

  // Starts nodes 1..n as a new cluster.
  Status Bootstrap(int n);
  // Starts a new node that joins the running cluster (not yet a member: add
  // it with ChangeMember). Returns its id.
  Result<uint64_t> StartJoiner();
  // Restarts a node that was killed (same id, port and directory).
  Status Restart(uint64_t id);
  void Kill(uint64_t id);
  void Pause(uint64_t id);
  void Resume(uint64_t id);
  // Forgets a node: kills it and deletes its directory.
  void Destroy(uint64_t id);

  // Asks one node; false if it did not answer.
  bool SetFault(uint64_t at, uint64_t peer, bool drop, uint32_t delay_ms);
  void ClearFaults();

  // The leader every live node agrees on, waiting up to timeout_ms; 0 if none.
  uint64_t WaitForLeader(int timeout_ms);
  // The configuration as the leader reports it: voter and learner ids.
  bool Members(std::vector<uint64_t>* voters, std::vector<uint64_t>* learners);

  // Nodes that ended without being told to (a crash, an abort, a sanitizer
  // report): one line each, since the last call. They are left stopped.
  std::vector<std::string> UnexpectedExits();

  std::vector<uint64_t> Ids() const;
  std::vector<uint64_t> LiveIds() const;  // running and not paused
  bool IsRunning(uint64_t id) const;
  std::string Addr(uint64_t id) const;
  // Client endpoints of every node the cluster has (running or not).
  std::vector<std::string> Endpoints() const;

 private:
  struct NodeProc {
    uint64_t id = 0;
    std::string addr;
    std::string dir;
    bool join = false;
    bool paused = false;
    std::string peers;  // --peers at its first start
    Process proc;
  };
  Status Launch(NodeProc* n);
  std::string PeersFlag() const REQUIRES(mu_);

  const ClusterOptions options_;
  uint64_t next_id_ = 1;
  mutable port::Mutex mu_;  // guards the map's shape (Endpoints from other threads)
  std::map<uint64_t, std::unique_ptr<NodeProc>> nodes_ GUARDED_BY(mu_);
};

}  // namespace raftlog::kv
