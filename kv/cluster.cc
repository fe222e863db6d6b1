#include "kv/cluster.h"

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <filesystem>
#include <thread>

#include <httplib.h>

#include "kv/client.h"

namespace raftlog::kv {

using nlohmann::json;

Cluster::~Cluster() {
  port::MutexLock lock(&mu_);
  for (auto& [id, n] : nodes_) n->proc.Kill();
}

Status Cluster::Launch(NodeProc* n) {
  std::vector<std::string> argv = {options_.binary,
                                   "serve",
                                   "--id=" + std::to_string(n->id),
                                   "--listen=" + n->addr,
                                   "--peers=" + n->peers,
                                   "--data-dir=" + n->dir,
                                   "--storage=" + options_.storage,
                                   "--tick-ms=" + std::to_string(options_.tick_ms),
                                   "--election-tick=" + std::to_string(options_.election_tick),
                                   "--snapshot-interval=" + std::to_string(options_.snapshot_interval),
                                   "--snapshot-keep=" + std::to_string(options_.snapshot_keep),
                                   "--request-timeout-ms=" + std::to_string(options_.request_timeout_ms),
                                   "--log-level=" + options_.log_level};
  if (n->join) argv.push_back("--join");
  if (options_.fault_hooks) argv.push_back("--enable-fault-hooks");
  if (options_.unsafe_stale_reads) argv.push_back("--unsafe-stale-reads");
  std::error_code ec;
  std::filesystem::create_directories(n->dir, ec);
  n->paused = false;
  return n->proc.Start(argv, n->dir + ".log");
}

std::string Cluster::PeersFlag() const {
  std::string peers;
  for (const auto& [id, n] : nodes_) {
    if (!peers.empty()) peers += ",";
    peers += std::to_string(id) + "=" + n->addr;
  }
  return peers;
}

Status Cluster::Bootstrap(int count) {
  port::MutexLock lock(&mu_);
  for (int i = 0; i < count; ++i) {
    auto n = std::make_unique<NodeProc>();
    n->id = next_id_++;
    n->addr = "127.0.0.1:" + std::to_string(FreePort());
    n->dir = options_.dir + "/node" + std::to_string(n->id);
    nodes_[n->id] = std::move(n);
  }
  const std::string peers = PeersFlag();
  for (auto& [id, n] : nodes_) {
    n->peers = peers;
    if (Status s = Launch(n.get()); !s.ok()) return s;
  }
  return Status::OK();
}

Result<uint64_t> Cluster::StartJoiner() {
  port::MutexLock lock(&mu_);
  auto n = std::make_unique<NodeProc>();
  n->id = next_id_++;
  n->addr = "127.0.0.1:" + std::to_string(FreePort());
  n->dir = options_.dir + "/node" + std::to_string(n->id);
  n->join = true;
  n->peers = PeersFlag() + (nodes_.empty() ? "" : ",") + std::to_string(n->id) + "=" + n->addr;
  if (Status s = Launch(n.get()); !s.ok()) return s;
  const uint64_t id = n->id;
  nodes_[id] = std::move(n);
  return id;
}

Status Cluster::Restart(uint64_t id) {
  port::MutexLock lock(&mu_);
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return Status::NotFound("no node " + std::to_string(id));
  if (it->second->proc.running()) return Status::OK();
  return Launch(it->second.get());
}

void Cluster::Kill(uint64_t id) {
  port::MutexLock lock(&mu_);
  auto it = nodes_.find(id);
  if (it != nodes_.end()) {
    it->second->proc.Kill();
    it->second->paused = false;
  }
}

void Cluster::Pause(uint64_t id) {
  port::MutexLock lock(&mu_);
  auto it = nodes_.find(id);
  if (it != nodes_.end() && it->second->proc.Signal(SIGSTOP)) it->second->paused = true;
}

void Cluster::Resume(uint64_t id) {
  port::MutexLock lock(&mu_);
  auto it = nodes_.find(id);
  if (it != nodes_.end() && it->second->proc.Signal(SIGCONT)) it->second->paused = false;
}

void Cluster::Destroy(uint64_t id) {
  std::unique_ptr<NodeProc> n;
  {
    port::MutexLock lock(&mu_);
    auto it = nodes_.find(id);
    if (it == nodes_.end()) return;
    n = std::move(it->second);
    nodes_.erase(it);
  }
  n->proc.Kill();
  std::error_code ec;
  std::filesystem::remove_all(n->dir, ec);
}

bool Cluster::SetFault(uint64_t at, uint64_t peer, bool drop, uint32_t delay_ms) {
  const std::string addr = Addr(at);
  if (addr.empty()) return false;
  httplib::Client c("http://" + addr);
  c.set_connection_timeout(0, 500'000);
  c.set_read_timeout(1, 0);
  json body = {{"peer", peer}, {"drop", drop}, {"delay_ms", delay_ms}};
  auto res = c.Post("/v1/fault", body.dump(), "application/json");
  return res && res->status == 200;
}

void Cluster::ClearFaults() {
  for (uint64_t id : LiveIds()) {
    httplib::Client c("http://" + Addr(id));
    c.set_connection_timeout(0, 500'000);
    c.set_read_timeout(1, 0);
    (void)c.Post("/v1/fault", json{{"clear", true}}.dump(), "application/json");
  }
}

uint64_t Cluster::WaitForLeader(int timeout_ms) {
  // A leader counts once a majority of the live processes follow it (itself
  // included). Not "all of them": a process may not be a member at all (a
  // joiner whose addition timed out), and it never learns of a leader.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::vector<uint64_t> live = LiveIds();
    std::map<uint64_t, size_t> followers;
    std::map<uint64_t, bool> claims;
    for (uint64_t id : live) {
      Client c({Addr(id)});
      ClientResult r = c.Status(Addr(id));
      if (!r.ok() || r.body.value("removed", false)) continue;
      const uint64_t lead = r.body.value("leader", uint64_t{0});
      if (lead != 0) followers[lead]++;
      if (r.body.value("state", "") == "StateLeader") claims[id] = true;
    }
    for (const auto& [id, claimed] : claims) {
      if (claimed && followers[id] * 2 > live.size()) return id;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

bool Cluster::Members(std::vector<uint64_t>* voters, std::vector<uint64_t>* learners) {
  const uint64_t leader = WaitForLeader(5000);
  if (leader == 0) return false;
  Client c({Addr(leader)});
  ClientResult r = c.Members();
  if (!r.ok()) return false;
  voters->clear();
  learners->clear();
  for (const json& m : r.body["members"]) {
    (m.value("role", "") == "learner" ? learners : voters)->push_back(m.value("id", uint64_t{0}));
  }
  return true;
}

std::vector<std::string> Cluster::UnexpectedExits() {
  port::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (auto& [id, n] : nodes_) {
    int status = 0;
    if (!n->proc.ExitedByItself(&status)) continue;
    std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                      : WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                            : "ended";
    out.push_back("node " + std::to_string(id) + " " + how + " by itself; see " + n->dir + ".log");
  }
  return out;
}

std::vector<uint64_t> Cluster::Ids() const {
  port::MutexLock lock(&mu_);
  std::vector<uint64_t> ids;
  for (const auto& [id, n] : nodes_) ids.push_back(id);
  return ids;
}

std::vector<uint64_t> Cluster::LiveIds() const {
  port::MutexLock lock(&mu_);
  std::vector<uint64_t> ids;
  for (const auto& [id, n] : nodes_) {
    if (n->proc.running() && !n->paused) ids.push_back(id);
  }
  return ids;
}

bool Cluster::IsRunning(uint64_t id) const {
  port::MutexLock lock(&mu_);
  auto it = nodes_.find(id);
  return it != nodes_.end() && it->second->proc.running();
}

std::string Cluster::Addr(uint64_t id) const {
  port::MutexLock lock(&mu_);
  auto it = nodes_.find(id);
  return it == nodes_.end() ? std::string() : it->second->addr;
}

std::vector<std::string> Cluster::Endpoints() const {
  port::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [id, n] : nodes_) out.push_back(n->addr);
  return out;
}

}  // namespace raftlog::kv
