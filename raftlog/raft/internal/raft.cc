#include "raftlog/raft/internal/raft.h"

#include <algorithm>
#include <cinttypes>
#include <random>
#include <utility>

#include "raftlog/raft/confchange/restore.h"
#include "raftlog/raft/util.h"

namespace raftlog::raft::internal {

namespace {

constexpr std::string_view kCampaignTransfer = "CampaignTransfer";

const char* TypeName(MessageType t) {
  // MessageTypeName returns views of string literals, so data() is
  // null-terminated.
  return MessageTypeName(t).data();
}

const char* StateName(StateType s) { return StateTypeName(s).data(); }

std::string StatusText(const Status& s) { return std::string(s.message()); }

// The protobuf text form of the conf change, as etcd prints it with %v when
// it refuses a proposed one: fields separated by one space, nested messages
// in braces, no trailing space, e.g.
// "transition:ConfChangeTransitionAuto changes:{type:ConfChangeAddNode node_id:3}".
std::string CompactText(const ConfChangeI& cc) {
  std::vector<std::string> fields;
  auto bytes_field = [&fields](const char* name, const std::string& v) {
    if (v.empty()) return;
    std::string out = name;
    out += ":\"";
    // Protobuf text format escapes like C: octal for non-printables.
    for (unsigned char c : v) {
      switch (c) {
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '"':
          out += "\\\"";
          break;
        case '\'':
          out += "\\'";
          break;
        case '\\':
          out += "\\\\";
          break;
        default:
          if (c < 0x20 || c >= 0x7F) {
            out += StringPrintf("\\%03o", c);
          } else {
            out += static_cast<char>(c);
          }
      }
    }
    out += '"';
    fields.push_back(std::move(out));
  };
  if (const ConfChange* v1 = cc.AsV1()) {
    fields.push_back("type:" + std::string(ConfChangeTypeName(v1->type)));
    fields.push_back(StringPrintf("node_id:%" PRIu64, v1->node_id));
    bytes_field("context", v1->context);
    fields.push_back(StringPrintf("id:%" PRIu64, v1->id));
  } else {
    const ConfChangeV2 v2 = cc.AsV2();
    static constexpr const char* kTransitions[] = {"ConfChangeTransitionAuto",
                                                   "ConfChangeTransitionJointImplicit",
                                                   "ConfChangeTransitionJointExplicit"};
    fields.push_back(std::string("transition:") +
                     kTransitions[static_cast<size_t>(v2.transition) % 3]);
    for (const ConfChangeSingle& c : v2.changes) {
      fields.push_back("changes:{type:" + std::string(ConfChangeTypeName(c.type)) +
                       StringPrintf(" node_id:%" PRIu64 "}", c.node_id));
    }
    bytes_field("context", v2.context);
  }
  std::string out;
  for (const std::string& f : fields) {
    if (!out.empty()) out += ' ';
    out += f;
  }
  return out;
}

// The text form of a ConfState that etcd prints with %v in its warnings
// (the protobuf text of the message).
std::string ConfStateText(const ConfState& cs) {
  std::string out;
  auto ids = [&out](const char* name, const std::vector<uint64_t>& v) {
    for (uint64_t id : v) out += StringPrintf("%s:%" PRIu64 " ", name, id);
  };
  ids("voters", cs.voters);
  ids("learners", cs.learners);
  ids("voters_outgoing", cs.voters_outgoing);
  ids("learners_next", cs.learners_next);
  out += cs.auto_leave ? "auto_leave:true " : "auto_leave:false ";
  return out;
}

// The quorum package's view of ReadOnly's acknowledgements.
class ReadOnlyAcks final : public quorum::AckedIndexer {
 public:
  explicit ReadOnlyAcks(const ReadOnly& ro) : ro_(ro) {}
  std::optional<quorum::Index> AckedIndex(uint64_t voter) const override {
    return ro_.AckedIndex(voter);
  }

