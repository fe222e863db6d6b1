// Client: the kv service's client library over its HTTP API (kv/server.h),
// used by the `raftlog-kv` client commands, the fault harness and the
// benchmark.
//
// It sends each operation to the node it believes is the leader, follows
// "not the leader" answers (421 with the leader's address) and moves to the
// next endpoint when a node cannot be reached, until the operation's
// deadline. It retries only what certainly did not happen (a refusal, or a
// connection that was never made); once a request may have reached a node,
// a lost answer makes the result kUnknown and it is never sent again, so an
// operation takes effect at most once.
//
// Thread-safety: one Client per thread (it keeps connections).

#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace httplib {
class Client;
}

namespace raftlog::kv {

struct ClientResult {
  enum class Code {
    kOk,       // done
    kFailed,   // certainly not done (refused, unreachable, bad request)
    kUnknown,  // may or may not have been done
  };
  Code code = Code::kFailed;
  std::string error;
  nlohmann::json body;  // the server's answer on kOk

  bool ok() const { return code == Code::kOk; }
  // get: whether the key exists and its value.
  bool found() const { return body.contains("found") && body["found"].is_boolean() && body["found"]; }
  std::string value() const;
  // cas: whether the swap happened.
  bool swapped() const {
    return body.contains("swapped") && body["swapped"].is_boolean() && body["swapped"];
  }
};

struct ClientOptions {
  // How long one operation may take in all, retries included.
  std::chrono::milliseconds deadline{5000};
  // Socket timeouts of one request: longer than the server's request timeout,
  // so that a server-side timeout (504) arrives before the client gives up.
  std::chrono::milliseconds request_timeout{4500};
};

class Client {
 public:
  explicit Client(std::vector<std::string> endpoints, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  ClientResult Get(const std::string& key);
  ClientResult Put(const std::string& key, const std::string& value);
  ClientResult Delete(const std::string& key);
  // Sets `value` if the current value is `expected` (nullopt: absent).
  ClientResult Cas(const std::string& key, const std::optional<std::string>& expected,
                   const std::string& value);
  ClientResult Members();
  // op: "add", "add-learner", "promote", "remove".
  ClientResult ChangeMember(const std::string& op, uint64_t id, const std::string& addr);
  // One node's status (no leader following).
  ClientResult Status(const std::string& endpoint);

  // The endpoint the next request goes to first.
  const std::string& current() const { return endpoints_[current_]; }
  // Makes the next request go to endpoints[i % size] first (e.g. to spread
  // clients over the nodes, as clients that do not know the leader are).
  void set_current(size_t i) { current_ = i % endpoints_.size(); }

 private:
  ClientResult Call(const std::string& method, const std::string& path, const nlohmann::json& body);
  ClientResult Once(const std::string& endpoint, const std::string& method, const std::string& path,
                    const std::string& body, bool* retry, std::string* leader);
  httplib::Client& Conn(const std::string& endpoint);

  std::vector<std::string> endpoints_;
  size_t current_ = 0;
  const ClientOptions options_;
  std::map<std::string, std::unique_ptr<httplib::Client>> conns_;
};

}  // namespace raftlog::kv
