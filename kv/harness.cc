// raftlog-kv-harness: the fault harness. It runs a real raftlog-kv cluster
// (one process per node, DiskStorage, HTTP between nodes on 127.0.0.1),
// drives it with clients on several threads doing random get/put/del/cas,
// and meanwhile injects faults: SIGKILL and restart, SIGSTOP/SIGCONT,
// network partitions and delays through the transport's fault hooks,
// membership changes (add a learner, promote it, remove another voter), and
// restarts of every node at once. It records the invocation and completion
// of every operation, restarts all nodes at the end, reads every key, and
// checks the history for linearizability (kv/linearizability.h) and for
// acknowledged writes that were lost. Exit status 0 only if both hold.
//
// Seeded: the seed fixes the fault schedule and every client's choice of
// operations; the real timing of processes still varies from run to run.
// docs/reliability.md has the runs and their figures.

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "kv/client.h"
#include "kv/cluster.h"
#include "kv/linearizability.h"
#include "raftlog/port/mutex.h"

namespace {

using namespace raftlog::kv;
using check::OpKind;
using check::Operation;
using Clock = std::chrono::steady_clock;

struct Flags {
  uint64_t seed = 1;
  int duration_s = 20;
  int clients = 6;
  int keys = 12;
  std::string dir;
  std::string binary;
  bool keep = false;
  bool membership = true;
  uint64_t snapshot_interval = 300;
  uint64_t snapshot_keep = 100;
  bool inject_stale_reads = false;
};

struct Counters {
  std::atomic<uint64_t> kills{0}, leader_kills{0}, pauses{0}, partitions{0}, delays{0};
  std::atomic<uint64_t> membership_changes{0}, full_restarts{0};
  std::atomic<uint64_t> ok{0}, unknown{0}, failed{0};
};

const Clock::time_point kStart = Clock::now();
int64_t Now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - kStart).count();
}

void Log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void Log(const char* fmt, ...) {
  std::fprintf(stderr, "[harness %7.3fs] ", Now() / 1e9);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}