 private:
  const ReadOnly& ro_;
};

uint64_t SeedFor(uint64_t id) {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ (id * 0x9E3779B97F4A7C15ull);
}

}  // namespace

std::string_view CampaignTypeName(CampaignType t) {
  switch (t) {
    case CampaignType::kPreElection:
      return "CampaignPreElection";
    case CampaignType::kElection:
      return "CampaignElection";
    case CampaignType::kTransfer:
      return kCampaignTransfer;
  }
  return "CampaignUnknown";
}

MessageType VoteRespMsgType(MessageType type) {
  switch (type) {
    case MessageType::kMsgVote:
      return MessageType::kMsgVoteResp;
    case MessageType::kMsgPreVote:
      return MessageType::kMsgPreVoteResp;
    default:
      GetLogger().Panic("not a vote message: %s", TypeName(type));
  }
}

// --- construction ------------------------------------------------------------

namespace {

Config ValidatedOrPanic(Config c) {
  Status s = c.Validate();
  if (!s.ok()) {
    Logger& logger = c.logger != nullptr ? *c.logger : GetLogger();
    logger.Panic("%s", StatusText(s).c_str());
  }
  return c;
}

}  // namespace

Raft::Raft(Config config) : Raft(ValidatedOrPanic(std::move(config)), /*validated=*/true) {}

Raft::Raft(Config c, bool /*validated*/)
    : id_(c.id),
      raft_log_(RaftLog::NewLogWithSize(*c.storage, *c.logger, c.max_committed_size_per_ready)),
      max_msg_size_(c.max_size_per_msg),
      max_uncommitted_size_(c.max_uncommitted_entries_size),
      trk_(static_cast<size_t>(c.max_inflight_msgs), c.max_inflight_bytes),
      disable_conf_change_validation_(c.disable_conf_change_validation),
      read_only_(c.read_only_option),
      check_quorum_(c.check_quorum),
      pre_vote_(c.pre_vote),
      heartbeat_timeout_(c.heartbeat_tick),
      election_timeout_(c.election_tick),
      disable_proposal_forwarding_(c.disable_proposal_forwarding),
      step_down_on_removal_(c.step_down_on_removal),
      logger_(c.logger),
      rand_state_(SeedFor(c.id)) {
  Result<StoredState> state = c.storage->InitialState();
  if (!state.ok()) logger_->Panic("%s", state.status().ToString().c_str());

  const EntryID last = raft_log_.LastEntryID();
  Result<confchange::ConfigAndProgress> restored =
      confchange::Restore(confchange::Changer(trk_, last.index), state->conf_state);
  if (!restored.ok()) logger_->Panic("%s", StatusText(restored.status()).c_str());
  AssertConfStatesEquivalent(state->conf_state, SwitchToConfig(std::move(restored->config),
                                                               std::move(restored->progress)));

  if (!IsEmptyHardState(state->hard_state)) LoadState(state->hard_state);
  if (c.applied > 0) raft_log_.AppliedTo(c.applied, 0);
  BecomeFollower(term_, kNone);

  std::string peers;
  for (uint64_t id : trk_.VoterNodes()) {
    if (!peers.empty()) peers += ',';
    peers += StringPrintf("%" PRIx64, id);
  }
  logger_->Info("newRaft %" PRIx64 " [peers: [%s], term: %" PRIu64 ", commit: %" PRIu64
                ", applied: %" PRIu64 ", lastindex: %" PRIu64 ", lastterm: %" PRIu64 "]",
                id_, peers.c_str(), term_, raft_log_.committed(), raft_log_.applied(), last.index,
                last.term);
}

// --- sending -----------------------------------------------------------------

void Raft::Send(Message m) {
  if (m.from == kNone) m.from = id_;
  const MessageType t = m.type;
  if (t == MessageType::kMsgVote || t == MessageType::kMsgVoteResp ||
      t == MessageType::kMsgPreVote || t == MessageType::kMsgPreVoteResp) {
    // All (pre-)campaign messages carry the term they are about: the term
    // campaigned for (MsgVote, MsgPreVote), or the one of the request
    // (granted responses).
    if (m.term == 0) logger_->Panic("term should be set when sending %s", TypeName(t));
  } else {
    if (m.term != 0) {
      logger_->Panic("term should not be set when sending %s (was %" PRIu64 ")", TypeName(t),
                     m.term);
    }
    // Proposals and read requests are forwarded to the leader like local
    // messages: they carry no term.
    if (t != MessageType::kMsgProp && t != MessageType::kMsgReadIndex) m.term = term_;
  }
  if (t == MessageType::kMsgAppResp || t == MessageType::kMsgVoteResp ||
      t == MessageType::kMsgPreVoteResp) {
    // These acknowledge log entries or a vote, which must be durable before
    // the acknowledgement goes out (Raft thesis §3.8): they wait until the
    // unstable state they depend on (including state already handed out in
    // an earlier Ready) is persisted. Rejections could arguably go at once,
    // but etcd errs on the side of safety, and so do we.
    msgs_after_append_.push_back(std::move(m));
  } else {
    if (m.to == id_) {
      logger_->Panic("message should not be self-addressed when sending %s", TypeName(t));
    }
    msgs_.push_back(std::move(m));
  }
}

bool Raft::MaybeSendAppend(uint64_t to, bool send_if_empty) {
  auto it = trk_.progress.find(to);
  if (it == trk_.progress.end()) return false;
  tracker::Progress& pr = it->second;
  if (pr.IsPaused()) return false;

  const uint64_t prev_index = pr.next - 1;
  Result<uint64_t> prev_term = raft_log_.Term(prev_index);
  // The log was probably compacted past pr.next: only a snapshot can catch
  // the follower up.
  if (!prev_term.ok()) return MaybeSendSnapshot(to, pr);

  std::vector<Entry> ents;
  // A throttled follower in StateReplicate only gets empty MsgApps: if all
  // the messages filling its window were lost, an empty one still gets
  // acked or rejected eventually (heartbeat responses prompt it), which
  // clears the window.
  if (pr.state != tracker::StateType::kStateReplicate || !pr.inflights.Full()) {
    Result<std::vector<Entry>> got = raft_log_.Entries(pr.next, max_msg_size_);
    if (!got.ok()) {
      if (!send_if_empty) return false;
      return MaybeSendSnapshot(to, pr);
    }
    ents = std::move(got).value();
  }
  if (ents.empty() && !send_if_empty) return false;

  const size_t count = ents.size();
  const uint64_t bytes = PayloadsSize(ents);
  Message m;
  m.to = to;
  m.type = MessageType::kMsgApp;
  m.index = prev_index;
  m.log_term = *prev_term;
  m.entries = std::move(ents);
  m.commit = raft_log_.committed();
  Send(std::move(m));
  pr.SentEntries(count, bytes);
  pr.SentCommit(raft_log_.committed());
  return true;
}

bool Raft::MaybeSendSnapshot(uint64_t to, tracker::Progress& pr) {
  if (!pr.recent_active) {
    logger_->Debug("ignore sending snapshot to %" PRIx64 " since it is not recently active", to);
    return false;
  }
  Result<Snapshot> snapshot = raft_log_.Snapshot();
  if (!snapshot.ok()) {
    if (snapshot.status().IsSnapshotTemporarilyUnavailable()) {
      logger_->Debug("%" PRIx64 " failed to send snapshot to %" PRIx64
                     " because snapshot is temporarily unavailable",
                     id_, to);
      return false;
    }
    logger_->Panic("%s", snapshot.status().ToString().c_str());
  }
  if (IsEmptySnap(*snapshot)) logger_->Panic("need non-empty snapshot");
  const uint64_t sindex = snapshot->metadata.index;
  const uint64_t sterm = snapshot->metadata.term;
  if (logger_->Enabled(LogLevel::kDebug)) {
    logger_->Debug("%" PRIx64 " [firstindex: %" PRIu64 ", commit: %" PRIu64
                   "] sent snapshot[index: %" PRIu64 ", term: %" PRIu64 "] to %" PRIx64 " [%s]",
                   id_, raft_log_.FirstIndex(), raft_log_.committed(), sindex, sterm, to,
                   pr.String().c_str());
  }
  pr.BecomeSnapshot(sindex);
  if (logger_->Enabled(LogLevel::kDebug)) {
    logger_->Debug("%" PRIx64 " paused sending replication messages to %" PRIx64 " [%s]", id_, to,
                   pr.String().c_str());
  }
  Message m;
  m.to = to;
  m.type = MessageType::kMsgSnap;
  m.snapshot = std::make_shared<const Snapshot>(std::move(snapshot).value());
  Send(std::move(m));
  return true;
}

void Raft::SendHeartbeat(uint64_t to, const Bytes& ctx) {
  tracker::Progress& pr = trk_.progress.at(to);
  // The follower's log may not match the leader's up to the committed index
  // yet: never let a heartbeat move its commit past what it is known to
  // have (match).
  const uint64_t commit = std::min(pr.match, raft_log_.committed());
  Message m;
  m.to = to;
  m.type = MessageType::kMsgHeartbeat;
  m.commit = commit;
  m.context = ctx;
  Send(std::move(m));
  pr.SentCommit(commit);
}

void Raft::BcastAppend() {
  for (auto& [id, pr] : trk_.progress) {
    if (id == id_) continue;
    MaybeSendAppend(id, /*send_if_empty=*/true);
  }
}

void Raft::BcastHeartbeat() {
  const Bytes ctx(read_only_.HeartbeatCtx());  // shared by every heartbeat
  for (const auto& [id, pr] : trk_.progress) {
    if (id == id_) continue;
    SendHeartbeat(id, ctx);
  }
}

void Raft::SendTimeoutNow(uint64_t to) {
  Message m;
  m.to = to;
  m.type = MessageType::kMsgTimeoutNow;
  Send(std::move(m));
}

// --- applying ----------------------------------------------------------------

void Raft::AppliedTo(uint64_t index, uint64_t size) {
  const uint64_t new_applied = std::max(index, raft_log_.applied());
  raft_log_.AppliedTo(new_applied, size);

  if (trk_.config.auto_leave && new_applied >= pending_conf_index_ &&
      state_ == StateType::kStateLeader) {
    // The current configuration (the most recent one, at least for this
    // leader's term) is to be left automatically: propose that now. The
    // empty data decodes as the empty ConfChangeV2 and weighs nothing, so
    // the quota never refuses it. A leadership transfer can refuse it; then
    // this is tried again on the next apply, or the new leader leaves.
    MarshaledConfChange cc = MarshalConfChange(std::nullopt);
    Message m;
    m.type = MessageType::kMsgProp;
    m.entries.push_back(Entry{0, 0, cc.type, std::move(cc.data)});
    Status s = Step(std::move(m));
    if (!s.ok()) {
      logger_->Debug("not initiating automatic transition out of joint configuration %s: %s",
                     trk_.config.String().c_str(), StatusText(s).c_str());
    } else {
      logger_->Info("initiating automatic transition out of joint configuration %s",
                    trk_.config.String().c_str());
    }
  }
}

void Raft::AppliedSnap(const Snapshot& snap) {
  const uint64_t index = snap.metadata.index;
  raft_log_.StableSnapTo(index);
  AppliedTo(index, 0);
}

bool Raft::MaybeCommit() { return raft_log_.MaybeCommit(EntryID{term_, trk_.Committed()}); }

void Raft::Reset(uint64_t term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNone;
  }
  lead_ = kNone;

  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();

  AbortLeaderTransfer();

  trk_.ResetVotes();
  const uint64_t last = raft_log_.LastIndex();
  for (auto& [id, pr] : trk_.progress) {
    const bool is_learner = pr.is_learner;
    pr = tracker::Progress{};
    pr.match = id == id_ ? last : 0;
    pr.next = last + 1;
    pr.inflights = tracker::Inflights(trk_.max_inflight, trk_.max_inflight_bytes);
    pr.is_learner = is_learner;
  }

  pending_conf_index_ = 0;
  uncommitted_size_ = 0;
  read_only_ = ReadOnly(read_only_.option());
}

