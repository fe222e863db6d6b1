// An in-process raft cluster for benchmarks and the main job's demo
// (bench/raft_cluster_bench.cc, bench/raft_cluster_demo.cc): 1..N RawNodes,
// each over its own storage backend, running the Ready loop of
// raftlog/raft/rawnode.h, with messages delivered in memory.
//
// The workload is rounds: the leader proposes `batch` entries of
// `entry_bytes` bytes at once, then the cluster runs until nothing is left to
// do: the leader persists them (one Save), sends MsgApp, the followers persist
// and acknowledge, the leader commits, applies and tells the followers, who
// apply too. A proposal's commit latency is the time from its Propose() call
// to the moment the leader applies it (committed and applied on the leader).
//
// Everything runs on the calling thread, one Ready at a time, in waves: every
// node steps the messages addressed to it, then every node with work handles
// one Ready. So the fsyncs of a round happen one after another (the leader's,
// then each follower's), where a real cluster on separate machines would
// overlap the followers'; the 3-node figures are what one disk does for
// the whole group, a lower bound for a deployed cluster.
//
// Entry data: a 15-digit sequence number and a space, then slices of the
// text-like corpus of bench_util.h (so `raftlog dump` shows readable data).
// The "state machine" counts the applied entries and bytes.
//
// To bound memory and disk, Compact() drops each node's log up to its
// applied index (minus keep_entries); callers do it when CompactionDue().
//
// Only public headers (the dependency rules of docs/architecture.md). Thread-compatible: one thread drives
// a Cluster.

#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_util.h"
#include "bench/lmdb_baseline.h"
#include "bench/payload_gen.h"
#include "raftlog/engine/options.h"
#include "raftlog/engine/disk_storage.h"
#include "raftlog/engine/stats.h"
#include "raftlog/format/result.h"
#include "raftlog/format/status.h"
#include "raftlog/raft/conf_change.h"
#include "raftlog/raft/config.h"
#include "raftlog/raft/logger.h"
#include "raftlog/raft/memory_storage.h"
#include "raftlog/raft/rawnode.h"
#include "raftlog/raft/ready.h"
#include "raftlog/raft/storage.h"
#include "raftlog/raft/types.h"

