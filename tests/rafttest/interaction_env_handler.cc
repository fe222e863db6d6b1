// The directives: argument parsing and dispatch (etcd's
// interaction_env_handler*.go).

#include <charconv>
#include <cinttypes>
#include <climits>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "raftlog/raft/conf_change.h"
#include "raftlog/raft/internal/raft.h"
#include "tests/rafttest/interaction_env.h"
#include "raftlog/raft/util.h"

namespace raftlog::raft::rafttest {

namespace {

// Go's strconv.ParseUint / ParseInt (base 10), with Go's error texts.
template <class T>
Result<T> ParseNumber(std::string_view s, const char* func) {
  T v{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec == std::errc::invalid_argument || ptr != s.data() + s.size()) {
    return Status::InvalidArgument(std::string("strconv.") + func + ": parsing \"" +
                                   std::string(s) + "\": invalid syntax");
  }
  if (ec == std::errc::result_out_of_range) {
    return Status::InvalidArgument(std::string("strconv.") + func + ": parsing \"" +
                                   std::string(s) + "\": value out of range");
  }
  return v;
}

Result<uint64_t> ParseUint(std::string_view s) { return ParseNumber<uint64_t>(s, "ParseUint"); }
Result<int64_t> ParseInt(std::string_view s) { return ParseNumber<int64_t>(s, "ParseInt"); }

// The template of every node's Config (etcd's raftConfigStub): small tick
// counts, and no limits.
Config ConfigStub() {
  Config cfg;
  cfg.election_tick = 3;
  cfg.heartbeat_tick = 1;
  cfg.max_size_per_msg = kNoLimit;
  cfg.max_inflight_msgs = INT32_MAX;
  return cfg;
}

std::optional<MessageType> MessageTypeFromName(std::string_view name) {
  for (int t = 0; t < kMessageTypeCount; t++) {
    if (MessageTypeName(static_cast<MessageType>(t)) == name) return static_cast<MessageType>(t);
  }
  return std::nullopt;
}

}  // namespace

Result<std::string> InteractionEnv::Handle(const TestData& d) {
  output_.clear();
  out_ = &output_;
  fatal_ = Status::OK();
  Status err;
  if (d.cmd == "propose-conf-change") {
    // The input is the conf change, not more directives.
    err = HandleProposeConfChange(d.cmd_args, d.input);
  } else {
    err = HandleSingle(d.cmd, d.cmd_args, d.input);
    // Every input line is one more directive (older etcd versions allow
    // this; the newer ones ignore the input).
    std::string_view commands = d.input;
    while (err.ok() && fatal_.ok() && !commands.empty()) {
      size_t nl = commands.find('\n');
      std::string_view command = commands.substr(0, nl);
      commands = nl == std::string_view::npos ? std::string_view() : commands.substr(nl + 1);
      Result<std::pair<std::string, std::vector<CmdArg>>> parsed = ParseLine(command);
      if (!parsed.ok()) {
        (void)Fatal(Status::InvalidArgument("could not parse the command line \"" +
                                            std::string(command) +
                                            "\": " + std::string(parsed.status().message())));
        break;
      }
      Status s = HandleSingle(parsed->first, parsed->second, "");
      if (!s.ok()) {
        if (Quiet()) {
          err = s;
          break;
        }
        Out(s.message());
      }
    }
  }
  if (!fatal_.ok()) return fatal_;
  // Errors are printed even when all other output is off.
  if (!err.ok()) {
    if (Quiet()) return std::string(err.message());
    Out(err.message());
  }
  if (output_.empty()) return std::string("ok");
  return output_;
}

Status InteractionEnv::HandleSingle(const std::string& cmd, const std::vector<CmdArg>& args,
                                    const std::string& input) {
  if (cmd == "_breakpoint") {
    // A place for a debugger breakpoint in long scripts.
    return Status::OK();
  }
  if (cmd == "add-nodes") return HandleAddNodes(args);
  if (cmd == "campaign") {
    Result<int64_t> n = FirstAsInt(args);
    if (!n.ok()) return Fatal(n.status());
    int64_t idx = *n - 1;
    if (idx < 0 || idx >= static_cast<int64_t>(nodes_.size())) {
      return Status::InvalidArgument(
          StringPrintf("node index %" PRId64 " out of range [0, %zu)", idx, nodes_.size()));
    }
    return nodes_[idx]->raw_node->Campaign();
  }
  if (cmd == "compact") {
    Result<size_t> idx = FirstAsNodeIdx(args);
    if (!idx.ok()) return Fatal(idx.status());
    if (args.size() < 2) return Fatal("compact: expected <id> <index>");
    RAFTLOG_ASSIGN_OR_RETURN(uint64_t index, ParseUint(args[1].key));
    return Compact(*idx, index);
  }
  if (cmd == "deliver-msgs") return HandleDeliverMsgs(args);
  if (cmd == "process-ready") {
    return ForEachNode(args, "handling Ready", [this](size_t idx) { return ProcessReady(idx); });
  }
  if (cmd == "process-append-thread") {
    return ForEachNode(args, "processing append thread",
                       [this](size_t idx) { return ProcessAppendThread(idx); });
  }
  if (cmd == "process-apply-thread") {
    return ForEachNode(args, "processing apply thread",
                       [this](size_t idx) { return ProcessApplyThread(idx); });
  }
  if (cmd == "log-level") {
    if (args.empty()) return Fatal("log-level: expected a level");
    return SetLogLevel(args[0].key);
  }
  if (cmd == "raft-log") {
    Result<size_t> idx = FirstAsNodeIdx(args);
    if (!idx.ok()) return Fatal(idx.status());
    return RaftLog(*idx);
  }
  if (cmd == "raft-state") return HandleRaftState();
  if (cmd == "set-randomized-election-timeout") return HandleSetRandomizedElectionTimeout(args);
  if (cmd == "stabilize") return HandleStabilize(args);
  if (cmd == "status") {
    Result<size_t> idx = FirstAsNodeIdx(args);
    if (!idx.ok()) return Fatal(idx.status());
    return HandleStatus(*idx);
  }
  if (cmd == "tick-election" || cmd == "tick-heartbeat") {
    Result<size_t> idx = FirstAsNodeIdx(args);
    if (!idx.ok()) return Fatal(idx.status());
    Node& n = *nodes_[*idx];
    int ticks = cmd == "tick-election" ? n.config.election_tick : n.config.heartbeat_tick;
    for (int i = 0; i < ticks; i++) n.raw_node->Tick();
    return Status::OK();
  }
  if (cmd == "transfer-leadership") return HandleTransferLeadership(args);
  if (cmd == "forget-leader") {
    Result<size_t> idx = FirstAsNodeIdx(args);
    if (!idx.ok()) return Fatal(idx.status());
    // etcd ignores the result (a refusal under lease-based reads).
    (void)nodes_[*idx]->raw_node->ForgetLeader();
    return Status::OK();
  }
  if (cmd == "send-snapshot") {
    Result<std::vector<size_t>> idxs = NodeIdxs(args);
    if (!idxs.ok()) return Fatal(idxs.status());
    if (idxs->size() != 2) return Fatal("send-snapshot: expected <from> <to>");
    return SendSnapshot((*idxs)[0], (*idxs)[1]);
  }
  if (cmd == "propose") {
    Result<size_t> idx = FirstAsNodeIdx(args);
    if (!idx.ok()) return Fatal(idx.status());
    if (args.size() != 2 || !args[1].vals.empty()) {
      return Fatal("propose: expected exactly one key with no vals");
    }
    return nodes_[*idx]->raw_node->Propose(Bytes(args[1].key));
  }
  if (cmd == "propose-conf-change") return HandleProposeConfChange(args, input);
  if (cmd == "report-unreachable") {
    Result<std::vector<size_t>> idxs = NodeIdxs(args);
    if (!idxs.ok()) return Fatal(idxs.status());
    if (idxs->size() != 2) {
      return Status::InvalidArgument(
          "must specify exactly two node indexes: node on which to report, and reported node");
    }
    Node& n = *nodes_[(*idxs)[0]];
    n.raw_node->ReportUnreachable(nodes_[(*idxs)[1]]->config.id);
    return Status::OK();
  }
  return Status::InvalidArgument("unknown command");
}

Result<int64_t> InteractionEnv::FirstAsInt(const std::vector<CmdArg>& args) {
  if (args.empty()) return Status::InvalidArgument("expected a node id as the first argument");
  Result<int64_t> n = ParseNumber<int64_t>(args[0].key, "Atoi");
  if (!n.ok()) return n.status();
  return *n;
}

Result<size_t> InteractionEnv::FirstAsNodeIdx(const std::vector<CmdArg>& args) {
  RAFTLOG_ASSIGN_OR_RETURN(int64_t n, FirstAsInt(args));
  if (n < 1 || n > static_cast<int64_t>(nodes_.size())) {
    return Status::InvalidArgument(StringPrintf("node %" PRId64 " does not exist", n));
  }
  return static_cast<size_t>(n - 1);
}

Result<std::vector<size_t>> InteractionEnv::NodeIdxs(const std::vector<CmdArg>& args) {
  std::vector<size_t> idxs;
  for (const CmdArg& arg : args) {
    if (!arg.vals.empty()) continue;  // key=value arguments are options
    RAFTLOG_ASSIGN_OR_RETURN(int64_t n, ParseNumber<int64_t>(arg.key, "Atoi"));
    if (n < 1 || n > static_cast<int64_t>(nodes_.size())) {
      return Status::InvalidArgument(StringPrintf("node %" PRId64 " does not exist", n));
    }
    idxs.push_back(static_cast<size_t>(n - 1));
  }
  return idxs;
}

Status InteractionEnv::ForEachNode(const std::vector<CmdArg>& args, std::string_view header,
                                   const std::function<Status(size_t)>& op) {
  Result<std::vector<size_t>> idxs = NodeIdxs(args);
  if (!idxs.ok()) return Fatal(idxs.status());
  for (size_t idx : *idxs) {
    Status s;
    if (idxs->size() > 1) {
      Out(StringPrintf("> %zu ", idx + 1) + std::string(header) + "\n");
      WithIndent([&] { s = op(idx); });
    } else {
      s = op(idx);
    }
    RAFTLOG_RETURN_IF_ERROR(s);
  }
  return Status::OK();
}

Status InteractionEnv::HandleAddNodes(const std::vector<CmdArg>& args) {
  Result<int64_t> n = FirstAsInt(args);
  if (!n.ok()) return Fatal(n.status());
  Snapshot snap;
  Config cfg = ConfigStub();
  for (size_t a = 1; a < args.size(); a++) {
    const CmdArg& arg = args[a];
    for (const std::string& val : arg.vals) {
      auto scan_bool = [&](bool* dest) {
        Result<bool> b = ParseGoBool(val);
        if (!b.ok()) return Fatal(b.status());
        *dest = *b;
        return Status::OK();
      };
      if (arg.key == "voters" || arg.key == "learners") {
        Result<uint64_t> id = ParseUint(val);
        if (!id.ok()) return Fatal(id.status());
        (arg.key == "voters" ? snap.metadata.conf_state.voters : snap.metadata.conf_state.learners)
            .push_back(*id);
      } else if (arg.key == "inflight") {
        Result<int64_t> v = ParseInt(val);
        if (!v.ok()) return Fatal(v.status());
        cfg.max_inflight_msgs = static_cast<int>(*v);
      } else if (arg.key == "index") {
        Result<uint64_t> v = ParseUint(val);
        if (!v.ok()) return Fatal(v.status());
        snap.metadata.index = *v;
        cfg.applied = *v;
      } else if (arg.key == "content") {
        snap.data = Bytes(val);
      } else if (arg.key == "async-storage-writes") {
        RAFTLOG_RETURN_IF_ERROR(scan_bool(&cfg.async_storage_writes));
      } else if (arg.key == "prevote") {
        RAFTLOG_RETURN_IF_ERROR(scan_bool(&cfg.pre_vote));
      } else if (arg.key == "checkquorum") {
        RAFTLOG_RETURN_IF_ERROR(scan_bool(&cfg.check_quorum));
      } else if (arg.key == "max-committed-size-per-ready") {
        Result<uint64_t> v = ParseUint(val);
        if (!v.ok()) return Fatal(v.status());
        cfg.max_committed_size_per_ready = *v;
      } else if (arg.key == "disable-conf-change-validation") {
        RAFTLOG_RETURN_IF_ERROR(scan_bool(&cfg.disable_conf_change_validation));
      } else if (arg.key == "step-down-on-removal") {
        RAFTLOG_RETURN_IF_ERROR(scan_bool(&cfg.step_down_on_removal));
      } else if (arg.key == "read-only") {
        if (val == "safe") {
          cfg.read_only_option = ReadOnlyOption::kReadOnlySafe;
        } else if (val == "lease-based") {
          cfg.read_only_option = ReadOnlyOption::kReadOnlyLeaseBased;
        } else {
          return Status::InvalidArgument("invalid read-only option " + GoQuote(val));
        }
      } else {
        return Fatal("add-nodes: unknown argument " + arg.key);
      }
      if (!fatal_.ok()) return Status::OK();
    }
  }
  return AddNodes(static_cast<int>(*n), cfg, std::move(snap));
}

Status InteractionEnv::HandleProposeConfChange(const std::vector<CmdArg>& args,
                                               const std::string& input) {
  Result<size_t> idx = FirstAsNodeIdx(args);
  if (!idx.ok()) return Fatal(idx.status());
  bool v1 = false;
  ConfChangeTransition transition = ConfChangeTransition::kAuto;
  for (size_t a = 1; a < args.size(); a++) {
    for (const std::string& val : args[a].vals) {
      if (args[a].key == "v1") {
        RAFTLOG_ASSIGN_OR_RETURN(v1, ParseGoBool(val));
      } else if (args[a].key == "transition") {
        if (val == "auto") {
          transition = ConfChangeTransition::kAuto;
        } else if (val == "implicit") {
          transition = ConfChangeTransition::kJointImplicit;
        } else if (val == "explicit") {
          transition = ConfChangeTransition::kJointExplicit;
        } else {
          return Status::InvalidArgument("unknown transition " + val);
        }
      } else {
        return Status::InvalidArgument("unknown command " + args[a].key);
      }
    }
  }
  RAFTLOG_ASSIGN_OR_RETURN(std::vector<ConfChangeSingle> ccs, ConfChangesFromString(input));
  if (v1) {
    if (ccs.size() != 1 || transition != ConfChangeTransition::kAuto) {
      return Status::InvalidArgument(
          "v1 conf change can only have one operation and no transition");
    }
    ConfChange cc;
    cc.type = ccs[0].type;
    cc.node_id = ccs[0].node_id;
    return nodes_[*idx]->raw_node->ProposeConfChange(cc);
  }
  ConfChangeV2 cc;
  cc.transition = transition;
  cc.changes = std::move(ccs);
  return nodes_[*idx]->raw_node->ProposeConfChange(cc);
}

Status InteractionEnv::HandleDeliverMsgs(const std::vector<CmdArg>& args) {
  std::optional<MessageType> type;
  std::vector<Recipient> rs;
  for (const CmdArg& arg : args) {
    if (arg.vals.empty()) {
      Result<uint64_t> id = ParseUint(arg.key);
      if (!id.ok()) return Fatal(id.status());
      rs.push_back(Recipient{*id, false});
    }
    for (const std::string& val : arg.vals) {
      if (arg.key == "drop") {
        Result<uint64_t> id = ParseUint(val);
        if (!id.ok()) return Fatal(id.status());
        for (const Recipient& r : rs) {
          if (r.id == *id) {
            return Fatal(StringPrintf("can't both deliver and drop msgs to %" PRIu64, *id));
          }
        }
        rs.push_back(Recipient{*id, true});
      } else if (arg.key == "type") {
        type = MessageTypeFromName(val);
        if (!type) return Fatal("unknown message type " + val);
      } else {
        return Fatal("deliver-msgs: unknown argument " + arg.key);
      }
    }
  }
  if (DeliverMsgs(type, rs) == 0) Out("no messages\n");
  return Status::OK();
}

Status InteractionEnv::HandleStabilize(const std::vector<CmdArg>& args) {
  Result<std::vector<size_t>> idxs = NodeIdxs(args);
  if (!idxs.ok()) return Fatal(idxs.status());
  const Level old_level = level_;
  for (const CmdArg& arg : args) {
    for (const std::string& val : arg.vals) {
      if (arg.key != "log-level") return Fatal("stabilize: unknown argument " + arg.key);
      Status s = SetLogLevel(val);
      if (!s.ok()) {
        level_ = old_level;
        return s;
      }
    }
  }
  Status s = Stabilize(*idxs);
  level_ = old_level;
  return s;
}

Status InteractionEnv::HandleTransferLeadership(const std::vector<CmdArg>& args) {
  uint64_t from = 0, to = 0;
  for (auto [key, dest] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
    const CmdArg* arg = nullptr;
    for (const CmdArg& a : args) {
      if (a.key == key) arg = &a;
    }
    if (arg == nullptr || arg->vals.size() != 1) {
      return Fatal(std::string("transfer-leadership: expected ") + key + "=<id>");
    }
    Result<uint64_t> v = ParseUint(arg->vals[0]);
    if (!v.ok()) return Fatal(v.status());
    if (*v == 0 || *v > nodes_.size()) {
      return Fatal(std::string("expected valid \"") + key + "\" argument");
    }
    *dest = *v;
  }
  nodes_[from - 1]->raw_node->TransferLeader(to);
  return Status::OK();
}

Status InteractionEnv::HandleSetRandomizedElectionTimeout(const std::vector<CmdArg>& args) {
  Result<size_t> idx = FirstAsNodeIdx(args);
  if (!idx.ok()) return Fatal(idx.status());
  const CmdArg* arg = nullptr;
  for (const CmdArg& a : args) {
    if (a.key == "timeout") arg = &a;
  }
  if (arg == nullptr || arg->vals.size() != 1) return Fatal("missing argument: timeout");
  Result<int64_t> timeout = ParseInt(arg->vals[0]);
  if (!timeout.ok()) return Fatal(timeout.status());
  if (*timeout == 0) return Fatal("timeout must not be zero");
  nodes_[*idx]->raw_node->raft().set_randomized_election_timeout(static_cast<int>(*timeout));
  return Status::OK();
}

Status InteractionEnv::HandleRaftState() {
  for (const std::unique_ptr<Node>& n : nodes_) {
    NodeStatus st = n->raw_node->GetStatus();
    // Each node's own view of the configuration.
    const bool voter = st.config.voters.IDs().Contains(st.id);
    Out(StringPrintf("%" PRIu64 ": %s %s Term:%" PRIu64 " Lead:%" PRIu64 "\n", st.id,
                     std::string(StateTypeName(st.soft_state.raft_state)).c_str(),
                     voter ? "(Voter)" : "(Non-Voter)", st.hard_state.term, st.soft_state.lead));
  }
  return Status::OK();
}

Status InteractionEnv::HandleStatus(size_t idx) {
  // etcd prints the progress map only (empty unless the node leads).
  Out(nodes_[idx]->raw_node->GetStatus().progress.String());
  return Status::OK();
}

}  // namespace raftlog::raft::rafttest
