// Raft: the raft state machine (etcd raft's raft.go).
//
// One node's protocol logic: roles (follower, pre-candidate, candidate,
// leader) and their transitions, elections with pre-vote and check-quorum
// leases, log replication with per-follower flow control, snapshots,
// membership changes with joint consensus, ReadIndex, leadership transfer
// and the proposal quota. It does no I/O: input arrives through Step() and
// Tick(); output is left in msgs() / msgs_after_append(), read_states(), and
// the raft log's unstable and committed parts, which RawNode turns into a
// Ready.
//
// Messages leave in two queues (etcd's msgs and msgsAfterAppend):
//   msgs_               may be sent at once;
//   msgs_after_append_  MsgAppResp, MsgVoteResp and MsgPreVoteResp, which
//                       acknowledge state (entries, a vote) that must be
//                       durable first; they may target this node itself
//                       (the leader's self-ack, the candidate's self-vote).
//
// Errors: Step returns ErrProposalDropped (raftlog/raft/util.h) as etcd does; every
// invariant etcd panics on goes to the Logger's Panic with etcd's text, and
// so does an unusable Storage (the core cannot continue without it).
//
// Performance notes: entries are moved from proposals and MsgApps into the
// log; the only copies are the ones a message or a Ready must own. Progress
// lookups are O(log n) in the number of peers; the step and tick functions
// are selected by role once per transition (as etcd's function fields).
//
// Thread-safety: not thread-safe; owned by one RawNode (or test) thread.

#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "raftlog/format/status.h"
#include "raftlog/raft/conf_change.h"
#include "raftlog/raft/confchange/confchange.h"
#include "raftlog/raft/config.h"
#include "raftlog/raft/internal/raft_log.h"
#include "raftlog/raft/internal/read_only.h"
#include "raftlog/raft/logger.h"
#include "raftlog/raft/quorum/quorum.h"
#include "raftlog/raft/read_state.h"
#include "raftlog/raft/ready.h"
#include "raftlog/raft/tracker/tracker.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft::internal {

// Why a node campaigns (etcd's CampaignType).
enum class CampaignType : uint8_t {
  // The first phase of an election when pre-vote is enabled.
  kPreElection,
  // A normal (time-based) election, or the second phase after a pre-vote.
  kElection,
  // A leadership transfer: skips pre-vote and the voters' leader lease.
  kTransfer,
};
// "CampaignPreElection", "CampaignElection", "CampaignTransfer" (etcd's
// string values; the transfer one travels as the vote request's context).
std::string_view CampaignTypeName(CampaignType t);

// etcd's voteRespMsgType: MsgVote -> MsgVoteResp, MsgPreVote ->
// MsgPreVoteResp. Aborts on any other type.
MessageType VoteRespMsgType(MessageType type);

class Raft {
 public:
  // The per-role message handler (etcd's stepFunc). Public so that tests
  // can install their own, as etcd's do.
  using StepFunc = Status (*)(Raft& r, Message& m);

  // etcd's newRaft: validates `config` (Panic with the validation error's
  // text if invalid; RawNode validates first and returns the error
  // instead), loads the HardState and ConfState from the storage, and starts
  // as a follower. Panics if the storage fails or holds an inconsistent
  // state (e.g. a commit index beyond its last index).
  explicit Raft(Config config);

  Raft(const Raft&) = delete;
  Raft& operator=(const Raft&) = delete;

  // Advances the logical clock by one tick: followers and candidates count
  // toward an election, leaders toward heartbeats and quorum checks.
  void Tick();

  // Processes one message (etcd's Step): first by term (a higher term makes
  // this node a follower, a stale one is mostly ignored), then by type and
  // role. Returns ErrProposalDropped for refused proposals; OK otherwise
  // (messages that cannot be handled are logged and dropped).
  Status Step(Message m);

  // Role transitions (etcd's become*). Panics on the transitions etcd
  // forbids: leader -> (pre-)candidate and follower -> leader.
  void BecomeFollower(uint64_t term, uint64_t lead);
  void BecomeCandidate();
  void BecomePreCandidate();
  void BecomeLeader();

