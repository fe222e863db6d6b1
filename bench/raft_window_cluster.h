// The windowed workload of the raft cluster benchmark (raft_cluster_bench
// --windowed): the same workload as the etcd raft peer in bench/etcd
// (cluster.go), so that the two give "raftlog ÷ etcd raft" ratios when run
// side by side (scripts/cluster_vs_etcd.sh).
//
// One thread drives N in-process RawNodes (messages delivered in memory):
//   - the leader (node 1) keeps `window` proposals in flight: before every
//     wave it calls Propose once per entry until `window` are uncommitted;
//   - payloads come from a pool of `pool_size` prepared buffers (an 8-byte
//     little-endian tag k, then fixed pseudo-random bytes, or slices of a
//     bench/payload_gen.h corpus with `payload`), so the loop
//     makes no payload; Propose shares the buffer (raftlog::Bytes), as etcd's
//     Propose keeps the caller's slice;
//   - waves: every node steps the messages addressed to it, then every node
//     with a Ready handles one: persist (WritableStorage::Save), send, apply,
//     Advance; a Ready is persisted before any of its messages is delivered;
//   - every node applies every committed entry and checks it: its size, and
//     that its tag is the next pool buffer in proposal order;
//   - every `compact_every` applied entries a node takes a snapshot at its
//     applied index (CreateSnapshot, no data) and compacts keeping
//     `keep_entries` below it;
//   - latency per entry: from its Propose call to the leader's Ready that
//     hands it over in committed_entries, timed right after that Ready was
//     persisted.
//
// Pipelined mode (`pipelined`, DiskStorage with or without sync): the nodes run with
// Config::async_storage_writes and each has an engine::LogWriter on its own
// thread. A Ready's MsgStorageAppend goes to the node's writer and the loop
// goes on at once (stepping, sending, applying, proposing); appends that
// arrive while the writer's fdatasync is in flight join the next one (group
// commit). Once durable, the writer hands the message's responses (the
// MsgStorageAppendResp to the node itself, a follower's MsgAppResp to the
// leader) back to the driving thread, which delivers them in its next wave.
// Committed entries arrive in MsgStorageApply and are applied on the driving
// thread; an entry's latency is timed when the leader applies it. When no
// node has anything to do while writes are in flight, the driving thread
// sleeps until a writer finishes (it does not spin against the writers for
// the machine's cores).
//
// Only public headers. Thread-compatible: one thread drives a WindowCluster
// (in pipelined mode the writers' threads are internal to it).

#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench/payload_gen.h"
#include "bench/raft_cluster.h"
#include "raftlog/engine/disk_storage.h"
#include "raftlog/engine/log_writer.h"
#include "raftlog/engine/options.h"
#include "raftlog/engine/stats.h"
#include "raftlog/format/bytes.h"
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
#include "raftlog/raft/util.h"