bool Raft::AppendEntry(std::vector<Entry> es) {
  const uint64_t li = raft_log_.LastIndex();
  for (size_t i = 0; i < es.size(); ++i) {
    es[i].term = term_;
    es[i].index = li + 1 + i;
  }
  // Track the size of this uncommitted proposal.
  if (!IncreaseUncommittedSize(es)) {
    logger_->Warning("%" PRIx64
                     " appending new entries to log would exceed uncommitted entry size limit; "
                     "dropping proposal",
                     id_);
    return false;
  }
  const uint64_t new_last = raft_log_.Append(std::move(es));
  // The leader acks its own entries once they are durable (it sends itself
  // no MsgApp): this response waits in msgs_after_append_ and comes back
  // after the entries are persisted, where it updates the leader's own
  // progress and may commit.
  Message m;
  m.to = id_;
  m.type = MessageType::kMsgAppResp;
  m.index = new_last;
  Send(std::move(m));
  return true;
}

// --- ticking and role changes --------------------------------------------------

void Raft::Tick() {
  if (tick_ == TickFunc::kElection) {
    TickElection();
  } else {
    TickHeartbeat();
  }
}

void Raft::TickElection() {
  ++election_elapsed_;
  if (Promotable() && PastElectionTimeout()) {
    election_elapsed_ = 0;
    Message m;
    m.from = id_;
    m.type = MessageType::kMsgHup;
    Status s = Step(std::move(m));
    if (!s.ok()) logger_->Debug("error occurred during election: %s", StatusText(s).c_str());
  }
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;

  if (election_elapsed_ >= election_timeout_) {
    election_elapsed_ = 0;
    if (check_quorum_) {
      Message m;
      m.from = id_;
      m.type = MessageType::kMsgCheckQuorum;
      Status s = Step(std::move(m));
      if (!s.ok()) {
        logger_->Debug("error occurred during checking sending heartbeat: %s",
                       StatusText(s).c_str());
      }
    }
    // A transfer that did not finish within an election timeout is given up.
    if (state_ == StateType::kStateLeader && lead_transferee_ != kNone) AbortLeaderTransfer();
  }

  if (state_ != StateType::kStateLeader) return;

  if (heartbeat_elapsed_ >= heartbeat_timeout_) {
    heartbeat_elapsed_ = 0;
    Message m;
    m.from = id_;
    m.type = MessageType::kMsgBeat;
    Status s = Step(std::move(m));
    if (!s.ok()) {
      logger_->Debug("error occurred during checking sending heartbeat: %s", StatusText(s).c_str());
    }
  }
}

void Raft::BecomeFollower(uint64_t term, uint64_t lead) {
  step_ = &Raft::StepFollower;
  Reset(term);
  tick_ = TickFunc::kElection;
  lead_ = lead;
  state_ = StateType::kStateFollower;
  logger_->Info("%" PRIx64 " became follower at term %" PRIu64, id_, term_);
}

void Raft::BecomeCandidate() {
  if (state_ == StateType::kStateLeader) logger_->Panic("invalid transition [leader -> candidate]");
  step_ = &Raft::StepCandidate;
  Reset(term_ + 1);
  tick_ = TickFunc::kElection;
  vote_ = id_;
  state_ = StateType::kStateCandidate;
  logger_->Info("%" PRIx64 " became candidate at term %" PRIu64, id_, term_);
}

void Raft::BecomePreCandidate() {
  if (state_ == StateType::kStateLeader) {
    logger_->Panic("invalid transition [leader -> pre-candidate]");
  }
  // A pre-candidate changes its step function and role, nothing else: in
  // particular neither its term nor its vote.
  step_ = &Raft::StepCandidate;
  trk_.ResetVotes();
  tick_ = TickFunc::kElection;
  lead_ = kNone;
  state_ = StateType::kStatePreCandidate;
  logger_->Info("%" PRIx64 " became pre-candidate at term %" PRIu64, id_, term_);
}

void Raft::BecomeLeader() {
  if (state_ == StateType::kStateFollower)
    logger_->Panic("invalid transition [follower -> leader]");
  step_ = &Raft::StepLeader;
  Reset(term_);
  tick_ = TickFunc::kHeartbeat;
  lead_ = id_;
  state_ = StateType::kStateLeader;
  // Followers enter StateReplicate once probed; the leader trivially is in
  // it (Reset() set its progress to the last index). It is also always
  // recently active; MsgCheckQuorum preserves that.
  if (auto it = trk_.progress.find(id_); it != trk_.progress.end()) {
    it->second.BecomeReplicate();
    it->second.recent_active = true;
  }

  // Conservatively delay conf changes until every entry in the log is
  // committed: there may or may not be a pending conf change, and scanning
  // the whole tail to find out could be expensive.
  pending_conf_index_ = raft_log_.LastIndex();

  std::vector<Entry> empty(1);
  if (!AppendEntry(std::move(empty))) {
    // Reset() just zeroed the quota, and an empty entry weighs nothing.
    logger_->Panic("empty entry was dropped");
  }
  // The empty entry's payload size is 0, so uncommitted_size_ is still 0.
  logger_->Info("%" PRIx64 " became leader at term %" PRIu64, id_, term_);
}

void Raft::Hup(CampaignType t) {
  if (state_ == StateType::kStateLeader) {
    logger_->Debug("%" PRIx64 " ignoring MsgHup because already leader", id_);
    return;
  }
  if (!Promotable()) {
    logger_->Warning("%" PRIx64 " is unpromotable and can not campaign", id_);
    return;
  }
  if (HasUnappliedConfChanges()) {
    logger_->Warning("%" PRIx64 " cannot campaign at term %" PRIu64
                     " since there are still pending configuration changes to apply",
                     id_, term_);
    return;
  }
  logger_->Info("%" PRIx64 " is starting a new election at term %" PRIu64, id_, term_);
  Campaign(t);
}

bool Raft::HasUnappliedConfChanges() const {
  if (raft_log_.applied() >= raft_log_.committed()) return false;  // in fact applied == committed
  bool found = false;
  // Scan the unapplied committed entries for a conf change, in pages, to
  // avoid an unbounded memory spike. The page size reuses the applying
  // limit, which bounds a similar read (committed entries for a Ready).
  const uint64_t lo = raft_log_.applied() + 1;
  const uint64_t hi = raft_log_.committed() + 1;
  const Status done = Status::NotFound("break");
  Status s = raft_log_.Scan(
      lo, hi, raft_log_.max_applying_ents_size(), [&](std::span<const Entry> ents) -> Status {
        for (const Entry& e : ents) {
          if (e.type == EntryType::kConfChange || e.type == EntryType::kConfChangeV2) {
            found = true;
            return done;
          }
        }
        return Status::OK();
      });
  if (!s.ok() && !found) {
    logger_->Panic("error scanning unapplied entries [%" PRIu64 ", %" PRIu64 "): %s", lo, hi,
                   StatusText(s).c_str());
  }
  return found;
}

void Raft::Campaign(CampaignType t) {
  if (!Promotable()) {
    // Callers check this; better safe than sorry.
    logger_->Warning("%" PRIx64 " is unpromotable; campaign() should have been called", id_);
  }
  uint64_t term;
  MessageType vote_msg;
  if (t == CampaignType::kPreElection) {
    BecomePreCandidate();
    vote_msg = MessageType::kMsgPreVote;
    // Pre-votes ask for the next term without incrementing ours.
    term = term_ + 1;
  } else {
    BecomeCandidate();
    vote_msg = MessageType::kMsgVote;
    term = term_;
  }
  const quorum::MajorityConfig ids = trk_.config.voters.IDs();  // sorted
  for (uint64_t id : ids) {
    if (id == id_) {
      // The candidate's own vote counts once it is durable, like the votes
      // it sends; it comes back through msgs_after_append_.
      Message m;
      m.to = id;
      m.term = term;
      m.type = VoteRespMsgType(vote_msg);
      Send(std::move(m));
      continue;
    }
    const EntryID last = raft_log_.LastEntryID();
    logger_->Info("%" PRIx64 " [logterm: %" PRIu64 ", index: %" PRIu64
                  "] sent %s request to %" PRIx64 " at term %" PRIu64,
                  id_, last.term, last.index, TypeName(vote_msg), id, term_);
    Message m;
    m.to = id;
    m.term = term;
    m.type = vote_msg;
    m.index = last.index;
    m.log_term = last.term;
    if (t == CampaignType::kTransfer) m.context = std::string(kCampaignTransfer);
    Send(std::move(m));
  }
}