  // Applies a membership change to the tracker (the application calls this
  // when it applies a conf-change entry) and returns the new ConfState.
  // Panics if the change is invalid for the current configuration.
  ConfState ApplyConfChange(const ConfChangeV2& cc);

  // Records that the application applied everything up to `index`, which
  // carried `size` bytes (EntrySize sum) of the applying budget; may
  // propose leaving a joint configuration (auto-leave) on the leader.
  void AppliedTo(uint64_t index, uint64_t size);
  // Records that the snapshot was applied (and is stable).
  void AppliedSnap(const Snapshot& snap);

  // Releases `payload_bytes` of the uncommitted size quota (entries were
  // applied, hence committed). Saturates at 0.
  void ReduceUncommittedSize(uint64_t payload_bytes);

  // The states exposed to the application.
  SoftState GetSoftState() const { return SoftState{lead_, state_}; }
  HardState GetHardState() const { return HardState{term_, vote_, raft_log_.committed()}; }

  // Whether this node can become leader: it is a voter of its configuration
  // and has no snapshot pending.
  bool Promotable() const;

  // Restores the log and configuration from a snapshot (etcd's restore);
  // returns false if the snapshot was ignored (stale, not a member, not a
  // follower, or already matching the log, in which case commit just
  // fast-forwards). REQUIRES: snapshot != nullptr.
  bool Restore(std::shared_ptr<const Snapshot> snapshot);

  // Sends an append to `to` with new entries (if any) and the commit index.
  void SendAppend(uint64_t to) { MaybeSendAppend(to, /*send_if_empty=*/true); }
  // Sends an append if there is something to send and the flow allows it
  // (or send_if_empty); falls back to a snapshot when the needed entries are
  // compacted. Returns whether a message was sent.
  bool MaybeSendAppend(uint64_t to, bool send_if_empty);
  void BcastAppend();
  void BcastHeartbeat();

  // Attempts to advance the commit index from the quorum's acknowledgements
  // (leader only). Returns whether it changed.
  bool MaybeCommit();

  // Resets the per-term state (etcd's reset): a new term clears the vote.
  void Reset(uint64_t term);

  // Appends `entries` (terms and indexes are assigned here) to the leader's
  // log, subject to the uncommitted size quota. Returns false, changing
  // nothing, if the quota refuses them.
  bool AppendEntry(std::vector<Entry> entries);

  // The election timeout counting (followers, candidates) and heartbeat
  // counting (leaders) behind Tick(). Public for tests, as in etcd.
  void TickElection();
  void TickHeartbeat();

  // Starts a campaign if allowed (etcd's hup); logs why not otherwise.
  void Hup(CampaignType t);
  // Becomes (pre-)candidate and asks for votes. The caller has checked that
  // this is allowed.
  void Campaign(CampaignType t);

  // Whether committed entries not yet applied contain a conf change.
  bool HasUnappliedConfChanges() const;

  // Whether the election timeout has passed.
  bool PastElectionTimeout() const { return election_elapsed_ >= randomized_election_timeout_; }
  void ResetRandomizedElectionTimeout();

  // Whether the leader has committed an entry of its current term.
  bool CommittedEntryInCurrentTerm() const;

  // Drops an ongoing leadership transfer.
  void AbortLeaderTransfer() { lead_transferee_ = kNone; }

  // Moves the queued messages out (test networks and RawNode).
  std::vector<Message> TakeMsgs() { return std::exchange(msgs_, {}); }
  std::vector<Message> TakeMsgsAfterAppend() { return std::exchange(msgs_after_append_, {}); }
  std::vector<ReadState> TakeReadStates() { return std::exchange(read_states_, {}); }