namespace raftlog::bench {

struct WindowOptions {
  Backend backend = Backend::kMemory;  // kMemory, kDiskSync or kDiskNoSync
  // DiskStorage only: asynchronous storage writes through a LogWriter thread
  // per node (the header comment's pipelined mode).
  bool pipelined = false;
  int nodes = 3;
  std::string dir;  // on-disk backends: node k logs to <dir>/node<k>; must exist
  size_t entry_bytes = 1024;  // at least 16
  size_t window = 256;
  uint64_t compact_every = 100000;  // applied entries between a node's compactions; 0: never
  uint64_t keep_entries = 5000;     // entries kept below the snapshot index
  size_t pool_size = 1024;
  // The bytes after each buffer's tag: xorshift noise (nullopt, the Go
  // peer's bytes) or consecutive slices of a payload_gen.h corpus, which
  // compress as that application's entries do.
  std::optional<PayloadKind> payload;
  // On-disk backends: Options::compression_mode of every node's log.
  engine::CompressionMode compression = engine::CompressionMode::kOff;
  // On-disk backends: engine::Options::recycled_segments (-1: its default).
  int recycled_segments = -1;
};

// The prepared payload buffers: buffer k starts with k as a little-endian
// uint64, then xorshift64 bytes from a fixed seed (the bytes of the Go peer),
// or with `kind`, the k-th slice of that kind's corpus (seed 20240603).
inline std::vector<Bytes> MakePayloadPool(size_t n, size_t size,
                                          std::optional<PayloadKind> kind = std::nullopt) {
  std::vector<Bytes> pool;
  pool.reserve(n);
  const std::string corpus =
      kind.has_value() ? PayloadCorpus(*kind, n * (size - 8), 20240603) : std::string();
  uint64_t x = 20240603;
  for (size_t k = 0; k < n; ++k) {
    std::string b(size, '\0');
    const uint64_t tag = k;
    std::memcpy(b.data(), &tag, sizeof(tag));  // little-endian on every target we build for
    if (kind.has_value()) {
      std::memcpy(b.data() + 8, corpus.data() + k * (size - 8), size - 8);
      pool.emplace_back(std::move(b));
      continue;
    }
    for (size_t i = 8; i < size; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      b[i] = static_cast<char>(x);
    }
    pool.emplace_back(std::move(b));
  }
  return pool;
}

class WindowCluster {
 public:
  // Counters of a run; ResetCounters() clears them after the warm-up.
  struct Counters {
    uint64_t committed = 0;             // data entries the leader saw committed
    std::vector<int64_t> latencies_ns;  // Propose -> leader sees it committed, per entry
    uint64_t readies = 0;               // Readies handled, all nodes
    uint64_t compactions = 0;           // node snapshots + compactions
    uint64_t snapshots_installed = 0;   // snapshots a lagging node received from the leader
    // Where a stall can come from on the driving thread: the longest Save
    // (synchronous mode), and the time in snapshots + compactions.
    int64_t save_max_ns = 0;
    int64_t compact_ns = 0;
    int64_t compact_max_ns = 0;
    int64_t snapshot_max_ns = 0;  // ... of which CreateSnapshot
    int64_t truncate_max_ns = 0;  // ... and Compact
  };

  // Opens every node's storage with the membership {1..nodes} in a snapshot
  // at index 1, elects node 1 and runs until the cluster is quiet. Errors:
  // the storages', kInvalidArgument for bad options, kUnavailable if node 1
  // did not become leader.
  static Result<std::unique_ptr<WindowCluster>> Start(const WindowOptions& options) {
    if (options.nodes < 1 || options.entry_bytes < 16 || options.window < 1 ||
        options.pool_size < 1 || options.backend == Backend::kLmdbSync ||
        (options.pipelined && options.backend != Backend::kDiskSync &&
         options.backend != Backend::kDiskNoSync)) {
      return Status::InvalidArgument(
          "window cluster: need nodes >= 1, entry_bytes >= 16, window >= 1, pool >= 1, "
          "memory or disk storage, and disk storage for the pipelined mode");
    }
    std::unique_ptr<WindowCluster> c(new WindowCluster(options));
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
      n->conf_state = initial.metadata.conf_state;
      Result<std::unique_ptr<raft::RawNode>> rn =
          NewBenchRawNode(n->id, n->storage.get(), c->logger_.get(), options.pipelined);
      if (!rn.ok()) return rn.status();
      n->raft = std::move(rn).value();
      if (options.pipelined) c->StartWriter(n.get());
      c->nodes_.push_back(std::move(n));
    }
    RAFTLOG_RETURN_IF_ERROR(c->nodes_[0]->raft->Campaign());
    for (;;) {
      Result<bool> busy = c->Wave();
      if (!busy.ok()) return busy.status();
      if (*busy) continue;
      Result<bool> writing = c->AwaitWriters();
      if (!writing.ok()) return writing.status();
      if (!*writing) break;
    }
    if (c->nodes_[0]->raft->GetBasicStatus().soft_state.raft_state !=
        raft::StateType::kStateLeader) {
      return Status::Unavailable("window cluster: node 1 did not become leader");
    }
    // Node 1 leads from here on, so every later entry is a proposal of Step.
    Result<uint64_t> last = c->nodes_[0]->storage->LastIndex();
    if (!last.ok()) return last.status();
    c->first_data_index_ = *last + 1;
    return c;
  }