tracker::TallyResult Raft::Poll(uint64_t id, MessageType type, bool granted) {
  if (granted) {
    logger_->Info("%" PRIx64 " received %s from %" PRIx64 " at term %" PRIu64, id_, TypeName(type),
                  id, term_);
  } else {
    logger_->Info("%" PRIx64 " received %s rejection from %" PRIx64 " at term %" PRIu64, id_,
                  TypeName(type), id, term_);
  }
  trk_.RecordVote(id, granted);
  return trk_.TallyVotes();
}

// --- Step --------------------------------------------------------------------

Status Raft::Step(Message m) {
  // Handle the message's term, which may make this node step down.
  if (m.term == 0) {
    // A local message.
  } else if (m.term > term_) {
    if (m.type == MessageType::kMsgVote || m.type == MessageType::kMsgPreVote) {
      const bool force = m.context == kCampaignTransfer;
      const bool in_lease =
          check_quorum_ && lead_ != kNone && election_elapsed_ < election_timeout_;
      if (!force && in_lease) {
        // A server that heard from a current leader within the minimum
        // election timeout neither updates its term nor grants its vote
        // (Raft thesis §4.2.3).
        const EntryID last = raft_log_.LastEntryID();
        logger_->Info("%" PRIx64 " [logterm: %" PRIu64 ", index: %" PRIu64 ", vote: %" PRIx64
                      "] ignored %s from %" PRIx64 " [logterm: %" PRIu64 ", index: %" PRIu64
                      "] at term %" PRIu64 ": lease is not expired (remaining ticks: %d)",
                      id_, last.term, last.index, vote_, TypeName(m.type), m.from, m.log_term,
                      m.index, term_, election_timeout_ - election_elapsed_);
        return Status::OK();
      }
    }
    if (m.type == MessageType::kMsgPreVote) {
      // Never change the term in response to a pre-vote.
    } else if (m.type == MessageType::kMsgPreVoteResp && !m.reject) {
      // Pre-votes ask for a future term; a granted one does not move ours:
      // the term increases once a quorum granted. A rejection carries the
      // rejecter's term, which we adopt below as a follower.
    } else {
      logger_->Info("%" PRIx64 " [term: %" PRIu64
                    "] received a %s message with higher term from %" PRIx64 " [term: %" PRIu64 "]",
                    id_, term_, TypeName(m.type), m.from, m.term);
      if (m.type == MessageType::kMsgApp || m.type == MessageType::kMsgHeartbeat ||
          m.type == MessageType::kMsgSnap) {
        BecomeFollower(m.term, m.from);
      } else {
        BecomeFollower(m.term, kNone);
      }
    }
  } else if (m.term < term_) {
    if ((check_quorum_ || pre_vote_) &&
        (m.type == MessageType::kMsgHeartbeat || m.type == MessageType::kMsgApp)) {
      // A message from a leader of a lower term. It may just be delayed, or
      // this node advanced its term during a partition and can now neither
      // win an election nor rejoin the majority at the old term. With
      // check-quorum (or pre-vote) the higher-term MsgVotes of such a node
      // are ignored, so tell the old leader our term through an MsgAppResp
      // instead; this also keeps removed nodes from disrupting the cluster
      // by term increases, as they never receive MsgApp or MsgHeartbeat.
      Message resp;
      resp.to = m.from;
      resp.type = MessageType::kMsgAppResp;
      Send(std::move(resp));
    } else if (m.type == MessageType::kMsgPreVote) {
      // Candidates of a higher term but a shorter log may exist from before
      // pre-vote was enabled; dropping lower-term pre-votes could deadlock
      // the cluster, so reject them explicitly.
      const EntryID last = raft_log_.LastEntryID();
      logger_->Info("%" PRIx64 " [logterm: %" PRIu64 ", index: %" PRIu64 ", vote: %" PRIx64
                    "] rejected %s from %" PRIx64 " [logterm: %" PRIu64 ", index: %" PRIu64
                    "] at term %" PRIu64,
                    id_, last.term, last.index, vote_, TypeName(m.type), m.from, m.log_term,
                    m.index, term_);
      Message resp;
      resp.to = m.from;
      resp.term = term_;
      resp.type = MessageType::kMsgPreVoteResp;
      resp.reject = true;
      Send(std::move(resp));
    } else if (m.type == MessageType::kMsgStorageAppendResp) {
      if (m.index != 0) {
        // The appended entries are not known stable: a later term may have
        // overwritten them in the unstable log (see RawNode's
        // MsgStorageAppendResp construction for this race).
        logger_->Info("%" PRIx64 " [term: %" PRIu64
                      "] ignored entry appends from a %s message with lower term [term: %" PRIu64
                      "]",
                      id_, term_, TypeName(m.type), m.term);
      }
      // A snapshot carries committed, term-independent state: its
      // application stays valid under any term.
      if (m.snapshot != nullptr) AppliedSnap(*m.snapshot);
    } else {
      logger_->Info("%" PRIx64 " [term: %" PRIu64
                    "] ignored a %s message with lower term from %" PRIx64 " [term: %" PRIu64 "]",
                    id_, term_, TypeName(m.type), m.from, m.term);
    }
    return Status::OK();
  }

  switch (m.type) {
    case MessageType::kMsgHup:
      Hup(pre_vote_ ? CampaignType::kPreElection : CampaignType::kElection);
      break;

    case MessageType::kMsgStorageAppendResp:
      if (m.index != 0) raft_log_.StableTo(EntryID{m.log_term, m.index});
      if (m.snapshot != nullptr) AppliedSnap(*m.snapshot);
      break;

    case MessageType::kMsgStorageApplyResp:
      if (!m.entries.empty()) {
        AppliedTo(m.entries.back().index, EntsSize(m.entries));
        ReduceUncommittedSize(PayloadsSize(m.entries));
      }
      break;

    case MessageType::kMsgVote:
    case MessageType::kMsgPreVote: {
      // We can vote if this is a repeat of a vote we already cast, or we have
      // not voted and know of no leader in this term, or this is a pre-vote
      // for a future term...
      const bool can_vote = vote_ == m.from || (vote_ == kNone && lead_ == kNone) ||
                            (m.type == MessageType::kMsgPreVote && m.term > term_);
      // ...and the candidate's log is at least as up to date as ours.
      const EntryID last = raft_log_.LastEntryID();
      const EntryID cand_last{m.log_term, m.index};
      if (can_vote && raft_log_.IsUpToDate(cand_last)) {
        // Learners vote too: a learner may have been promoted by a conf
        // change committed without it and not applied by it yet. The
        // candidate knows it as a voter, and without its vote the only
        // candidate able to win may never get a quorum. A candidate with a
        // stale configuration cannot win anyway (its log is behind the
        // entry that changed the configuration).
        logger_->Info("%" PRIx64 " [logterm: %" PRIu64 ", index: %" PRIu64 ", vote: %" PRIx64
                      "] cast %s for %" PRIx64 " [logterm: %" PRIu64 ", index: %" PRIu64
                      "] at term %" PRIu64,
                      id_, last.term, last.index, vote_, TypeName(m.type), m.from, cand_last.term,
                      cand_last.index, term_);
        // The response carries the request's term, not ours: for a
        // pre-vote from a node whose term is ahead of ours, our older term
        // would make it ignore the response.
        Message resp;
        resp.to = m.from;
        resp.term = m.term;
        resp.type = VoteRespMsgType(m.type);
        Send(std::move(resp));
        if (m.type == MessageType::kMsgVote) {
          // Only real votes are recorded.
          election_elapsed_ = 0;
          vote_ = m.from;
        }
      } else {
        logger_->Info("%" PRIx64 " [logterm: %" PRIu64 ", index: %" PRIu64 ", vote: %" PRIx64
                      "] rejected %s from %" PRIx64 " [logterm: %" PRIu64 ", index: %" PRIu64
                      "] at term %" PRIu64,
                      id_, last.term, last.index, vote_, TypeName(m.type), m.from, cand_last.term,
                      cand_last.index, term_);
        Message resp;
        resp.to = m.from;
        resp.term = term_;
        resp.type = VoteRespMsgType(m.type);
        resp.reject = true;
        Send(std::move(resp));
      }
      break;
    }

    default:
      return step_(*this, m);
  }
  return Status::OK();
}