  // State, for RawNode, Status and tests.
  uint64_t id() const { return id_; }
  uint64_t term() const { return term_; }
  uint64_t vote() const { return vote_; }
  uint64_t lead() const { return lead_; }
  StateType state() const { return state_; }
  bool is_learner() const { return is_learner_; }
  uint64_t lead_transferee() const { return lead_transferee_; }
  uint64_t pending_conf_index() const { return pending_conf_index_; }
  uint64_t uncommitted_size() const { return uncommitted_size_; }
  int election_elapsed() const { return election_elapsed_; }
  int heartbeat_elapsed() const { return heartbeat_elapsed_; }
  int election_timeout() const { return election_timeout_; }
  int heartbeat_timeout() const { return heartbeat_timeout_; }
  int randomized_election_timeout() const { return randomized_election_timeout_; }
  bool check_quorum() const { return check_quorum_; }
  bool pre_vote() const { return pre_vote_; }
  uint64_t max_msg_size() const { return max_msg_size_; }
  uint64_t max_uncommitted_size() const { return max_uncommitted_size_; }
  const RaftLog& raft_log() const { return raft_log_; }
  RaftLog& raft_log() { return raft_log_; }
  const tracker::ProgressTracker& trk() const { return trk_; }
  tracker::ProgressTracker& trk() { return trk_; }
  const ReadOnly& read_only() const { return read_only_; }
  const std::vector<Message>& msgs() const { return msgs_; }
  std::vector<Message>& msgs() { return msgs_; }
  const std::vector<Message>& msgs_after_append() const { return msgs_after_append_; }
  std::vector<Message>& msgs_after_append() { return msgs_after_append_; }
  const std::vector<ReadState>& read_states() const { return read_states_; }
  std::vector<ReadState>& read_states() { return read_states_; }
  const std::vector<Message>& pending_read_index_messages() const {
    return pending_read_index_messages_;
  }
  Logger& logger() const { return *logger_; }

  // etcd's tests assign these fields directly.
  void set_id(uint64_t id) { id_ = id; }
  void set_term(uint64_t term) { term_ = term; }
  void set_vote(uint64_t vote) { vote_ = vote; }
  void set_lead(uint64_t lead) { lead_ = lead; }
  void set_state(StateType state) { state_ = state; }
  void set_lead_transferee(uint64_t id) { lead_transferee_ = id; }
  void set_pending_conf_index(uint64_t i) { pending_conf_index_ = i; }
  void set_uncommitted_size(uint64_t s) { uncommitted_size_ = s; }
  void set_election_elapsed(int ticks) { election_elapsed_ = ticks; }
  void set_heartbeat_elapsed(int ticks) { heartbeat_elapsed_ = ticks; }
  void set_randomized_election_timeout(int ticks) { randomized_election_timeout_ = ticks; }
  void set_check_quorum(bool on) { check_quorum_ = on; }
  void set_pre_vote(bool on) { pre_vote_ = on; }
  void set_step(StepFunc step) { step_ = step; }
  void set_max_msg_size(uint64_t size) { max_msg_size_ = size; }
  void set_max_uncommitted_size(uint64_t size) { max_uncommitted_size_ = size; }
  void set_read_only_option(ReadOnlyOption option) { read_only_ = ReadOnly(option); }
  void set_disable_conf_change_validation(bool on) { disable_conf_change_validation_ = on; }
  void set_step_down_on_removal(bool on) { step_down_on_removal_ = on; }

  // The per-role step functions (etcd's stepLeader, stepCandidate,
  // stepFollower).
  static Status StepLeader(Raft& r, Message& m);
  static Status StepCandidate(Raft& r, Message& m);
  static Status StepFollower(Raft& r, Message& m);

 private:
  enum class TickFunc : uint8_t { kElection, kHeartbeat };

  // The constructor proper, for a config that passed Validate().
  Raft(Config validated_config, bool validated);

  // Queues `m` for sending, filling in From and Term (etcd's send).
  void Send(Message m);
  void SendHeartbeat(uint64_t to, const Bytes& ctx);
  void SendTimeoutNow(uint64_t to);
  bool MaybeSendSnapshot(uint64_t to, tracker::Progress& pr);

