// raftlog-kv: a replicated key-value server on raftlog, and its client.
//
//   raftlog-kv serve --id 1 --listen 127.0.0.1:8001
//       --peers 1=127.0.0.1:8001,2=127.0.0.1:8002,3=127.0.0.1:8003 --data-dir /tmp/kv1
//   raftlog-kv put KEY VALUE | get KEY | del KEY | cas KEY NEW (--expected OLD | --absent)
//   raftlog-kv members | member add|add-learner|promote|remove ID [ADDR] | status
//
// Server settings come from flags or from a file given with --config (one
// "name = value" line per flag, e.g. "id = 1"); flags win. docs/kv.md
// describes the design; scripts/cluster.sh starts a local 3-node cluster.

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "kv/client.h"
#include "kv/log.h"
#include "kv/node.h"
#include "kv/server.h"

namespace {

using namespace raftlog::kv;

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = s.find(sep, start);
    std::string part = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!part.empty()) out.push_back(part);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

bool ParsePeers(const std::string& text, std::map<uint64_t, std::string>* peers, std::string* err) {
  for (const std::string& item : Split(text, ',')) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      *err = "peer '" + item + "' is not ID=HOST:PORT";
      return false;
    }
    try {
      (*peers)[std::stoull(item.substr(0, eq))] = item.substr(eq + 1);
    } catch (...) {
      *err = "peer '" + item + "' has a bad id";
      return false;
    }
  }
  return true;
}

struct ServeFlags {
  uint64_t id = 0;
  std::string listen;
  std::string peers;
  std::string data_dir;
  std::string storage = "disk";
  bool join = false;
  int tick_ms = 100;
  int election_tick = 10;
  int heartbeat_tick = 1;
  uint64_t snapshot_interval = 10000;
  uint64_t snapshot_keep = 5000;
  int request_timeout_ms = 3000;
  std::string log_level = "info";
  bool fault_hooks = false;
  bool unsafe_stale_reads = false;
};

int Serve(const ServeFlags& f) {
  Log::Level level;
  if (!Log::ParseLevel(f.log_level, &level)) {
    std::fprintf(stderr, "raftlog-kv: --log-level must be debug, info, warn or error\n");
    return 2;
  }
  Log log(f.id, level);
  NodeOptions o;
  o.id = f.id;
  o.data_dir = f.data_dir;
  o.storage = f.storage;
  o.join = f.join;
  o.tick = std::chrono::milliseconds(f.tick_ms);
  o.election_tick = f.election_tick;
  o.heartbeat_tick = f.heartbeat_tick;
  o.snapshot_interval = f.snapshot_interval;
  o.snapshot_keep = f.snapshot_keep;
  o.request_timeout = std::chrono::milliseconds(f.request_timeout_ms);
  o.unsafe_stale_reads = f.unsafe_stale_reads;
  std::string err;
  if (!ParsePeers(f.peers, &o.peers, &err)) {
    log.Error("bad --peers", {{"error", err}});
    return 2;
  }
  std::string listen = f.listen;
  if (listen.empty() && o.peers.count(f.id) != 0) listen = o.peers[f.id];
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    log.Error("--listen must be HOST:PORT (or this node must be in --peers)");
    return 2;
  }
  if (o.storage != "memory" && o.data_dir.empty()) {
    log.Error("--data-dir is required (or --storage memory)");
    return 2;
  }

  // Signals go to a thread of their own, which stops the server cleanly.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  raftlog::Result<std::unique_ptr<Node>> node = Node::Start(o, &log);
  if (!node.ok()) {
    log.Error("cannot start the node", {{"error", node.status().ToString()}});
    return 1;
  }
  Server server(node->get(), &log, f.fault_hooks);
  raftlog::Status s = server.Bind(listen.substr(0, colon), std::stoi(listen.substr(colon + 1)));
  if (!s.ok()) {
    log.Error("cannot listen", {{"error", s.ToString()}});
    return 1;
  }
  std::thread signals([&] {
    int sig = 0;
    sigwait(&set, &sig);
    log.Info("stopping", {{"signal", sig}});
    server.Stop();
  });
  log.Info("serving", {{"listen", listen}});
  server.Serve();
  (*node)->Stop();
  log.Info("stopped");
  // The signal thread waits for a signal that may never come after a
  // Stop() from elsewhere; leave without joining it.
  signals.detach();
  return 0;
}

// `serve --config FILE`: the file's "name = value" lines (# comments, blank
// lines, optional quotes) become --name=value arguments placed before the
// command line's own, so that flags given on the command line win.
bool ExpandConfig(int argc, char** argv, std::vector<std::string>* out, std::string* err) {
  out->assign(argv, argv + argc);
  if (argc < 2 || std::string(argv[1]) != "serve") return true;
  std::string path;
  std::vector<std::string> rest;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      path = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      path = a.substr(9);
    } else {
      rest.push_back(a);
    }
  }
  if (path.empty()) return true;
  std::ifstream in(path);
  if (!in) {
    *err = "cannot read config file " + path;
    return false;
  }
  std::vector<std::string> from_file;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    auto trim = [](std::string s) {
      const size_t b = s.find_first_not_of(" \t\r");
      const size_t e = s.find_last_not_of(" \t\r");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) {
      *err = path + ":" + std::to_string(n) + ": expected name = value";
      return false;
    }
    const std::string name = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    from_file.push_back("--" + name + "=" + value);
  }
  out->resize(2);
  out->insert(out->end(), from_file.begin(), from_file.end());
  out->insert(out->end(), rest.begin(), rest.end());
  return true;
}