  WindowCluster(const WindowCluster&) = delete;
  WindowCluster& operator=(const WindowCluster&) = delete;
  // Stops the writers (each persists what it was given) before the nodes and
  // their storages go.
  ~WindowCluster() {
    for (auto& n : nodes_) {
      if (n->writer != nullptr) n->writer->Stop();
    }
  }

  // Tops the leader's proposals up to the window, then runs one wave.
  // Errors: a dropped proposal, the storages', a failed apply check.
  Status Step() {
    raft::RawNode& leader = *nodes_[0]->raft;
    while (proposed_ - acked_ < options_.window) {
      const uint64_t seq = proposed_;
      propose_times_[seq % options_.window] = Clock::now();
      Status s = leader.Propose(pool_[seq % pool_.size()]);
      if (!s.ok()) {
        return Status::Unavailable("window cluster: proposal " + std::to_string(seq) +
                                   " dropped: " + s.ToString());
      }
      ++proposed_;
    }
    Result<bool> busy = Wave();
    if (!busy.ok() || *busy) return busy.status();
    return AwaitWriters().status();
  }

  Counters& counters() { return counters_; }
  void ResetCounters() {
    counters_ = Counters();
    counters_.latencies_ns.reserve(1u << 20);
  }
  // Segment fdatasyncs of all nodes (DiskStorage; 0 otherwise).
  uint64_t LogSyncs() const {
    uint64_t syncs = 0;
    for (const auto& n : nodes_) {
      if (n->disk != nullptr) syncs += n->disk->engine().GetStats().log_syncs;
    }
    return syncs;
  }
  // What the cold-segment workers of all nodes did (compression
  // kColdSegments): sealed segments compressed and the bytes that saved.
  struct ColdWork {
    uint64_t segments = 0;
    uint64_t bytes_saved = 0;
  };
  ColdWork ColdWorkDone() const {
    ColdWork cold;
    for (const auto& n : nodes_) {
      if (n->disk == nullptr) continue;
      const engine::Stats st = n->disk->engine().GetStats();
      cold.segments += st.cold_segments_compressed;
      cold.bytes_saved += st.cold_bytes_saved;
    }
    return cold;
  }
  // Per node (index id-1): frame bytes its DiskStorage wrote and its segment
  // fdatasyncs (zeros for MemoryStorage).
  // busy_ns: time spent persisting (Save on the driving thread, or the
  // pipelined writer's time persisting batches).
  struct LogWork {
    uint64_t bytes = 0;
    uint64_t syncs = 0;
    uint64_t busy_ns = 0;
  };
  std::vector<LogWork> LogWorkByNode() const {
    std::vector<LogWork> work(nodes_.size());
    for (size_t k = 0; k < nodes_.size(); ++k) {
      if (nodes_[k]->disk == nullptr) continue;
      const engine::Stats st = nodes_[k]->disk->engine().GetStats();
      const uint64_t busy =
          nodes_[k]->writer != nullptr ? nodes_[k]->writer->busy_ns() : nodes_[k]->save_ns;
      work[k] = {st.bytes_written, st.log_syncs, busy};
    }
    return work;
  }
  int size() const { return static_cast<int>(nodes_.size()); }
  const engine::DiskStorage* disk(int id) const { return nodes_[id - 1]->disk; }
  std::string node_dir(int id) const { return options_.dir + "/node" + std::to_string(id); }

 private:
  using Clock = std::chrono::steady_clock;