namespace raftlog::bench {

// The storage under every node of a cluster.
enum class Backend : uint8_t {
  kMemory,      // raft::MemoryStorage
  kDiskSync,    // engine::DiskStorage, default options (an fdatasync per Ready that must sync)
  kDiskNoSync,  // engine::DiskStorage with SyncPolicy::kNever
  kLmdbSync,    // bench/lmdb_baseline.h, LMDB's default durability
};

// The name used in benchmark names ("BM_RaftCluster/disk/sync/...").
inline std::string_view BackendName(Backend b) {
  switch (b) {
    case Backend::kMemory:
      return "memory";
    case Backend::kDiskSync:
      return "disk/sync";
    case Backend::kDiskNoSync:
      return "disk/nosync";
    case Backend::kLmdbSync:
      return "lmdb/sync";
  }
  return "?";
}

// The name for people ("DiskStorage (sync)").
inline std::string_view BackendTitle(Backend b) {
  switch (b) {
    case Backend::kMemory:
      return "MemoryStorage";
    case Backend::kDiskSync:
      return "DiskStorage (sync)";
    case Backend::kDiskNoSync:
      return "DiskStorage (no sync)";
    case Backend::kLmdbSync:
      return "LMDB key/entry (sync)";
  }
  return "?";
}

inline bool IsDisk(Backend b) { return b == Backend::kDiskSync || b == Backend::kDiskNoSync; }

// A cluster member's RawNode with the settings both cluster benchmarks use:
// etcd's usual ticks, 1 MiB messages, 256 messages in flight, applied from
// the membership snapshot at index 1. With `async_storage_writes` the
// node's writes go out as MsgStorageAppend / MsgStorageApply (the pipelined
// mode of raft_window_cluster.h).
inline Result<std::unique_ptr<raft::RawNode>> NewBenchRawNode(uint64_t id, raft::Storage* storage,
                                                              raft::Logger* logger,
                                                              bool async_storage_writes = false) {
  raft::Config config;
  config.id = id;
  config.election_tick = 10;
  config.heartbeat_tick = 1;
  config.storage = storage;
  config.applied = 1;
  config.max_size_per_msg = 1u << 20;
  config.max_inflight_msgs = 256;
  config.logger = logger;
  config.async_storage_writes = async_storage_writes;
  return raft::RawNode::New(config);
}

struct ClusterOptions {
  Backend backend = Backend::kMemory;
  int nodes = 3;
  // For the on-disk backends: node k keeps its log in <dir>/node<k>. Must
  // exist. Unused for kMemory.
  std::string dir;
  size_t entry_bytes = 1024;  // data bytes per proposal; at least 16
  size_t batch = 64;          // proposals per round
  // CompactionDue() after this many bytes of entry data applied on the
  // leader since the last Compact(); 0: never.
  uint64_t compact_every_bytes = 64u << 20;
  // Entries left below each node's applied index by Compact().
  uint64_t keep_entries = 0;
  // Entry data: slices of this kind's payloads (payload_gen.h); nullopt:
  // the text corpus of bench_util.h.
  std::optional<PayloadKind> payload;
};

class Cluster {
 public:
  // Opens every node's storage (a new group: the initial membership
  // {1..nodes} in a snapshot at index 1, as examples/ready_loop.cc does),
  // creates the RawNodes, elects node 1 and runs until the cluster is quiet.
  // Errors: the storages' (Open, ApplySnapshot, Save), or kUnavailable if
  // node 1 did not become leader.
  static Result<std::unique_ptr<Cluster>> Start(const ClusterOptions& options) {
    if (options.nodes < 1 || options.entry_bytes < 16 || options.batch < 1) {
      return Status::InvalidArgument("cluster: need nodes >= 1, entry_bytes >= 16, batch >= 1");
    }
    std::unique_ptr<Cluster> c(new Cluster(options));
    raft::Snapshot initial;
    initial.metadata.index = 1;
    initial.metadata.term = 1;
    for (int id = 1; id <= options.nodes; ++id) {
      initial.metadata.conf_state.voters.push_back(static_cast<uint64_t>(id));
    }
    for (int id = 1; id <= options.nodes; ++id) {
      auto n = std::make_unique<Node>();
      n->id = static_cast<uint64_t>(id);
      RAFTLOG_RETURN_IF_ERROR(c->OpenStorage(n.get()));
      RAFTLOG_RETURN_IF_ERROR(n->storage->ApplySnapshot(initial));
      n->applied = 1;
      n->compacted = 1;
      Result<std::unique_ptr<raft::RawNode>> rn =
          NewBenchRawNode(n->id, n->storage.get(), c->logger_.get());
      if (!rn.ok()) return rn.status();
      n->raft = std::move(rn).value();
      c->nodes_.push_back(std::move(n));
    }
    RAFTLOG_RETURN_IF_ERROR(c->nodes_[0]->raft->Campaign());
    RAFTLOG_RETURN_IF_ERROR(c->RunUntilQuiet());
    if (c->nodes_[0]->raft->GetBasicStatus().soft_state.raft_state !=
        raft::StateType::kStateLeader) {
      return Status::Unavailable("cluster: node 1 did not become leader");
    }
    return c;
  }

  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // One round: proposes options.batch entries on the leader (node 1) and
  // runs until the cluster is quiet. Appends the commit latency of each
  // proposal, in seconds, to *latencies (if not null). Errors: the
  // storages'; kUnavailable if the leader dropped a proposal or the round
  // ended with proposals not applied.
  Status Round(std::vector<double>* latencies) {
    Node& leader = *nodes_[0];
    round_first_seq_ = next_seq_;
    round_latencies_ = latencies;
    round_applied_ = 0;
    propose_times_.resize(options_.batch);
    for (size_t k = 0; k < options_.batch; ++k) {
      std::string data = MakeData(next_seq_);
      propose_times_[k] = std::chrono::steady_clock::now();
      Status s = leader.raft->Propose(std::move(data));
      if (!s.ok()) return Status::Unavailable("cluster: proposal dropped: " + s.ToString());
      ++next_seq_;
    }
    RAFTLOG_RETURN_IF_ERROR(RunUntilQuiet());
    round_latencies_ = nullptr;
    if (round_applied_ != options_.batch) {
      return Status::Unavailable("cluster: round ended with " + std::to_string(round_applied_) +
                                 " of " + std::to_string(options_.batch) + " proposals applied");
    }
    committed_ += options_.batch;
    return Status::OK();
  }

  bool CompactionDue() const {
    return options_.compact_every_bytes > 0 && since_compact_bytes_ >= options_.compact_every_bytes;
  }

  // Compacts each node's log up to its applied index minus keep_entries
  // (every follower has acknowledged everything once a round is over, so the
  // leader never needs a compacted entry).
  Status Compact() {
    for (auto& n : nodes_) {
      if (n->applied <= options_.keep_entries) continue;
      const uint64_t target = n->applied - options_.keep_entries;
      if (target <= n->compacted) continue;
      Status s = n->storage->Compact(target);
      if (!s.ok() && !s.IsCompacted()) return s;
      n->compacted = target;
    }
    since_compact_bytes_ = 0;
    return Status::OK();
  }