  void HandleAppendEntries(Message& m);
  void HandleHeartbeat(Message& m);
  void HandleSnapshot(Message& m);
  void HandleAppendResponse(Message& m, tracker::Progress& pr);
  void HandleHeartbeatResponse(Message& m, tracker::Progress& pr);
  void HandleTransferLeader(Message& m, tracker::Progress& pr);
  Status HandleProposal(Message& m);

  // Records a vote and tallies the election.
  tracker::TallyResult Poll(uint64_t id, MessageType type, bool granted);

  // Installs a configuration computed by confchange and reacts to it.
  ConfState SwitchToConfig(tracker::Config config, tracker::ProgressMap progress);
  // Panics unless the two ConfStates are equivalent.
  void AssertConfStatesEquivalent(const ConfState& want, const ConfState& got) const;
  void LoadState(const HardState& hs);

  bool IncreaseUncommittedSize(std::span<const Entry> entries);

  // ReadIndex handling.
  void SendMsgReadIndexResponse(Message& m);
  void ReleasePendingReadIndexMessages();
  // Answers `req` with read index `read_index`: a local request becomes a
  // ReadState; a follower's request becomes the returned MsgReadIndexResp
  // (to == kNone when nothing is to be sent).
  Message ResponseToReadIndexReq(Message& req, uint64_t read_index);

  // A uniformly distributed integer in [0, n).
  uint64_t RandomIntn(uint64_t n);

  uint64_t id_;
  uint64_t term_ = 0;
  uint64_t vote_ = kNone;

  std::vector<ReadState> read_states_;

  RaftLog raft_log_;

  uint64_t max_msg_size_;          // EntrySize bytes per MsgApp
  uint64_t max_uncommitted_size_;  // PayloadSize bytes of the uncommitted tail

  tracker::ProgressTracker trk_;

  StateType state_ = StateType::kStateFollower;

  // Whether the local node is a learner.
  bool is_learner_ = false;

  // Messages to send at once. Never addressed to this node.
  std::vector<Message> msgs_;
  // Messages to send once the unstable state accumulated so far (term,
  // vote, entries, snapshot) is durable, including state handed out in
  // earlier Readys and still being written. MsgAppResp, MsgVoteResp and
  // MsgPreVoteResp only; they may be addressed to this node.
  std::vector<Message> msgs_after_append_;

  // The leader's id, or kNone.
  uint64_t lead_ = kNone;
  // The target of an ongoing leadership transfer (Raft thesis §3.10), or
  // kNone.
  uint64_t lead_transferee_ = kNone;
  // Invariant: >= the log index of the latest pending conf change, if any.
  // Conf changes are proposed only once the leader has applied past it, so
  // at most one is pending at a time.
  uint64_t pending_conf_index_ = 0;
  bool disable_conf_change_validation_;
  // An estimate of the payload bytes of the uncommitted log tail, to bound
  // its growth. Only maintained by the leader; reset on term changes. It may
  // underestimate, never overestimate.
  uint64_t uncommitted_size_ = 0;

  ReadOnly read_only_;

  // Ticks since the last election timeout (leader, candidate) or since the
  // last valid message from the current leader (follower).
  int election_elapsed_ = 0;
  // Ticks since the last heartbeat timeout; leader only.
  int heartbeat_elapsed_ = 0;

  bool check_quorum_;
  bool pre_vote_;

  int heartbeat_timeout_;
  int election_timeout_;
  // Random in [election_timeout_, 2 * election_timeout_ - 1]; reset on
  // becoming follower or candidate.
  int randomized_election_timeout_ = 0;
  bool disable_proposal_forwarding_;
  bool step_down_on_removal_;

  TickFunc tick_ = TickFunc::kElection;
  StepFunc step_ = &Raft::StepFollower;

  Logger* logger_;  // borrowed

  // MsgReadIndex requests a new leader cannot answer before it committed an
  // entry of its term; answered as soon as it has.
  std::vector<Message> pending_read_index_messages_;

  // The state of a small PRNG (splitmix64) for the randomized election
  // timeout: per node, so that nodes need no shared lock.
  uint64_t rand_state_;
};

}  // namespace raftlog::raft::internal