  struct Node {
    uint64_t id = 0;
    // Declared before raft and writer: the RawNode and the writer borrow the
    // storage and go first (the cluster's destructor stops the writer).
    std::unique_ptr<raft::WritableStorage> storage;
    engine::DiskStorage* disk = nullptr;  // storage, when it is a DiskStorage
    std::unique_ptr<raft::RawNode> raft;
    std::unique_ptr<engine::LogWriter> writer;  // pipelined mode only
    std::vector<raft::Message> inbox;
    std::vector<raft::Message> spare;  // the previous inbox's array, reused
    uint64_t applied = 1;              // index of the last entry applied
    // Data entries applied: the next one must carry pool tag
    // data_applied % pool_size (every node applies the same sequence).
    uint64_t data_applied = 0;
    uint64_t snap_index = 1;  // index of the last snapshot taken
    uint64_t save_ns = 0;     // time in WritableStorage::Save (synchronous mode)
    raft::ConfState conf_state;
  };

  explicit WindowCluster(const WindowOptions& options)
      : options_(options),
        logger_(std::make_unique<raft::StderrLogger>(raft::LogLevel::kWarning)),
        pool_(MakePayloadPool(options.pool_size, options.entry_bytes, options.payload)),
        propose_times_(options.window) {
    ResetCounters();
  }

  Status OpenStorage(Node* n) {
    if (options_.backend == Backend::kMemory) {
      n->storage = std::make_unique<raft::MemoryStorage>();
      return Status::OK();
    }
    engine::DiskStorageOptions opts;
    if (options_.backend == Backend::kDiskNoSync) opts.engine.sync = engine::SyncPolicy::kNever;
    opts.engine.compression_mode = options_.compression;
    if (options_.recycled_segments >= 0) {
      opts.engine.recycled_segments = options_.recycled_segments;
    }
    Result<std::unique_ptr<engine::DiskStorage>> s =
        engine::DiskStorage::Open(node_dir(static_cast<int>(n->id)), opts);
    if (!s.ok()) return s.status();
    n->disk = s->get();
    n->storage = std::move(s).value();
    return Status::OK();
  }

  // Pipelined mode: the node's writer hands each durable append's responses
  // to the driving thread through done_.
  void StartWriter(Node* n) {
    n->writer = engine::NewThreadedLogWriter(
        n->storage.get(),
        [this](std::vector<raft::Message> responses) {
          {
            std::lock_guard<std::mutex> lock(done_mu_);
            for (raft::Message& m : responses) done_.push_back(std::move(m));
            --writes_in_flight_;
          }
          done_cv_.notify_one();
        },
        [this](const Status& s) {
          {
            std::lock_guard<std::mutex> lock(done_mu_);
            if (write_error_.ok()) write_error_ = s;
          }
          done_cv_.notify_one();
        });
  }

  // Pipelined mode, when no node has anything to do: waits until a writer
  // hands back responses. Returns whether writes are still in flight (or
  // responses wait to be delivered); false at once in the other modes.
  // Errors: a writer's failure.
  Result<bool> AwaitWriters() {
    if (!options_.pipelined) return false;
    std::unique_lock<std::mutex> lock(done_mu_);
    done_cv_.wait_for(lock, std::chrono::milliseconds(100), [this] {
      return !done_.empty() || writes_in_flight_ == 0 || !write_error_.ok();
    });
    if (!write_error_.ok()) return write_error_;
    return !done_.empty() || writes_in_flight_ > 0;
  }

  // Delivers the responses the writers handed back: to the inbox of the node
  // they are addressed to (the writer's own node or a peer).
  bool DeliverWritten() {
    if (!options_.pipelined) return false;
    std::vector<raft::Message> done;
    {
      std::lock_guard<std::mutex> lock(done_mu_);
      done.swap(done_);
    }
    for (raft::Message& m : done) {
      if (m.type == raft::MessageType::kMsgStorageAppendResp && m.snapshot != nullptr &&
          m.to >= 1 && m.to <= nodes_.size()) {
        // The snapshot is in the node's storage now: the node's state is it.
        Installed(*nodes_[m.to - 1], *m.snapshot);
      }
      Route(std::move(m));
    }
    return !done.empty();
  }