Status Raft::StepLeader(Raft& r, Message& m) {
  // These message types need no progress for m.from.
  switch (m.type) {
    case MessageType::kMsgBeat:
      r.BcastHeartbeat();
      return Status::OK();
    case MessageType::kMsgCheckQuorum:
      if (!r.trk_.QuorumActive()) {
        r.logger_->Warning("%" PRIx64 " stepped down to follower since quorum is not active",
                           r.id_);
        r.BecomeFollower(r.term_, kNone);
      }
      // Mark everyone but ourselves inactive for the next check.
      for (auto& [id, pr] : r.trk_.progress) {
        if (id != r.id_) pr.recent_active = false;
      }
      return Status::OK();
    case MessageType::kMsgProp:
      return r.HandleProposal(m);
    case MessageType::kMsgReadIndex:
      // With this leader as the only voter, the read is confirmed at once.
      if (r.trk_.IsSingleton()) {
        Message resp = r.ResponseToReadIndexReq(m, r.raft_log_.committed());
        if (resp.to != kNone) r.Send(std::move(resp));
        return Status::OK();
      }
      // A leader that has not committed an entry of its term does not know
      // the committed index yet: postpone the read until it does.
      if (!r.CommittedEntryInCurrentTerm()) {
        r.pending_read_index_messages_.push_back(std::move(m));
        return Status::OK();
      }
      r.SendMsgReadIndexResponse(m);
      return Status::OK();
    case MessageType::kMsgForgetLeader:
      return Status::OK();  // a no-op on the leader
    default:
      break;
  }

  // Every other message type needs the progress of m.from.
  auto it = r.trk_.progress.find(m.from);
  if (it == r.trk_.progress.end()) {
    r.logger_->Debug("%" PRIx64 " no progress available for %" PRIx64, r.id_, m.from);
    return Status::OK();
  }
  tracker::Progress& pr = it->second;
  switch (m.type) {
    case MessageType::kMsgAppResp:
      r.HandleAppendResponse(m, pr);
      break;
    case MessageType::kMsgHeartbeatResp:
      r.HandleHeartbeatResponse(m, pr);
      break;
    case MessageType::kMsgSnapStatus:
      if (pr.state != tracker::StateType::kStateSnapshot) return Status::OK();
      if (!m.reject) {
        pr.BecomeProbe();
        if (r.logger_->Enabled(LogLevel::kDebug)) {
          r.logger_->Debug("%" PRIx64
                           " snapshot succeeded, resumed sending replication messages to %" PRIx64
                           " [%s]",
                           r.id_, m.from, pr.String().c_str());
        }
      } else {
        // Clear the pending snapshot first, or BecomeProbe would probe from
        // the snapshot's index although it was never applied.
        pr.pending_snapshot = 0;
        pr.BecomeProbe();
        if (r.logger_->Enabled(LogLevel::kDebug)) {
          r.logger_->Debug("%" PRIx64
                           " snapshot failed, resumed sending replication messages to %" PRIx64
                           " [%s]",
                           r.id_, m.from, pr.String().c_str());
        }
      }
      // After a success, wait for the follower's MsgAppResp before the next
      // MsgApp; after a failure, wait a heartbeat interval before retrying.
      pr.msg_app_flow_paused = true;
      break;
    case MessageType::kMsgUnreachable:
      // During optimistic replication an unreachable follower has most
      // likely lost an MsgApp.
      if (pr.state == tracker::StateType::kStateReplicate) pr.BecomeProbe();
      if (r.logger_->Enabled(LogLevel::kDebug)) {
        r.logger_->Debug("%" PRIx64 " failed to send message to %" PRIx64
                         " because it is unreachable [%s]",
                         r.id_, m.from, pr.String().c_str());
      }
      break;
    case MessageType::kMsgTransferLeader:
      r.HandleTransferLeader(m, pr);
      break;
    default:
      break;
  }
  return Status::OK();
}

Status Raft::HandleProposal(Message& m) {
  if (m.entries.empty()) logger_->Panic("%" PRIx64 " stepped empty MsgProp", id_);
  if (trk_.progress.find(id_) == trk_.progress.end()) {
    // This node was removed from the configuration while leading: it
    // accepts no new proposals.
    return ErrProposalDropped();
  }
  if (lead_transferee_ != kNone) {
    logger_->Debug("%" PRIx64 " [term %" PRIu64 "] transfer leadership to %" PRIx64
                   " is in progress; dropping proposal",
                   id_, term_, lead_transferee_);
    return ErrProposalDropped();
  }

  for (size_t i = 0; i < m.entries.size(); ++i) {
    Entry& e = m.entries[i];
    if (e.type != EntryType::kConfChange && e.type != EntryType::kConfChangeV2) continue;
    Result<ConfChangeI> cc = ConfChangeFromEntry(e);
    if (!cc.ok()) logger_->Panic("%s", StatusText(cc.status()).c_str());

    const bool already_pending = pending_conf_index_ > raft_log_.applied();
    const bool already_joint = trk_.config.Joint();
    const bool wants_leave_joint = cc->AsV2().changes.empty();

    std::string failed_check;
    if (already_pending) {
      failed_check = StringPrintf("possible unapplied conf change at index %" PRIu64
                                  " (applied to %" PRIu64 ")",
                                  pending_conf_index_, raft_log_.applied());
    } else if (already_joint && !wants_leave_joint) {
      failed_check = "must transition out of joint config first";
    } else if (!already_joint && wants_leave_joint) {
      failed_check = "not in joint state; refusing empty conf change";
    }

    if (!failed_check.empty() && !disable_conf_change_validation_) {
      logger_->Info("%" PRIx64 " ignoring conf change %s at config %s: %s", id_,
                    CompactText(*cc).c_str(), trk_.config.String().c_str(), failed_check.c_str());
      e = Entry{};
      e.type = EntryType::kNormal;
    } else {
      pending_conf_index_ = raft_log_.LastIndex() + i + 1;
    }
  }

  if (!AppendEntry(std::move(m.entries))) return ErrProposalDropped();
  BcastAppend();
  return Status::OK();
}