  // Proposals committed and applied on the leader by Round() so far.
  uint64_t committed() const { return committed_; }
  // The leader's applied index.
  uint64_t leader_applied() const { return nodes_[0]->applied; }
  int size() const { return static_cast<int>(nodes_.size()); }
  // The DiskStorage of node `id` (1-based), or nullptr for other backends.
  const engine::DiskStorage* disk(int id) const { return nodes_[id - 1]->disk; }
  // Where node `id` keeps its log (on-disk backends).
  std::string node_dir(int id) const { return options_.dir + "/node" + std::to_string(id); }

  // Engine statistics summed over the nodes (DiskStorage only; zero
  // otherwise): fdatasyncs of segment files and LMDB metadata commits.
  struct SyncCounts {
    uint64_t log_syncs = 0;
    uint64_t meta_commits = 0;
  };
  SyncCounts Syncs() const {
    SyncCounts c;
    for (const auto& n : nodes_) {
      if (n->disk == nullptr) continue;
      const engine::Stats st = n->disk->engine().GetStats();
      c.log_syncs += st.log_syncs;
      c.meta_commits += st.meta_commits;
    }
    return c;
  }

  // Where the time of RunUntilQuiet went, in seconds, summed over the nodes
  // since Start: RawNode::Step of delivered messages; RawNode::Ready (this is
  // where the raft core reads committed entries back from the storage to
  // apply them); WritableStorage::Save; applying and Advance. save_stalled is
  // the time of Saves slower than 1 ms (an fdatasync queued behind other
  // writes, a segment roll, the kernel throttling a writer).
  struct PhaseTimes {
    double step = 0, ready = 0, save = 0, apply = 0, save_stalled = 0;
    uint64_t readies = 0;
  };
  const PhaseTimes& phases() const { return phases_; }

  // The sequence number that entry data made by this cluster starts with,
  // or -1 if `data` is not such an entry.
  static int64_t ParseSeq(std::string_view data) {
    if (data.size() < 16 || data[15] != ' ') return -1;
    int64_t v = 0;
    for (int k = 0; k < 15; ++k) {
      const char ch = data[static_cast<size_t>(k)];
      if (ch < '0' || ch > '9') return -1;
      v = v * 10 + (ch - '0');
    }
    return v;
  }

 private:
  struct Node {
    uint64_t id = 0;
    // Declared before raft: the RawNode borrows the storage and goes first.
    std::unique_ptr<raft::WritableStorage> storage;
    engine::DiskStorage* disk = nullptr;  // storage, when it is a DiskStorage
    std::unique_ptr<raft::RawNode> raft;
    std::vector<raft::Message> inbox;
    uint64_t applied = 0;    // index of the last entry applied
    uint64_t compacted = 0;  // the storage's compaction point, as far as we compacted
  };

  explicit Cluster(const ClusterOptions& options)
      : options_(options),
        logger_(std::make_unique<raft::StderrLogger>(raft::LogLevel::kWarning)),
        corpus_(options.payload.has_value()
                    ? PayloadSource(PayloadCorpus(*options.payload, PayloadSource::kCorpusBytes,
                                                  20240603))
                    : PayloadSource(Payload::kText, 20240603)) {}

  Status OpenStorage(Node* n) {
    switch (options_.backend) {
      case Backend::kMemory:
        n->storage = std::make_unique<raft::MemoryStorage>();
        return Status::OK();
      case Backend::kDiskSync:
      case Backend::kDiskNoSync: {
        engine::DiskStorageOptions opts;
        if (options_.backend == Backend::kDiskNoSync) opts.engine.sync = engine::SyncPolicy::kNever;
        Result<std::unique_ptr<engine::DiskStorage>> s =
            engine::DiskStorage::Open(node_dir(static_cast<int>(n->id)), opts);
        if (!s.ok()) return s.status();
        n->disk = s->get();
        n->storage = std::move(s).value();
        return Status::OK();
      }
      case Backend::kLmdbSync: {
        Result<std::unique_ptr<LmdbLogStorage>> s =
            LmdbLogStorage::Open(node_dir(static_cast<int>(n->id)));
        if (!s.ok()) return s.status();
        n->storage = std::move(s).value();
        return Status::OK();
      }
    }
    return Status::InvalidArgument("cluster: unknown backend");
  }

  // 15 decimal digits of seq, a space, then corpus bytes (ParseSeq reads it).
  std::string MakeData(uint64_t seq) const {
    std::string data(options_.entry_bytes, ' ');
    for (uint64_t v = seq, k = 15; k-- > 0; v /= 10) {
      data[static_cast<size_t>(k)] = static_cast<char>('0' + v % 10);
    }
    const std::string_view body = corpus_.Slice(seq, options_.entry_bytes - 16);
    std::memcpy(data.data() + 16, body.data(), body.size());
    return data;
  }