  // A snapshot from the leader is in n's storage: n's state is the
  // snapshot's, and the data entries it covers count as applied.
  void Installed(Node& n, const raft::Snapshot& snap) {
    n.applied = snap.metadata.index;
    n.snap_index = n.applied;
    n.conf_state = snap.metadata.conf_state;
    n.data_applied = n.applied >= first_data_index_ ? n.applied - first_data_index_ + 1 : 0;
    ++counters_.snapshots_installed;
  }

  void Route(raft::Message m) {
    if (m.to >= 1 && m.to <= nodes_.size()) nodes_[m.to - 1]->inbox.push_back(std::move(m));
  }

  // Every node steps its inbox, then every node with a Ready handles one.
  // Returns whether any node had something to do.
  Result<bool> Wave() {
    bool busy = DeliverWritten();
    for (auto& n : nodes_) {
      if (n->inbox.empty()) continue;
      busy = true;
      std::vector<raft::Message> msgs;
      msgs.swap(n->inbox);
      n->inbox.swap(n->spare);
      for (raft::Message& m : msgs) {
        // Errors are stale or unknown messages, dropped as a transport would.
        (void)n->raft->Step(std::move(m));
      }
      msgs.clear();
      n->spare.swap(msgs);
    }
    for (auto& n : nodes_) {
      if (!n->raft->HasReady()) continue;
      busy = true;
      RAFTLOG_RETURN_IF_ERROR(HandleReady(*n));
    }
    return busy;
  }