int Print(const ClientResult& r) {
  if (r.ok()) {
    std::cout << r.body.dump() << "\n";
    return 0;
  }
  std::cerr << (r.code == ClientResult::Code::kUnknown ? "outcome unknown: " : "failed: ") << r.error
            << "\n";
  return r.code == ClientResult::Code::kUnknown ? 3 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"raftlog-kv: a replicated key-value service on raftlog"};
  app.require_subcommand(1);
  std::string endpoints = "127.0.0.1:8001,127.0.0.1:8002,127.0.0.1:8003";
  int timeout_ms = 5000;

  ServeFlags f;
  CLI::App* serve = app.add_subcommand("serve", "run a node");
  // A flag given twice (in the config file, then on the command line): the
  // last one wins.
  serve->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::string config_path;  // read by ExpandConfig before parsing
  serve->add_option("--config", config_path, "read flags from this file (name = value lines)");
  serve->add_option("--id", f.id, "this node's id (> 0)")->required();
  serve->add_option("--listen", f.listen, "HOST:PORT for peers and clients (default: from --peers)");
  serve->add_option("--peers", f.peers, "ID=HOST:PORT,... every member (this node included)");
  serve->add_option("--data-dir", f.data_dir, "where the raft log and snapshots live");
  serve->add_option("--storage", f.storage, "disk, disk-nosync or memory (benchmarks only)");
  serve->add_flag("--join", f.join, "join a running cluster (added with 'member add')");
  serve->add_option("--tick-ms", f.tick_ms, "raft tick interval");
  serve->add_option("--election-tick", f.election_tick, "ticks without a leader before an election");
  serve->add_option("--heartbeat-tick", f.heartbeat_tick, "ticks between heartbeats");
  serve->add_option("--snapshot-interval", f.snapshot_interval, "applied entries between snapshots");
  serve->add_option("--snapshot-keep", f.snapshot_keep, "entries kept behind a snapshot");
  serve->add_option("--request-timeout-ms", f.request_timeout_ms, "client operation timeout");
  serve->add_option("--log-level", f.log_level, "debug, info, warn, error");
  serve->add_flag("--enable-fault-hooks", f.fault_hooks, "allow POST /v1/fault (testing only)");
  serve->add_flag("--unsafe-stale-reads", f.unsafe_stale_reads,
                  "a deliberate bug: reads without ReadIndex, on any node (to test the harness)");

  auto client_opts = [&](CLI::App* c) {
    c->add_option("--endpoints", endpoints, "HOST:PORT,... of the nodes");
    c->add_option("--timeout-ms", timeout_ms, "deadline of the operation");
  };
  std::string key, value, expected, op, addr;
  uint64_t id = 0;
  bool absent = false;
  CLI::App* put = app.add_subcommand("put", "set KEY to VALUE");
  put->add_option("key", key)->required();
  put->add_option("value", value)->required();
  CLI::App* get = app.add_subcommand("get", "read KEY (linearizable)");
  get->add_option("key", key)->required();
  CLI::App* del = app.add_subcommand("del", "delete KEY");
  del->add_option("key", key)->required();
  CLI::App* cas = app.add_subcommand("cas", "set KEY to NEW if it is --expected (or --absent)");
  cas->add_option("key", key)->required();
  cas->add_option("new", value)->required();
  cas->add_option("--expected", expected, "the value KEY must have");
  cas->add_flag("--absent", absent, "KEY must be absent");
  CLI::App* members = app.add_subcommand("members", "list the members and the leader");
  CLI::App* member = app.add_subcommand("member", "change the membership");
  member->add_option("op", op, "add, add-learner, promote, remove")->required();
  member->add_option("id", id)->required();
  member->add_option("addr", addr, "HOST:PORT of a new member");
  CLI::App* status = app.add_subcommand("status", "every endpoint's raft status");
  for (CLI::App* c : {put, get, del, cas, members, member, status}) client_opts(c);

  std::vector<std::string> args;
  std::string config_err;
  if (!ExpandConfig(argc, argv, &args, &config_err)) {
    std::fprintf(stderr, "raftlog-kv: %s\n", config_err.c_str());
    return 2;
  }
  std::vector<char*> cargs;
  for (std::string& a : args) cargs.push_back(a.data());
  CLI11_PARSE(app, static_cast<int>(cargs.size()), cargs.data());
  if (serve->parsed()) return Serve(f);

  ClientOptions copts;
  copts.deadline = std::chrono::milliseconds(timeout_ms);
  Client client(Split(endpoints, ','), copts);
  if (put->parsed()) return Print(client.Put(key, value));
  if (get->parsed()) {
    ClientResult r = client.Get(key);
    if (r.ok() && !r.found()) {
      std::cerr << "not found: " << key << "\n";
      return 4;
    }
    if (r.ok()) {
      std::cout << r.value() << "\n";
      return 0;
    }
    return Print(r);
  }
  if (del->parsed()) return Print(client.Delete(key));
  if (cas->parsed()) {
    if (absent == (cas->count("--expected") != 0)) {
      std::cerr << "cas: give exactly one of --expected VALUE and --absent\n";
      return 2;
    }
    return Print(client.Cas(key, absent ? std::nullopt : std::optional<std::string>(expected), value));
  }
  if (members->parsed()) return Print(client.Members());
  if (member->parsed()) return Print(client.ChangeMember(op, id, addr));
  if (status->parsed()) {
    int rc = 0;
    for (const std::string& e : Split(endpoints, ',')) {
      ClientResult r = client.Status(e);
      std::cout << e << " " << (r.ok() ? r.body.dump() : "unreachable: " + r.error) << "\n";
      if (!r.ok()) rc = 1;
    }
    return rc;
  }
  return 2;
}