void Sleep(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// One client thread: random operations until `stop`, every one recorded.
void RunClient(int index, const Flags& f, Cluster& cluster, const std::atomic<bool>& stop,
               Counters& counters, std::vector<Operation>* history) {
  std::mt19937_64 rng(f.seed * 1000003 + static_cast<uint64_t>(index));
  ClientOptions copts;
  copts.deadline = std::chrono::milliseconds(2000);
  copts.request_timeout = std::chrono::milliseconds(2500);
  std::unique_ptr<Client> client;
  std::vector<std::string> endpoints;
  std::map<std::string, std::optional<std::string>> seen;  // last value observed per key
  uint64_t n = 0;
  while (!stop.load()) {
    if (client == nullptr || endpoints != cluster.Endpoints()) {
      endpoints = cluster.Endpoints();
      client = std::make_unique<Client>(endpoints, copts);
    }
    // Now and then start at a random node, as a client that does not know
    // the leader would: followers must redirect, never answer themselves.
    if (rng() % 10 == 0) client->set_current(static_cast<size_t>(rng()));
    Operation op;
    op.client = index;
    op.key = "k" + std::to_string(rng() % static_cast<uint64_t>(f.keys));
    const int dice = static_cast<int>(rng() % 100);
    const std::string fresh = "c" + std::to_string(index) + "-" + std::to_string(++n);
    ClientResult r;
    op.call = Now();
    if (dice < 40) {
      op.kind = OpKind::kGet;
      r = client->Get(op.key);
      if (r.ok()) op.value = r.found() ? std::optional<std::string>(r.value()) : std::nullopt;
    } else if (dice < 70) {
      op.kind = OpKind::kPut;
      op.value = fresh;
      r = client->Put(op.key, fresh);
    } else if (dice < 78) {
      op.kind = OpKind::kDelete;
      r = client->Delete(op.key);
    } else {
      op.kind = OpKind::kCas;
      op.value = fresh;
      auto it = seen.find(op.key);
      if (it != seen.end() && rng() % 4 != 0) {
        op.expected = it->second;
      } else {
        op.expected = "c" + std::to_string(rng() % f.clients) + "-" + std::to_string(rng() % (n + 1));
      }
      r = client->Cas(op.key, op.expected, fresh);
      if (r.ok()) op.swapped = r.swapped();
    }
    op.ret = Now();
    switch (r.code) {
      case ClientResult::Code::kOk:
        counters.ok++;
        history->push_back(op);
        if (op.kind == OpKind::kGet) seen[op.key] = op.value;
        if (op.kind == OpKind::kPut || (op.kind == OpKind::kCas && op.swapped)) seen[op.key] = op.value;
        if (op.kind == OpKind::kDelete) seen[op.key] = std::nullopt;
        break;
      case ClientResult::Code::kUnknown:
        counters.unknown++;
        // A read that got no answer tells nothing; a write may have happened.
        if (op.kind != OpKind::kGet) {
          op.known = false;
          history->push_back(op);
        }
        break;
      case ClientResult::Code::kFailed:
        counters.failed++;  // certainly not done: not part of the history
        Sleep(20);
        break;
    }
  }
}

class Nemesis {
 public:
  Nemesis(const Flags& f, Cluster& cluster, Counters& counters)
      : f_(f), cluster_(cluster), c_(counters), rng_(f.seed) {}

  void Run(const std::atomic<bool>& stop) {
    while (!stop.load()) {
      Sleep(Between(300, 1500));
      Collect();
      if (stop.load()) break;
      const int dice = Between(0, 99);
      if (dice < 20) {
        KillOne(false);
      } else if (dice < 30) {
        KillOne(true);
      } else if (dice < 45) {
        PauseOne();
      } else if (dice < 65) {
        Partition(dice < 55);
      } else if (dice < 75) {
        Delay();
      } else if (dice < 92) {
        if (f_.membership) {
          ChangeMembership();
        } else {
          KillOne(false);
        }
      } else {
        RestartAll();
      }
      Collect();
    }
  }

  // Removes the processes that are not members (a joiner whose addition
  // timed out and never took effect). False if the leader did not answer.
  bool Reconcile(std::vector<uint64_t>* voters, std::vector<uint64_t>* learners) {
    if (!cluster_.Members(voters, learners)) return false;
    for (uint64_t id : cluster_.Ids()) {
      if (std::find(voters->begin(), voters->end(), id) == voters->end() &&
          std::find(learners->begin(), learners->end(), id) == learners->end()) {
        Log("membership: node %" PRIu64 " is not a member; removing its process", id);
        cluster_.Destroy(id);
      }
    }
    return true;
  }

  // Nodes that died without being killed: each is a failure of the run.
  void Collect() {
    for (const std::string& e : cluster_.UnexpectedExits()) {
      Log("UNEXPECTED EXIT: %s", e.c_str());
      crashes_.push_back(e);
    }
  }
  const std::vector<std::string>& crashes() const { return crashes_; }

 private:
  int Between(int lo, int hi) { return lo + static_cast<int>(rng_() % static_cast<uint64_t>(hi - lo + 1)); }

  uint64_t Pick(bool leader) {
    if (leader) {
      const uint64_t l = cluster_.WaitForLeader(2000);
      if (l != 0) return l;
    }
    std::vector<uint64_t> ids = cluster_.LiveIds();
    if (ids.empty()) return 0;
    return ids[rng_() % ids.size()];
  }

  void KillOne(bool leader) {
    const uint64_t id = Pick(leader);
    if (id == 0) return;
    Log("kill -9 node %" PRIu64 "%s", id, leader ? " (leader)" : "");
    cluster_.Kill(id);
    (leader ? c_.leader_kills : c_.kills)++;
    Sleep(Between(200, 2500));
    if (raftlog::Status s = cluster_.Restart(id); !s.ok()) Log("restart failed: %s", s.ToString().c_str());
    Log("restarted node %" PRIu64, id);
  }

  void PauseOne() {
    const uint64_t id = Pick(Between(0, 1) == 0);
    if (id == 0) return;
    Log("SIGSTOP node %" PRIu64, id);
    cluster_.Pause(id);
    c_.pauses++;
    Sleep(Between(300, 3000));
    cluster_.Resume(id);
    Log("SIGCONT node %" PRIu64, id);
  }

  void Partition(bool leader) {
    const uint64_t id = Pick(leader);
    if (id == 0) return;
    Log("partition: node %" PRIu64 "%s isolated", id, leader ? " (leader)" : "");
    for (uint64_t other : cluster_.Ids()) {
      if (other == id) continue;
      cluster_.SetFault(id, other, true, 0);
      cluster_.SetFault(other, id, true, 0);
    }
    c_.partitions++;
    Sleep(Between(500, 4000));
    cluster_.ClearFaults();
    Log("partition healed");
  }

  void Delay() {
    const uint64_t id = Pick(false);
    if (id == 0) return;
    const int ms = Between(20, 300);
    Log("delay: %d ms on node %" PRIu64 "'s links", ms, id);
    for (uint64_t other : cluster_.Ids()) {
      if (other == id) continue;
      cluster_.SetFault(id, other, false, static_cast<uint32_t>(ms));
      cluster_.SetFault(other, id, false, static_cast<uint32_t>(ms));
    }
    c_.delays++;
    Sleep(Between(500, 3000));
    cluster_.ClearFaults();
  }

  // Brings the configuration back to three voters and the processes in line
  // with it, then replaces one voter: add a new node as a learner, promote
  // it, remove another voter (sometimes the leader).
  void ChangeMembership() {
    Client client(cluster_.Endpoints());
    std::vector<uint64_t> voters, learners;
    if (!Reconcile(&voters, &learners)) return;
    for (uint64_t id : learners) {
      ClientResult r = client.ChangeMember("promote", id, "");
      Log("membership: promote leftover learner %" PRIu64 ": %s", id, r.ok() ? "ok" : r.error.c_str());
    }
    if (!learners.empty()) return;

    raftlog::Result<uint64_t> joiner = cluster_.StartJoiner();
    if (!joiner.ok()) return;
    const uint64_t id = *joiner;
    ClientResult r = client.ChangeMember("add-learner", id, cluster_.Addr(id));
    Log("membership: add learner %" PRIu64 " at %s: %s", id, cluster_.Addr(id).c_str(),
        r.ok() ? "ok" : r.error.c_str());
    if (!r.ok()) return;  // the next membership step reconciles
    c_.membership_changes++;
    Sleep(Between(300, 1500));  // let it catch up (by snapshot)
    r = client.ChangeMember("promote", id, "");
    Log("membership: promote %" PRIu64 ": %s", id, r.ok() ? "ok" : r.error.c_str());
    if (!r.ok()) return;
    c_.membership_changes++;
    Sleep(Between(100, 1000));
    std::vector<uint64_t> others;
    for (uint64_t v : voters) {
      if (v != id) others.push_back(v);
    }
    if (others.size() < 3) return;
    const uint64_t victim = others[rng_() % others.size()];
    r = client.ChangeMember("remove", victim, "");
    Log("membership: remove %" PRIu64 ": %s", victim, r.ok() ? "ok" : r.error.c_str());
    if (!r.ok()) return;
    c_.membership_changes++;
    Sleep(200);
    cluster_.Destroy(victim);
  }

  void RestartAll() {
    Log("kill -9 every node");
    for (uint64_t id : cluster_.Ids()) cluster_.Kill(id);
    c_.full_restarts++;
    Sleep(Between(100, 1000));
    for (uint64_t id : cluster_.Ids()) (void)cluster_.Restart(id);
    Log("restarted every node");
  }

  const Flags& f_;
  Cluster& cluster_;
  Counters& c_;
  std::mt19937_64 rng_;
  std::vector<std::string> crashes_;
};

void WriteHistory(const std::string& path, const std::vector<Operation>& ops) {
  std::ofstream out(path);
  for (const Operation& op : ops) out << check::Describe(op) << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"raftlog-kv-harness: fault injection and linearizability check of raftlog-kv"};
  app.add_option("--seed", f.seed, "seed of the fault schedule and the clients");
  app.add_option("--duration", f.duration_s, "seconds of faults and load");
  app.add_option("--clients", f.clients, "client threads");
  app.add_option("--keys", f.keys, "keys the clients use");
  app.add_option("--dir", f.dir, "work directory (default: a new one under /tmp)");
  app.add_option("--binary", f.binary, "the raftlog-kv server (default: beside this program)");
  app.add_flag("--keep", f.keep, "keep the work directory even when the run passes");
  app.add_flag("!--no-membership", f.membership, "no membership changes");
  app.add_option("--snapshot-interval", f.snapshot_interval, "entries between node snapshots");
  app.add_flag("--inject-stale-reads", f.inject_stale_reads,
               "run the nodes with a deliberate bug (reads without ReadIndex): the check must fail");
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  if (f.binary.empty()) f.binary = SelfDir() + "/raftlog-kv";
  if (f.dir.empty()) {
    char tmpl[] = "/tmp/raftlog-kv-harness-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 2;
    f.dir = tmpl;
  }
  Log("seed %" PRIu64 ", %d s, %d clients, %d keys, dir %s", f.seed, f.duration_s, f.clients,
      f.keys, f.dir.c_str());

  ClusterOptions copts;
  copts.binary = f.binary;
  copts.dir = f.dir;
  copts.fault_hooks = true;
  copts.snapshot_interval = f.snapshot_interval;
  copts.snapshot_keep = f.snapshot_keep;
  copts.unsafe_stale_reads = f.inject_stale_reads;
  Cluster cluster(copts);
  if (raftlog::Status s = cluster.Bootstrap(3); !s.ok()) {
    Log("cannot start the cluster: %s", s.ToString().c_str());
    return 2;
  }
  if (cluster.WaitForLeader(20000) == 0) {
    Log("no leader after 20 s");
    return 2;
  }

  Counters counters;
  std::atomic<bool> stop_clients{false}, stop_nemesis{false};
  std::vector<std::vector<Operation>> histories(f.clients);
  std::vector<std::thread> clients;
  for (int i = 0; i < f.clients; ++i) {
    clients.emplace_back(
        [&, i] { RunClient(i, f, cluster, stop_clients, counters, &histories[i]); });
  }
  Nemesis nemesis(f, cluster, counters);
  std::thread nemesis_thread([&] { nemesis.Run(stop_nemesis); });
  std::this_thread::sleep_for(std::chrono::seconds(f.duration_s));
  stop_nemesis = true;
  nemesis_thread.join();
  nemesis.Collect();
  Log("faults over; healing");
  cluster.ClearFaults();
  for (uint64_t id : cluster.Ids()) {
    cluster.Resume(id);
    (void)cluster.Restart(id);
  }
  {
    std::vector<uint64_t> voters, learners;
    (void)nemesis.Reconcile(&voters, &learners);
  }
  Sleep(1000);  // some load on the healed cluster
  stop_clients = true;
  for (std::thread& t : clients) t.join();

  nemesis.Collect();
  // Every node restarts from its disk; then every key is read.
  Log("final: kill -9 every node and restart");
  for (uint64_t id : cluster.Ids()) cluster.Kill(id);
  for (uint64_t id : cluster.Ids()) (void)cluster.Restart(id);
  counters.full_restarts++;
  std::vector<Operation> history;
  for (auto& h : histories) history.insert(history.end(), h.begin(), h.end());
  std::vector<std::pair<std::string, std::optional<std::string>>> finals;
  bool read_all = cluster.WaitForLeader(30000) != 0;
  Client reader(cluster.Endpoints());
  for (int k = 0; k < f.keys && read_all; ++k) {
    const std::string key = "k" + std::to_string(k);
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    for (;;) {
      Operation op;
      op.client = -1;
      op.kind = OpKind::kGet;
      op.key = key;
      op.call = Now();
      ClientResult r = reader.Get(key);
      op.ret = Now();
      if (r.ok()) {
        op.value = r.found() ? std::optional<std::string>(r.value()) : std::nullopt;
        history.push_back(op);
        finals.emplace_back(key, op.value);
        break;
      }
      if (Clock::now() > deadline) {
        Log("cannot read %s after the restart: %s", key.c_str(), r.error.c_str());
        read_all = false;
        break;
      }
      Sleep(100);
    }
  }

  Log("checking %zu operations", history.size());
  const auto check_start = Clock::now();
  const check::HistoryResult result = check::CheckHistory(history);
  const double check_s = std::chrono::duration<double>(Clock::now() - check_start).count();
  const std::vector<std::string> lost = check::FindLostWrites(history, finals);
  for (const check::KeyResult& r : result.failures) {
    Log("key %s (%zu ops): %s\n%s", r.key.c_str(), r.operations,
        r.inconclusive ? "INCONCLUSIVE" : "NOT LINEARIZABLE", r.explanation.c_str());
  }
  for (const std::string& l : lost) Log("LOST: %s", l.c_str());
  nemesis.Collect();
  const bool pass = read_all && result.ok() && lost.empty() && nemesis.crashes().empty();

  for (uint64_t id : cluster.Ids()) cluster.Kill(id);
  nlohmann::ordered_json summary = {
      {"seed", f.seed},
      {"duration_s", f.duration_s},
      {"clients", f.clients},
      {"keys", f.keys},
      {"operations", history.size()},
      {"ok", counters.ok.load()},
      {"unknown", counters.unknown.load()},
      {"failed", counters.failed.load()},
      {"kills", counters.kills.load()},
      {"leader_kills", counters.leader_kills.load()},
      {"pauses", counters.pauses.load()},
      {"partitions", counters.partitions.load()},
      {"delays", counters.delays.load()},
      {"membership_changes", counters.membership_changes.load()},
      {"full_restarts", counters.full_restarts.load()},
      {"nodes_used", cluster.Ids().back()},
      {"violations", result.violations},
      {"inconclusive", result.inconclusive},
      {"lost_writes", lost.size()},
      {"unexpected_exits", nemesis.crashes().size()},
      {"final_reads", finals.size()},
      {"check_seconds", check_s},
      {"pass", pass}};
  std::printf("%s\n", summary.dump().c_str());
  if (!pass || f.keep) {
    WriteHistory(f.dir + "/history.txt", history);
    Log("kept %s (history.txt, node*.log)", f.dir.c_str());
  } else {
    std::error_code ec;
    std::filesystem::remove_all(f.dir, ec);
  }
  return pass ? 0 : 1;
}