void Raft::HandleAppendResponse(Message& m, tracker::Progress& pr) {
  // NB: the leader's own MsgAppResp (the self-ack of appended entries) also
  // comes this way, once the entries are durable.
  pr.recent_active = true;

  if (m.reject) {
    // reject_hint is the suggested base of the next append (entry
    // reject_hint+1 is tried next) and log_term the follower's term at
    // reject_hint (0 from old versions, or for an empty log).
    //
    // Normally the follower's log is a prefix of the leader's, the first
    // probe reveals where it ends, and the next probe succeeds. After
    // partitions or overload, though, long divergent tails can occur, and
    // probing them entry by entry costs one round trip per entry. Both sides
    // therefore skip whole terms:
    //
    // The leader (here). Say the leader has terms (by index 1..9)
    //   L: 1 3 3 3 5 5 5 5 5   and the follower   F: 1 1 1 1 2 2
    // An append at (9, 5) is rejected with hint (6, 2). Every index from 6
    // down to 2 has a leader term > 2, and terms only grow along a log, so a
    // probe at any of them must fail too: the follower holds term <= 2
    // there. The leader thus probes at the largest index whose term is
    // <= the hint's term (1 here), at most once per term in its log.
    //
    // The follower (handleAppendEntries) does the symmetric thing when its
    // tail has terms above the leader's:
    //   L: 1 3 3 3 3 3 3 3 7   F: 1 3 3 4 4 5 5 5 6
    // A probe at (8, 3) tells the follower that the leader's log up to 8
    // has terms <= 3, so it answers with its largest index of term <= 3,
    // (3, 3), and the leader's next probe at 3 succeeds. Such tails arise
    // when leaders of different terms append without committing and crash.
    if (logger_->Enabled(LogLevel::kDebug)) {
      logger_->Debug("%" PRIx64 " received MsgAppResp(rejected, hint: (index %" PRIu64
                     ", term %" PRIu64 ")) from %" PRIx64 " for index %" PRIu64,
                     id_, m.reject_hint, m.log_term, m.from, m.index);
    }
    uint64_t next_probe_idx = m.reject_hint;
    if (m.log_term > 0) {
      next_probe_idx = raft_log_.FindConflictByTerm(m.reject_hint, m.log_term).first;
    }
    if (pr.MaybeDecrTo(m.index, next_probe_idx)) {
      if (logger_->Enabled(LogLevel::kDebug)) {
        logger_->Debug("%" PRIx64 " decreased progress of %" PRIx64 " to [%s]", id_, m.from,
                       pr.String().c_str());
      }
      if (pr.state == tracker::StateType::kStateReplicate) pr.BecomeProbe();
      SendAppend(m.from);
    }
    return;
  }

  // Update the progress if the response raises match, or if it can move a
  // probing follower back to StateReplicate (see
  // heartbeat_resp_recovers_from_probing.txt). Not for StateSnapshot: with
  // m.index == match the leader knows the follower lacks match+1, and the
  // pending snapshot would prevent replication anyway.
  if (!(pr.MaybeUpdate(m.index) ||
        (pr.match == m.index && pr.state == tracker::StateType::kStateProbe))) {
    return;
  }
  if (pr.state == tracker::StateType::kStateProbe) {
    pr.BecomeReplicate();
  } else if (pr.state == tracker::StateType::kStateSnapshot &&
             pr.match + 1 >= raft_log_.FirstIndex()) {
    // Whatever index a snapshot was actually applied at, if the follower
    // can now be caught up from the log, accept it (the pending snapshot's
    // index does not matter; see Progress::pending_snapshot).
    if (logger_->Enabled(LogLevel::kDebug)) {
      logger_->Debug(
          "%" PRIx64
          " recovered from needing snapshot, resumed sending replication messages to %" PRIx64
          " [%s]",
          id_, m.from, pr.String().c_str());
    }
    // Back to replicating through probing, which accounts for the snapshot.
    // Replicating right away (rather than with the next round of appends,
    // which may be a while) keeps the exposed status consistent.
    pr.BecomeProbe();
    pr.BecomeReplicate();
  } else if (pr.state == tracker::StateType::kStateReplicate) {
    pr.inflights.FreeLE(m.index);
  }

  if (MaybeCommit()) {
    // The commit index advanced in this term, so pending reads can be
    // answered now.
    ReleasePendingReadIndexMessages();
    BcastAppend();
  } else if (id_ != m.from && pr.CanBumpCommit(raft_log_.committed())) {
    // The follower may lack the latest commit index; tell it now rather
    // than with the next heartbeat.
    SendAppend(m.from);
  }
  // The flow control update may allow several size-limited messages at
  // once (after moving from probe to replicate, or when FreeLE freed
  // several): send as many as possible, without empty ones.
  if (id_ != m.from) {
    while (MaybeSendAppend(m.from, /*send_if_empty=*/false)) {
    }
  }
  // A leadership transfer is in progress and the transferee caught up.
  if (m.from == lead_transferee_ && pr.match == raft_log_.LastIndex()) {
    logger_->Info("%" PRIx64 " sent MsgTimeoutNow to %" PRIx64 " after received MsgAppResp", id_,
                  m.from);
    SendTimeoutNow(m.from);
  }
}

void Raft::HandleHeartbeatResponse(Message& m, tracker::Progress& pr) {
  pr.recent_active = true;
  pr.msg_app_flow_paused = false;

  // A follower with a full inflights window still gets an (empty) append,
  // so that it recovers if every message in the window was lost (the
  // heartbeat already carried the commit index). A caught-up follower in
  // StateProbe (after ReportUnreachable) also gets one, to move back to
  // StateReplicate when it answers. In StateSnapshot the progress is
  // paused, so this sends nothing.
  if (pr.match < raft_log_.LastIndex() || pr.state == tracker::StateType::kStateProbe) {
    SendAppend(m.from);
  }

  if (read_only_.option() != ReadOnlyOption::kReadOnlySafe || m.context.empty()) return;

  read_only_.RecvAck(m.from, m.context);
  uint64_t acked = trk_.config.voters.CommittedIndex(ReadOnlyAcks(read_only_));
  // With no voters at all the quorum "acks" everything; never beyond the
  // requests actually queued.
  const uint64_t queued = read_only_.confirmed_reads() + read_only_.unconfirmed_reads().size();
  acked = std::min(acked, queued);
  for (ReadIndexRequest& rs : read_only_.MaybeAdvance(acked)) {
    Message resp = ResponseToReadIndexReq(rs.req, rs.index);
    if (resp.to != kNone) Send(std::move(resp));
  }
}

void Raft::HandleTransferLeader(Message& m, tracker::Progress& pr) {
  if (pr.is_learner) {
    logger_->Debug("%" PRIx64 " is learner. Ignored transferring leadership", id_);
    return;
  }
  const uint64_t lead_transferee = m.from;
  const uint64_t last_lead_transferee = lead_transferee_;
  if (last_lead_transferee != kNone) {
    if (last_lead_transferee == lead_transferee) {
      logger_->Info("%" PRIx64 " [term %" PRIu64 "] transfer leadership to %" PRIx64
                    " is in progress, ignores request to same node %" PRIx64,
                    id_, term_, lead_transferee, lead_transferee);
      return;
    }
    AbortLeaderTransfer();
    logger_->Info("%" PRIx64 " [term %" PRIu64
                  "] abort previous transferring leadership to %" PRIx64,
                  id_, term_, last_lead_transferee);
  }
  if (lead_transferee == id_) {
    logger_->Debug("%" PRIx64 " is already leader. Ignored transferring leadership to self", id_);
    return;
  }
  // Transfer leadership to a third party.
  logger_->Info("%" PRIx64 " [term %" PRIu64 "] starts to transfer leadership to %" PRIx64, id_,
                term_, lead_transferee);
  // The transfer should finish within one election timeout.
  election_elapsed_ = 0;
  lead_transferee_ = lead_transferee;
  if (pr.match == raft_log_.LastIndex()) {
    SendTimeoutNow(lead_transferee);
    logger_->Info("%" PRIx64 " sends MsgTimeoutNow to %" PRIx64 " immediately as %" PRIx64
                  " already has up-to-date log",
                  id_, lead_transferee, lead_transferee);
  } else {
    SendAppend(lead_transferee);
  }
}

Status Raft::StepCandidate(Raft& r, Message& m) {
  // Only the responses of the current candidacy count: a candidate may
  // still receive MsgPreVoteResps of its pre-candidacy in this term.
  const MessageType my_vote_resp_type = r.state_ == StateType::kStatePreCandidate
                                            ? MessageType::kMsgPreVoteResp
                                            : MessageType::kMsgVoteResp;
  switch (m.type) {
    case MessageType::kMsgProp:
      r.logger_->Info("%" PRIx64 " no leader at term %" PRIu64 "; dropping proposal", r.id_,
                      r.term_);
      return ErrProposalDropped();
    case MessageType::kMsgApp:
      r.BecomeFollower(m.term, m.from);  // always m.term == term_
      r.HandleAppendEntries(m);
      break;
    case MessageType::kMsgHeartbeat:
      r.BecomeFollower(m.term, m.from);  // always m.term == term_
      r.HandleHeartbeat(m);
      break;
    case MessageType::kMsgSnap:
      r.BecomeFollower(m.term, m.from);  // always m.term == term_
      r.HandleSnapshot(m);
      break;
    case MessageType::kMsgTimeoutNow:
      r.logger_->Debug("%" PRIx64 " [term %" PRIu64
                       " state %s] ignored MsgTimeoutNow from %" PRIx64,
                       r.id_, r.term_, StateName(r.state_), m.from);
      break;
    default:
      if (m.type == my_vote_resp_type) {
        const tracker::TallyResult res = r.Poll(m.from, m.type, !m.reject);
        r.logger_->Info("%" PRIx64 " has received %zu %s votes and %zu vote rejections", r.id_,
                        res.granted, TypeName(m.type), res.rejected);
        switch (res.result) {
          case quorum::VoteResult::kVoteWon:
            if (r.state_ == StateType::kStatePreCandidate) {
              r.Campaign(CampaignType::kElection);
            } else {
              r.BecomeLeader();
              r.BcastAppend();
            }
            break;
          case quorum::VoteResult::kVoteLost:
            // A MsgPreVoteResp carries the pre-candidate's future term;
            // keep ours.
            r.BecomeFollower(r.term_, kNone);
            break;
          case quorum::VoteResult::kVotePending:
            break;
        }
      }
      break;
  }
  return Status::OK();
}