  // Waves until no node has a message to step or a Ready to handle.
  Status RunUntilQuiet() {
    for (;;) {
      bool busy = false;
      for (auto& n : nodes_) {
        std::vector<raft::Message> inbox;
        inbox.swap(n->inbox);
        if (inbox.empty()) continue;
        const auto t0 = Clock::now();
        for (raft::Message& m : inbox) {
          // Errors are stale or unknown messages, dropped as a transport would.
          (void)n->raft->Step(std::move(m));
        }
        phases_.step += Seconds(t0, Clock::now());
        busy = true;
      }
      for (auto& n : nodes_) {
        if (!n->raft->HasReady()) continue;
        busy = true;
        RAFTLOG_RETURN_IF_ERROR(HandleReady(*n));
      }
      if (!busy) return Status::OK();
    }
  }

  // One Ready, in the contract's order: persist, send, apply, Advance.
  Status HandleReady(Node& n) {
    const auto t0 = Clock::now();
    raft::Ready rd = n.raft->Ready();
    const auto t1 = Clock::now();
    RAFTLOG_RETURN_IF_ERROR(
        n.storage->Save(rd.hard_state, rd.entries, rd.snapshot.get(), rd.must_sync));
    const auto t2 = Clock::now();
    phases_.ready += Seconds(t0, t1);
    const double save = Seconds(t1, t2);
    phases_.save += save;
    if (save > 1e-3) phases_.save_stalled += save;
    ++phases_.readies;
    for (raft::Message& m : rd.messages) {
      if (m.to >= 1 && m.to <= nodes_.size()) nodes_[m.to - 1]->inbox.push_back(std::move(m));
    }
    if (rd.HasSnapshot()) n.applied = rd.snapshot->metadata.index;
    const bool is_leader = &n == nodes_[0].get();
    const auto now = t2;  // the entries are applied now
    for (const raft::Entry& e : rd.committed_entries) {
      n.applied = e.index;
      if (e.type != raft::EntryType::kNormal) {
        Result<raft::ConfChangeI> cc = raft::ConfChangeFromEntry(e);
        if (!cc.ok()) return cc.status();
        n.raft->ApplyConfChange(*cc);
        continue;
      }
      if (!is_leader || e.data.empty()) continue;
      since_compact_bytes_ += e.data.size();
      const int64_t seq = ParseSeq(e.data);
      if (seq < 0 || static_cast<uint64_t>(seq) < round_first_seq_) continue;
      const uint64_t k = static_cast<uint64_t>(seq) - round_first_seq_;
      if (k >= propose_times_.size()) continue;
      ++round_applied_;
      if (round_latencies_ != nullptr) {
        round_latencies_->push_back(std::chrono::duration<double>(now - propose_times_[k]).count());
      }
    }
    n.raft->Advance();
    phases_.apply += Seconds(t2, Clock::now());
    return Status::OK();
  }

  using Clock = std::chrono::steady_clock;
  static double Seconds(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  }

  const ClusterOptions options_;
  std::unique_ptr<raft::Logger> logger_;  // borrowed by the RawNodes: outlives them
  PayloadSource corpus_;
  std::vector<std::unique_ptr<Node>> nodes_;  // nodes_[k] has id k+1; node 1 leads

  uint64_t next_seq_ = 0;   // sequence number of the next proposal
  uint64_t committed_ = 0;  // proposals applied on the leader in rounds
  uint64_t since_compact_bytes_ = 0;
  // The current round: its first sequence number, the Propose() time of
  // each of its proposals (index seq - round_first_seq_), how many the
  // leader applied, where their latencies go.
  uint64_t round_first_seq_ = 0;
  std::vector<std::chrono::steady_clock::time_point> propose_times_;
  size_t round_applied_ = 0;
  std::vector<double>* round_latencies_ = nullptr;
  PhaseTimes phases_;
};

// The q-quantile (0..1) of `values` by nearest rank; reorders *values
// (nth_element). 0 if empty.
inline double Quantile(std::vector<double>* values, double q) {
  if (values->empty()) return 0;
  const double rank = std::ceil(q * static_cast<double>(values->size()));
  const size_t k = std::min(static_cast<size_t>(std::max(1.0, rank)) - 1, values->size() - 1);
  std::nth_element(values->begin(), values->begin() + static_cast<ptrdiff_t>(k), values->end());
  return (*values)[k];
}

}  // namespace raftlog::bench
