// Server: the HTTP face of a kv node, on one port (cpp-httplib):
//
//   POST /raft          raft messages from peers (kv/codec.h batch)
//   POST /v1/kv         {"op":"get|put|del|cas","key":..,"value":..,"expected":..}
//   GET  /v1/members    the configuration and the leader
//   POST /v1/members    {"op":"add|add-learner|promote|remove","id":..,"addr":..}
//   GET  /v1/status     this node's raft status
//   GET  /metrics       Prometheus text
//   POST /v1/fault      {"peer":id,"drop":bool,"delay_ms":n} or {"clear":true}
//                       (only with fault hooks enabled: the harness's partitions)
//
// The status codes carry the outcome contract of kv/node.h, which clients
// (kv/client.h) and the fault harness rely on:
//   200 done; 421 not the leader ({"leader":"host:port"} when known) and 503
//   unavailable: definitely not done; 504: timed out, outcome unknown;
//   400: a malformed request.
// Values and keys are JSON strings (UTF-8).
//
// Thread-safety: handlers run on the HTTP server's worker threads and call
// the thread-safe Node.

#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kv/log.h"
#include "kv/node.h"
#include "raftlog/format/status.h"

namespace httplib {
class Server;
}

namespace raftlog::kv {

class Server {
 public:
  Server(Node* node, const Log* log, bool fault_hooks);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port; IOError if it cannot.
  Status Bind(const std::string& host, int port);
  // Serves until Stop() (from another thread or a signal handler's helper).
  void Serve();
  void Stop();

 private:
  void Routes();
  Node* const node_;
  const Log* const log_;
  const bool fault_hooks_;
  std::unique_ptr<httplib::Server> http_;
};

}  // namespace raftlog::kv