Status Raft::StepFollower(Raft& r, Message& m) {
  switch (m.type) {
    case MessageType::kMsgProp:
      if (r.lead_ == kNone) {
        r.logger_->Info("%" PRIx64 " no leader at term %" PRIu64 "; dropping proposal", r.id_,
                        r.term_);
        return ErrProposalDropped();
      }
      if (r.disable_proposal_forwarding_) {
        r.logger_->Info("%" PRIx64 " not forwarding to leader %" PRIx64 " at term %" PRIu64
                        "; dropping proposal",
                        r.id_, r.lead_, r.term_);
        return ErrProposalDropped();
      }
      m.to = r.lead_;
      r.Send(std::move(m));
      break;
    case MessageType::kMsgApp:
      r.election_elapsed_ = 0;
      r.lead_ = m.from;
      r.HandleAppendEntries(m);
      break;
    case MessageType::kMsgHeartbeat:
      r.election_elapsed_ = 0;
      r.lead_ = m.from;
      r.HandleHeartbeat(m);
      break;
    case MessageType::kMsgSnap:
      r.election_elapsed_ = 0;
      r.lead_ = m.from;
      r.HandleSnapshot(m);
      break;
    case MessageType::kMsgTransferLeader:
      if (r.lead_ == kNone) {
        r.logger_->Info("%" PRIx64 " no leader at term %" PRIu64 "; dropping leader transfer msg",
                        r.id_, r.term_);
        return Status::OK();
      }
      m.to = r.lead_;
      r.Send(std::move(m));
      break;
    case MessageType::kMsgForgetLeader:
      if (r.read_only_.option() == ReadOnlyOption::kReadOnlyLeaseBased) {
        r.logger_->Error("ignoring MsgForgetLeader due to ReadOnlyLeaseBased");
        return Status::OK();
      }
      if (r.lead_ != kNone) {
        r.logger_->Info("%" PRIx64 " forgetting leader %" PRIx64 " at term %" PRIu64, r.id_,
                        r.lead_, r.term_);
        r.lead_ = kNone;
      }
      break;
    case MessageType::kMsgTimeoutNow:
      r.logger_->Info("%" PRIx64 " [term %" PRIu64 "] received MsgTimeoutNow from %" PRIx64
                      " and starts an election to get leadership.",
                      r.id_, r.term_, m.from);
      // A transfer never uses pre-vote: we are not recovering from a
      // partition, so the extra round trip buys nothing.
      r.Hup(CampaignType::kTransfer);
      break;
    case MessageType::kMsgReadIndex:
      if (r.lead_ == kNone) {
        r.logger_->Info("%" PRIx64 " no leader at term %" PRIu64 "; dropping index reading msg",
                        r.id_, r.term_);
        return Status::OK();
      }
      m.to = r.lead_;
      r.Send(std::move(m));
      break;
    case MessageType::kMsgReadIndexResp:
      if (m.entries.size() != 1) {
        r.logger_->Error("%" PRIx64 " invalid format of MsgReadIndexResp from %" PRIx64
                         ", entries count: %zu",
                         r.id_, m.from, m.entries.size());
        return Status::OK();
      }
      r.read_states_.push_back(ReadState{m.index, std::move(m.entries[0].data)});
      break;
    default:
      break;
  }
  return Status::OK();
}

// --- handling appends, heartbeats and snapshots ------------------------------------

void Raft::HandleAppendEntries(Message& m) {
  if (m.index < raft_log_.committed()) {
    Message resp;
    resp.to = m.from;
    resp.type = MessageType::kMsgAppResp;
    resp.index = raft_log_.committed();
    Send(std::move(resp));
    return;
  }
  LogSlice a;
  a.term = m.term;
  a.prev = EntryID{m.log_term, m.index};
  a.entries = std::move(m.entries);
  if (std::optional<uint64_t> last = raft_log_.MaybeAppend(std::move(a), m.commit)) {
    Message resp;
    resp.to = m.from;
    resp.type = MessageType::kMsgAppResp;
    resp.index = *last;
    Send(std::move(resp));
    return;
  }
  if (logger_->Enabled(LogLevel::kDebug)) {
    logger_->Debug("%" PRIx64 " [logterm: %" PRIu64 ", index: %" PRIu64
                   "] rejected MsgApp [logterm: %" PRIu64 ", index: %" PRIu64 "] from %" PRIx64,
                   id_, raft_log_.ZeroTermOnOutOfBounds(raft_log_.Term(m.index)), m.index,
                   m.log_term, m.index, m.from);
  }
  // Our log does not match the leader's at m.index. Hint the leader at the
  // largest (index, term) where the logs may match: the largest index <=
  // m.index whose term is <= m.log_term, skipping any uncommitted tail of
  // higher terms (see HandleAppendResponse for the leader's side).
  // m.index >= committed (above) and LastIndex() >= committed, so the hint
  // lies at or above committed and has a known term (unless the log is
  // empty); a zero term in the response is safe anyway.
  const uint64_t hint_index = std::min(m.index, raft_log_.LastIndex());
  const auto [index, term] = raft_log_.FindConflictByTerm(hint_index, m.log_term);
  Message resp;
  resp.to = m.from;
  resp.type = MessageType::kMsgAppResp;
  resp.index = m.index;
  resp.reject = true;
  resp.reject_hint = index;
  resp.log_term = term;
  Send(std::move(resp));
}

void Raft::HandleHeartbeat(Message& m) {
  raft_log_.CommitTo(m.commit);
  Message resp;
  resp.to = m.from;
  resp.type = MessageType::kMsgHeartbeatResp;
  resp.context = std::move(m.context);
  Send(std::move(resp));
}

void Raft::HandleSnapshot(Message& m) {
  // A MsgSnap always carries a snapshot, but a missing one is treated as
  // the empty snapshot for safety.
  std::shared_ptr<const Snapshot> s =
      m.snapshot != nullptr ? m.snapshot : std::make_shared<const Snapshot>();
  const uint64_t sindex = s->metadata.index;
  const uint64_t sterm = s->metadata.term;
  Message resp;
  resp.to = m.from;
  resp.type = MessageType::kMsgAppResp;
  if (Restore(std::move(s))) {
    logger_->Info("%" PRIx64 " [commit: %" PRIu64 "] restored snapshot [index: %" PRIu64
                  ", term: %" PRIu64 "]",
                  id_, raft_log_.committed(), sindex, sterm);
    resp.index = raft_log_.LastIndex();
  } else {
    logger_->Info("%" PRIx64 " [commit: %" PRIu64 "] ignored snapshot [index: %" PRIu64
                  ", term: %" PRIu64 "]",
                  id_, raft_log_.committed(), sindex, sterm);
    resp.index = raft_log_.committed();
  }
  Send(std::move(resp));
}