  Status HandleReady(Node& n) {
    raft::Ready rd = n.raft->Ready();
    ++counters_.readies;
    if (options_.pipelined) return HandleReadyPipelined(n, rd);
    const auto saving = Clock::now();
    RAFTLOG_RETURN_IF_ERROR(
        n.storage->Save(rd.hard_state, rd.entries, rd.snapshot.get(), rd.must_sync));
    const auto now = Clock::now();  // persisted: the entries are applied now
    const int64_t saved_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - saving).count();
    n.save_ns += static_cast<uint64_t>(saved_ns);
    counters_.save_max_ns = std::max(counters_.save_max_ns, saved_ns);
    for (raft::Message& m : rd.messages) Route(std::move(m));
    if (rd.HasSnapshot()) Installed(n, *rd.snapshot);
    RAFTLOG_RETURN_IF_ERROR(Apply(n, rd.committed_entries, now));
    n.raft->Advance();
    return MaybeCompact(n);
  }

  // Asynchronous storage writes: the append goes to the writer, committed
  // entries are applied here, everything else is sent at once (raft holds
  // back what must wait for the append: it rides in the append's responses).
  // A snapshot from the leader counts as applied only once its append is
  // durable: DeliverWritten takes it from the MsgStorageAppendResp.
  Status HandleReadyPipelined(Node& n, raft::Ready& rd) {
    for (raft::Message& m : rd.messages) {
      if (m.to == raft::kLocalAppendThread) {
        {
          std::lock_guard<std::mutex> lock(done_mu_);
          ++writes_in_flight_;
        }
        n.writer->Submit(std::move(m));
      } else if (m.to == raft::kLocalApplyThread) {
        RAFTLOG_RETURN_IF_ERROR(Apply(n, m.entries, Clock::now()));
        for (raft::Message& resp : m.responses) Route(std::move(resp));
      } else {
        Route(std::move(m));
      }
    }
    return MaybeCompact(n);
  }

  // Applies committed entries (conf changes to the RawNode, data checked);
  // on the leader, records each data entry's commit latency as of `now`.
  Status Apply(Node& n, const std::vector<raft::Entry>& entries, Clock::time_point now) {
    const bool is_leader = &n == nodes_[0].get();
    for (const raft::Entry& e : entries) {
      n.applied = e.index;
      if (e.type != raft::EntryType::kNormal) {
        Result<raft::ConfChangeI> cc = raft::ConfChangeFromEntry(e);
        if (!cc.ok()) return cc.status();
        n.conf_state = n.raft->ApplyConfChange(*cc);
        continue;
      }
      if (e.data.empty()) continue;  // a new leader's empty entry
      RAFTLOG_RETURN_IF_ERROR(Check(n, e));
      if (is_leader) {
        const uint64_t seq = acked_;
        if (seq >= proposed_) {
          return Status::Corruption("window cluster: leader committed entry " +
                                    std::to_string(seq) + " of " + std::to_string(proposed_) +
                                    " proposed");
        }
        counters_.latencies_ns.push_back(
            std::chrono::duration_cast<std::chrono::nanoseconds>(
                now - propose_times_[seq % options_.window])
                .count());
        ++acked_;
        ++counters_.committed;
      }
    }
    return Status::OK();
  }

  Status MaybeCompact(Node& n) {
    if (options_.compact_every > 0 && n.applied - n.snap_index >= options_.compact_every) {
      return Compact(n);
    }
    return Status::OK();
  }

  // The size, and that the tag is the next pool buffer in proposal order.
  Status Check(Node& n, const raft::Entry& e) {
    const uint64_t want = n.data_applied % pool_.size();
    uint64_t got = 0;
    if (e.data.size() >= sizeof(got)) std::memcpy(&got, e.data.data(), sizeof(got));
    if (e.data.size() != options_.entry_bytes || got != want) {
      return Status::Corruption("window cluster: node " + std::to_string(n.id) +
                                " applied entry " + std::to_string(e.index) + " with " +
                                std::to_string(e.data.size()) + " bytes, tag " +
                                std::to_string(got) + "; want " +
                                std::to_string(options_.entry_bytes) + " bytes, tag " +
                                std::to_string(want));
    }
    ++n.data_applied;
    return Status::OK();
  }

  // A snapshot at the applied index (no data: the state machine has no
  // state), then compaction keeping keep_entries below it.
  Status Compact(Node& n) {
    const auto start = Clock::now();
    Status s = SnapshotAndCompact(n);
    const int64_t ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
    counters_.compact_ns += ns;
    counters_.compact_max_ns = std::max(counters_.compact_max_ns, ns);
    return s;
  }

  Status SnapshotAndCompact(Node& n) {
    const auto start = Clock::now();
    Result<raft::Snapshot> snap = n.storage->CreateSnapshot(n.applied, &n.conf_state, {});
    if (!snap.ok()) return snap.status();
    const auto snapshotted = Clock::now();
    counters_.snapshot_max_ns = std::max<int64_t>(
        counters_.snapshot_max_ns,
        std::chrono::duration_cast<std::chrono::nanoseconds>(snapshotted - start).count());
    n.snap_index = snap->metadata.index;
    if (n.snap_index > options_.keep_entries) {
      Status s = n.storage->Compact(n.snap_index - options_.keep_entries);
      if (!s.ok() && !s.IsCompacted()) return s;
      counters_.truncate_max_ns = std::max<int64_t>(
          counters_.truncate_max_ns,
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - snapshotted)
              .count());
    }
    ++counters_.compactions;
    return Status::OK();
  }

  const WindowOptions options_;
  std::unique_ptr<raft::Logger> logger_;  // borrowed by the RawNodes: outlives them
  std::vector<Bytes> pool_;  // shared by every proposal of a buffer: Propose copies nothing
  std::vector<std::unique_ptr<Node>> nodes_;  // nodes_[k] has id k+1; node 1 leads
  uint64_t first_data_index_ = 0;  // log index of the first proposal (node 1 leads throughout)
  uint64_t proposed_ = 0;          // data entries proposed on the leader
  uint64_t acked_ = 0;  // data entries the leader saw committed (proposed_ - acked_ in flight)
  std::vector<Clock::time_point> propose_times_;  // [seq % window]: Propose() time of seq
  Counters counters_;
  // Pipelined mode: what the writers hand back to the driving thread.
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::vector<raft::Message> done_;  // guarded by done_mu_: responses to deliver, in order
  uint64_t writes_in_flight_ = 0;    // guarded by done_mu_: submitted, not yet handed back
  Status write_error_;               // guarded by done_mu_: a writer's failure
};

}  // namespace raftlog::bench
