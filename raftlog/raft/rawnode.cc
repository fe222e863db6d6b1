#include "raftlog/raft/rawnode.h"

#include <utility>

#include "raftlog/raft/internal/raft.h"
#include "raftlog/raft/util.h"

namespace raftlog::raft {

namespace {

// Whether raft needs to hear that unstable entries became stable or that a
// snapshot was applied. The unstable entries are checked rather than the
// Ready's entries: see NewStorageAppendRespMsg.
bool NeedStorageAppendRespMsg(const internal::Raft& r, const raft::Ready& rd) {
  return r.raft_log().HasNextOrInProgressUnstableEnts() || rd.HasSnapshot();
}

// The message the node steps once the unstable state of this Ready (and of
// every earlier one) is durable.
Message NewStorageAppendRespMsg(const internal::Raft& r, const raft::Ready& rd) {
  Message m;
  m.type = MessageType::kMsgStorageAppendResp;
  m.to = r.id();
  m.from = kLocalAppendThread;
  // A response of an earlier term is ignored for its entries, see below.
  m.term = r.term();
  if (r.raft_log().HasNextOrInProgressUnstableEnts()) {
    // The (index, term) of the log's last entry lets the unstable log drop
    // the entries once they are stable, if they still match by then. That
    // alone has an ABA problem: with 5 nodes A..E, leader A appends entries
    // that only B receives and starts writing; C becomes leader (votes of
    // D, E) and its entries of a higher term overwrite B's unstable ones,
    // which B starts writing; then A leads again and its original entries
    // (same indexes, original terms) overwrite those, and B starts writing
    // them once more. When B's first write completes, its (index, term)
    // matches the unstable log again, yet the second write (C's entries) may
    // still land later: truncating the unstable log now would let a read
    // from Storage see C's entries. The term attached above prevents this:
    // a response whose term is no longer current is ignored, and the
    // unstable log is truncated only if no term change (hence no concurrent
    // overwrite) happened between the write and its response.
    //
    // So that the unstable log is still truncated eventually when responses
    // of old terms are dropped, every append response carries the last
    // entry's id while unstable entries exist (not only when this Ready has
    // entries): the response to the HardState write of each term change
    // attests them in the new term.
    const internal::EntryID last = r.raft_log().LastEntryID();
    m.index = last.index;
    m.log_term = last.term;
  }
  if (rd.HasSnapshot()) m.snapshot = rd.snapshot;
  return m;
}

Message NewStorageApplyRespMsg(const internal::Raft& r, std::vector<Entry> ents) {
  Message m;
  m.type = MessageType::kMsgStorageApplyResp;
  m.to = r.id();
  m.from = kLocalApplyThread;
  m.term = 0;  // committed entries do not apply under a specific term
  m.entries = std::move(ents);
  return m;
}

}  // namespace

Result<std::unique_ptr<RawNode>> RawNode::New(Config config) {
  RAFTLOG_RETURN_IF_ERROR(config.Validate());
  const bool async = config.async_storage_writes;
  auto r = std::make_unique<internal::Raft>(std::move(config));
  return std::unique_ptr<RawNode>(new RawNode(std::move(r), async));
}

RawNode::RawNode(std::unique_ptr<internal::Raft> raft, bool async_storage_writes)
    : raft_(std::move(raft)),
      async_storage_writes_(async_storage_writes),
      prev_soft_state_(raft_->GetSoftState()),
      prev_hard_state_(raft_->GetHardState()) {}

RawNode::~RawNode() = default;

void RawNode::Tick() { raft_->Tick(); }

void RawNode::TickQuiesced() { raft_->set_election_elapsed(raft_->election_elapsed() + 1); }

Status RawNode::Campaign() {
  Message m;
  m.type = MessageType::kMsgHup;
  return raft_->Step(std::move(m));
}

Status RawNode::Propose(Bytes data) {
  Message m;
  m.type = MessageType::kMsgProp;
  m.from = raft_->id();
  m.entries.push_back(Entry{0, 0, EntryType::kNormal, std::move(data)});
  return raft_->Step(std::move(m));
}

Status RawNode::ProposeConfChange(const ConfChangeI& cc) {
  MarshaledConfChange mcc = MarshalConfChange(cc);
  Message m;
  m.type = MessageType::kMsgProp;
  m.entries.push_back(Entry{0, 0, mcc.type, std::move(mcc.data)});
  return raft_->Step(std::move(m));
}

ConfState RawNode::ApplyConfChange(const ConfChangeI& cc) {
  return raft_->ApplyConfChange(cc.AsV2());
}

Status RawNode::Step(Message m) {
  // Local messages must not come over the network.
  if (IsLocalMsg(m.type) && !IsLocalMsgTarget(m.from)) return ErrStepLocalMsg();
  if (IsResponseMsg(m.type) && !IsLocalMsgTarget(m.from) &&
      raft_->trk().progress.find(m.from) == raft_->trk().progress.end()) {
    return ErrStepPeerNotFound();
  }
  return raft_->Step(std::move(m));
}

raft::Ready RawNode::Ready() {
  internal::Raft& r = *raft_;
  internal::RaftLog& log = r.raft_log();

  // Build the Ready (etcd's readyWithoutAccept).
  raft::Ready rd;
  {
    // The one copy of new entries on their way to storage: the unstable log
    // keeps its own until they are stable.
    const std::span<const Entry> unstable = log.NextUnstableEnts();
    rd.entries.assign(unstable.begin(), unstable.end());
  }
  rd.committed_entries = log.NextCommittedEnts(ApplyUnstableEntries());
  rd.messages = r.TakeMsgs();
  if (const SoftState ss = r.GetSoftState(); ss != prev_soft_state_) rd.soft_state = ss;
  const HardState hs = r.GetHardState();
  if (hs != prev_hard_state_) rd.hard_state = hs;
  rd.snapshot = log.NextUnstableSnapshot();
  if (!r.read_states().empty()) rd.read_states = r.TakeReadStates();
  rd.must_sync = MustSync(hs, prev_hard_state_, rd.entries.size());

  std::vector<Message> after_append = r.TakeMsgsAfterAppend();
  if (async_storage_writes_) {
    // Enqueue the work of the local storage threads, as messages.
    const bool need_append = !rd.entries.empty() || !IsEmptyHardState(rd.hard_state) ||
                             rd.HasSnapshot() || !after_append.empty();
    if (need_append) {
      Message m;
      m.type = MessageType::kMsgStorageAppend;
      m.to = kLocalAppendThread;
      m.from = r.id();
      m.entries = rd.entries;
      if (!IsEmptyHardState(rd.hard_state)) {
        // Only with a HardState update, so that a HardState rebuilt from the
        // message is empty otherwise.
        m.term = rd.hard_state.term;
        m.vote = rd.hard_state.vote;
        m.commit = rd.hard_state.commit;
      }
      if (rd.HasSnapshot()) m.snapshot = rd.snapshot;
      // The messages waiting for durability ride along as responses, then
      // the acknowledgement to this node. NB: the acknowledgement comes after
      // the leader's self-directed MsgAppResp, so that handling that one can
      // still find the new entries in the unstable log (a fast path).
      m.responses = std::move(after_append);
      if (NeedStorageAppendRespMsg(r, rd)) m.responses.push_back(NewStorageAppendRespMsg(r, rd));
      rd.messages.push_back(std::move(m));
    }
    if (!rd.committed_entries.empty()) {
      Message m;
      m.type = MessageType::kMsgStorageApply;
      m.to = kLocalApplyThread;
      m.from = r.id();
      m.term = 0;  // committed entries do not apply under a specific term
      m.entries = rd.committed_entries;
      m.responses.push_back(NewStorageApplyRespMsg(r, rd.committed_entries));
      rd.messages.push_back(std::move(m));
    }
  } else {
    // The Ready's contract already makes every message wait until the
    // entries are stored: send those to peers with the others, and step
    // those to this node on Advance().
    if (!steps_on_advance_.empty() || applied_on_advance_) {
      r.logger().Panic("two accepted Ready structs without call to Advance");
    }
    for (Message& m : after_append) {
      if (m.to != r.id()) {
        rd.messages.push_back(std::move(m));
      } else {
        steps_on_advance_.push_back(std::move(m));
      }
    }
    if (NeedStorageAppendRespMsg(r, rd))
      steps_on_advance_.push_back(NewStorageAppendRespMsg(r, rd));
    if (!rd.committed_entries.empty()) {
      applied_on_advance_ = true;
      applied_index_on_advance_ = rd.committed_entries.back().index;
      applied_size_on_advance_ = EntsSize(rd.committed_entries);
      applied_payload_on_advance_ = PayloadsSize(rd.committed_entries);
    }
  }

  // Accept it (etcd's acceptReady).
  if (rd.soft_state.has_value()) prev_soft_state_ = *rd.soft_state;
  if (!IsEmptyHardState(rd.hard_state)) prev_hard_state_ = rd.hard_state;
  log.AcceptUnstable();
  if (!rd.committed_entries.empty()) {
    log.AcceptApplying(rd.committed_entries.back().index, EntsSize(rd.committed_entries),
                       ApplyUnstableEntries());
  }
  return rd;
}

bool RawNode::HasReady() const {
  const internal::Raft& r = *raft_;
  if (r.GetSoftState() != prev_soft_state_) return true;
  if (const HardState hs = r.GetHardState(); !IsEmptyHardState(hs) && hs != prev_hard_state_) {
    return true;
  }
  const internal::RaftLog& log = r.raft_log();
  if (log.HasNextUnstableSnapshot()) return true;
  if (!r.msgs().empty() || !r.msgs_after_append().empty()) return true;
  if (log.HasNextUnstableEnts() || log.HasNextCommittedEnts(ApplyUnstableEntries())) return true;
  return !r.read_states().empty();
}

void RawNode::Advance() {
  if (async_storage_writes_) {
    raft_->logger().Panic("Advance must not be called when using AsyncStorageWrites");
  }
  std::vector<Message> steps = std::move(steps_on_advance_);
  steps_on_advance_.clear();
  for (Message& m : steps) (void)raft_->Step(std::move(m));
  if (applied_on_advance_) {
    // etcd steps a MsgStorageApplyResp carrying the committed entries; this
    // is what handling it does.
    applied_on_advance_ = false;
    raft_->AppliedTo(applied_index_on_advance_, applied_size_on_advance_);
    raft_->ReduceUncommittedSize(applied_payload_on_advance_);
  }
  // Keep the buffer for the next Ready.
  steps.clear();
  if (steps_on_advance_.empty()) steps_on_advance_ = std::move(steps);
}

NodeStatus RawNode::GetStatus() const {
  NodeStatus s;
  static_cast<BasicStatus&>(s) = GetBasicStatus();
  if (s.soft_state.raft_state == StateType::kStateLeader) s.progress = raft_->trk().progress;
  s.config = raft_->trk().config;
  return s;
}

BasicStatus RawNode::GetBasicStatus() const {
  BasicStatus s;
  s.id = raft_->id();
  s.lead_transferee = raft_->lead_transferee();
  s.hard_state = raft_->GetHardState();
  s.soft_state = raft_->GetSoftState();
  s.applied = raft_->raft_log().applied();
  return s;
}

void RawNode::WithProgress(const std::function<void(uint64_t id, ProgressType type,
                                                    const tracker::Progress& pr)>& visitor) const {
  for (const auto& [id, pr] : raft_->trk().progress) {
    visitor(id,
            pr.is_learner ? ProgressType::kProgressTypeLearner : ProgressType::kProgressTypePeer,
            pr);
  }
}

void RawNode::ReportUnreachable(uint64_t id) {
  Message m;
  m.type = MessageType::kMsgUnreachable;
  m.from = id;
  (void)raft_->Step(std::move(m));
}

void RawNode::ReportSnapshot(uint64_t id, SnapshotStatus status) {
  Message m;
  m.type = MessageType::kMsgSnapStatus;
  m.from = id;
  m.reject = status == SnapshotStatus::kSnapshotFailure;
  (void)raft_->Step(std::move(m));
}

void RawNode::TransferLeader(uint64_t transferee) {
  Message m;
  m.type = MessageType::kMsgTransferLeader;
  m.from = transferee;
  (void)raft_->Step(std::move(m));
}

Status RawNode::ForgetLeader() {
  Message m;
  m.type = MessageType::kMsgForgetLeader;
  return raft_->Step(std::move(m));
}

void RawNode::ReadIndex(std::string rctx) {
  Message m;
  m.type = MessageType::kMsgReadIndex;
  m.entries.push_back(Entry{0, 0, EntryType::kNormal, std::move(rctx)});
  (void)raft_->Step(std::move(m));
}

Status RawNode::Bootstrap(const std::vector<Peer>& peers) {
  if (peers.empty()) {
    return Status::InvalidArgument("must provide at least one peer to Bootstrap");
  }
  internal::Raft& r = *raft_;
  // The storage, not the raft log: the log may have unstable entries.
  Result<uint64_t> last_index = r.raft_log().storage().LastIndex();
  if (!last_index.ok()) return last_index.status();
  if (*last_index != 0) return Status::InvalidArgument("can't bootstrap a nonempty Storage");

  // The entries below are faked in, nothing is persisted yet: start from an
  // empty HardState so that the first Ready hands one out to persist.
  prev_hard_state_ = HardState{};

  // TODO(etcd): give applications better tools to bootstrap membership.
  r.BecomeFollower(1, kNone);
  std::vector<Entry> ents;
  ents.reserve(peers.size());
  for (size_t i = 0; i < peers.size(); ++i) {
    ConfChange cc;
    cc.type = ConfChangeType::kAddNode;
    cc.node_id = peers[i].id;
    cc.context = peers[i].context;
    ents.push_back(Entry{1, i + 1, EntryType::kConfChange, EncodeConfChange(cc)});
  }
  r.raft_log().Append(std::move(ents));

  // Apply them now, mainly so that the application can Campaign right after
  // bootstrapping in tests. The peers are added twice: here and when the
  // application applies the committed entries (ApplyConfChange). These
  // calls come after the append so that the progresses start after the
  // bootstrap entries (appending them to followers would be an error, as
  // they are already committed). applied is not set, so that the
  // application sees every conf change in Ready::committed_entries.
  r.raft_log().set_committed(peers.size());
  for (const Peer& peer : peers) {
    ConfChange cc;
    cc.type = ConfChangeType::kAddNode;
    cc.node_id = peer.id;
    r.ApplyConfChange(AsV2(cc));
  }
  return Status::OK();
}

}  // namespace raftlog::raft