bool Raft::Restore(std::shared_ptr<const Snapshot> s) {
  if (s->metadata.index <= raft_log_.committed()) return false;
  if (state_ != StateType::kStateFollower) {
    // Defense in depth: a leader that somehow applied a snapshot could move
    // to a new term without becoming a follower. This should never happen;
    // returning early prevents damage, so only warn loudly.
    logger_->Warning("%" PRIx64 " attempted to restore snapshot as leader; should never happen",
                     id_);
    BecomeFollower(term_ + 1, kNone);
    return false;
  }

  // More defense in depth: much code assumes that this node is in its own
  // progress tracker, so ignore a snapshot whose configuration lacks it.
  // (learners_next need not be checked: its members are outgoing voters.)
  const ConfState& cs = s->metadata.conf_state;
  auto contains = [this](const std::vector<uint64_t>& ids) {
    return std::find(ids.begin(), ids.end(), id_) != ids.end();
  };
  if (!contains(cs.voters) && !contains(cs.learners) && !contains(cs.voters_outgoing)) {
    logger_->Warning("%" PRIx64
                     " attempted to restore snapshot but it is not in the ConfState %s; should "
                     "never happen",
                     id_, ConfStateText(cs).c_str());
    return false;
  }

  // Now actually restore.
  const EntryID id{s->metadata.term, s->metadata.index};
  if (raft_log_.MatchTerm(id)) {
    const EntryID last = raft_log_.LastEntryID();
    logger_->Info("%" PRIx64 " [commit: %" PRIu64 ", lastindex: %" PRIu64 ", lastterm: %" PRIu64
                  "] fast-forwarded commit to snapshot [index: %" PRIu64 ", term: %" PRIu64 "]",
                  id_, raft_log_.committed(), last.index, last.term, id.index, id.term);
    raft_log_.CommitTo(id.index);
    return false;
  }

  raft_log_.Restore(s);

  // Reset the configuration and add the (possibly updated) peers anew.
  trk_ = tracker::ProgressTracker(trk_.max_inflight, trk_.max_inflight_bytes);
  Result<confchange::ConfigAndProgress> restored =
      confchange::Restore(confchange::Changer(trk_, raft_log_.LastIndex()), cs);
  if (!restored.ok()) {
    // A bug in conf change handling, or the client corrupted the change.
    logger_->Panic("unable to restore config %s: %s", ConfStateText(cs).c_str(),
                   StatusText(restored.status()).c_str());
  }
  AssertConfStatesEquivalent(
      cs, SwitchToConfig(std::move(restored->config), std::move(restored->progress)));

  const EntryID last = raft_log_.LastEntryID();
  logger_->Info("%" PRIx64 " [commit: %" PRIu64 ", lastindex: %" PRIu64 ", lastterm: %" PRIu64
                "] restored snapshot [index: %" PRIu64 ", term: %" PRIu64 "]",
                id_, raft_log_.committed(), last.index, last.term, id.index, id.term);
  return true;
}

bool Raft::Promotable() const {
  auto it = trk_.progress.find(id_);
  return it != trk_.progress.end() && !it->second.is_learner &&
         !raft_log_.HasNextOrInProgressSnapshot();
}

// --- configuration -----------------------------------------------------------

ConfState Raft::ApplyConfChange(const ConfChangeV2& cc) {
  const confchange::Changer changer(trk_, raft_log_.LastIndex());
  Result<confchange::ConfigAndProgress> next = [&]() {
    if (LeaveJoint(cc)) return changer.LeaveJoint();
    if (const EnterJointResult ej = EnterJoint(cc); ej.ok) {
      return changer.EnterJoint(ej.auto_leave, cc.changes);
    }
    return changer.Simple(cc.changes);
  }();
  // etcd panics here too (a TODO there is to return the error instead).
  if (!next.ok()) logger_->Panic("%s", StatusText(next.status()).c_str());
  return SwitchToConfig(std::move(next->config), std::move(next->progress));
}

ConfState Raft::SwitchToConfig(tracker::Config config, tracker::ProgressMap progress) {
  trk_.config = std::move(config);
  trk_.progress = std::move(progress);

  logger_->Info("%" PRIx64 " switched to configuration %s", id_, trk_.config.String().c_str());
  ConfState cs = trk_.ConfState();
  auto it = trk_.progress.find(id_);
  const bool ok = it != trk_.progress.end();

  // Whether the node itself is a learner; false once it is removed.
  is_learner_ = ok && it->second.is_learner;

  if ((!ok || is_learner_) && state_ == StateType::kStateLeader) {
    // This node leads and was removed or demoted (demotions are refused at
    // propose time, but would be handled alike). It steps down if asked to.
    if (step_down_on_removal_) BecomeFollower(term_, kNone);
    return cs;
  }

  // The rest only matters on a leader with other voters.
  if (state_ != StateType::kStateLeader || cs.voters.empty()) return cs;

  if (MaybeCommit()) {
    // The new quorum commits more entries: tell everyone in the new
    // configuration.
    BcastAppend();
  } else {
    // Otherwise still probe the newly added peers at once, rather than
    // letting them wait for a heartbeat or the next proposal.
    for (auto& [id, pr] : trk_.progress) {
      if (id == id_) continue;
      MaybeSendAppend(id, /*send_if_empty=*/false);
    }
  }
  // A transferee that was removed or demoted ends the transfer.
  if (lead_transferee_ != kNone && !trk_.config.voters.IDs().Contains(lead_transferee_)) {
    AbortLeaderTransfer();
  }
  return cs;
}

void Raft::AssertConfStatesEquivalent(const ConfState& want, const ConfState& got) const {
  if (Equivalent(want, got)) return;
  logger_->Panic("ConfStates not equivalent after sorting:\n%s\n%s\nInputs were:\n%s\n%s",
                 DescribeConfState(want).c_str(), DescribeConfState(got).c_str(),
                 DescribeConfState(want).c_str(), DescribeConfState(got).c_str());
}

void Raft::LoadState(const HardState& hs) {
  if (hs.commit < raft_log_.committed() || hs.commit > raft_log_.LastIndex()) {
    logger_->Panic("%" PRIx64 " state.commit %" PRIu64 " is out of range [%" PRIu64 ", %" PRIu64
                   "]",
                   id_, hs.commit, raft_log_.committed(), raft_log_.LastIndex());
  }
  raft_log_.set_committed(hs.commit);
  term_ = hs.term;
  vote_ = hs.vote;
}

void Raft::ResetRandomizedElectionTimeout() {
  randomized_election_timeout_ =
      election_timeout_ +
      static_cast<int>(RandomIntn(static_cast<uint64_t>(std::max(election_timeout_, 1))));
}

uint64_t Raft::RandomIntn(uint64_t n) {
  // splitmix64.
  uint64_t z = (rand_state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return z % n;
}

bool Raft::CommittedEntryInCurrentTerm() const {
  // term_ is never 0 on a leader, so an unknown term (0) never matches.
  return raft_log_.ZeroTermOnOutOfBounds(raft_log_.Term(raft_log_.committed())) == term_;
}

// --- ReadIndex and the proposal quota ------------------------------------------------

Message Raft::ResponseToReadIndexReq(Message& req, uint64_t read_index) {
  if (req.from == kNone || req.from == id_) {
    read_states_.push_back(ReadState{read_index, std::move(req.entries[0].data)});
    return Message{};
  }
  Message resp;
  resp.type = MessageType::kMsgReadIndexResp;
  resp.to = req.from;
  resp.index = read_index;
  resp.entries = std::move(req.entries);
  return resp;
}

bool Raft::IncreaseUncommittedSize(std::span<const Entry> entries) {
  const uint64_t s = PayloadsSize(entries);
  // An empty uncommitted tail admits a proposal of any size; otherwise the
  // tail may not grow past the limit. Empty payloads always pass, so that a
  // new leader's empty entry and the auto-leave of a joint configuration
  // are never refused.
  if (uncommitted_size_ > 0 && s > 0 && uncommitted_size_ + s > max_uncommitted_size_) {
    return false;
  }
  uncommitted_size_ += s;
  return true;
}

void Raft::ReduceUncommittedSize(uint64_t payload_bytes) {
  // uncommitted_size_ may underestimate the tail, never overestimate it:
  // saturate at 0.
  uncommitted_size_ = payload_bytes > uncommitted_size_ ? 0 : uncommitted_size_ - payload_bytes;
}

void Raft::ReleasePendingReadIndexMessages() {
  // The common case, without looking up the committed entry's term.
  if (pending_read_index_messages_.empty()) return;
  if (!CommittedEntryInCurrentTerm()) {
    logger_->Error(
        "pending MsgReadIndex should be released only after first commit in current term");
    return;
  }
  std::vector<Message> msgs = std::exchange(pending_read_index_messages_, {});
  for (Message& m : msgs) SendMsgReadIndexResponse(m);
}

void Raft::SendMsgReadIndexResponse(Message& m) {
  switch (read_only_.option()) {
    case ReadOnlyOption::kReadOnlySafe:
      // More than the local ack is needed: confirm leadership with a round
      // of heartbeats whose context covers this request.
      read_only_.AddRequest(raft_log_.committed(), std::move(m));
      // The leader acks its own requests.
      read_only_.RecvAck(id_, read_only_.HeartbeatCtx());
      BcastHeartbeat();
      break;
    case ReadOnlyOption::kReadOnlyLeaseBased: {
      Message resp = ResponseToReadIndexReq(m, raft_log_.committed());
      if (resp.to != kNone) Send(std::move(resp));
      break;
    }
  }
}

}  // namespace raftlog::raft::internal
