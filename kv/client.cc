#include "kv/client.h"

#include <httplib.h>

#include <thread>

namespace raftlog::kv {

using nlohmann::json;

std::string ClientResult::value() const {
  if (body.contains("value") && body["value"].is_string()) return body["value"];
  return {};
}

Client::Client(std::vector<std::string> endpoints, ClientOptions options)
    : endpoints_(std::move(endpoints)), options_(options) {
  if (endpoints_.empty()) endpoints_.push_back("127.0.0.1:8001");
}

Client::~Client() = default;

httplib::Client& Client::Conn(const std::string& endpoint) {
  std::unique_ptr<httplib::Client>& c = conns_[endpoint];
  if (c == nullptr) {
    c = std::make_unique<httplib::Client>("http://" + endpoint);
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);
    c->set_connection_timeout(0, 500'000);
    const auto t = std::chrono::duration_cast<std::chrono::microseconds>(options_.request_timeout);
    c->set_read_timeout(t.count() / 1'000'000, t.count() % 1'000'000);
    c->set_write_timeout(t.count() / 1'000'000, t.count() % 1'000'000);
  }
  return *c;
}

ClientResult Client::Once(const std::string& endpoint, const std::string& method,
                          const std::string& path, const std::string& body, bool* retry,
                          std::string* leader) {
  *retry = false;
  httplib::Client& c = Conn(endpoint);
  httplib::Result res = method == "GET" ? c.Get(path) : c.Post(path, body, "application/json");
  ClientResult r;
  if (!res) {
    const httplib::Error err = res.error();
    conns_.erase(endpoint);
    r.error = endpoint + ": " + httplib::to_string(err);
    // Never connected: the request certainly did not arrive.
    if (err == httplib::Error::Connection || err == httplib::Error::ConnectionTimeout) {
      r.code = ClientResult::Code::kFailed;
      *retry = true;
    } else {
      r.code = ClientResult::Code::kUnknown;
    }
    return r;
  }
  json b = json::parse(res->body, nullptr, false);
  if (b.is_discarded()) b = json::object();
  if (b.contains("error") && b["error"].is_string()) r.error = endpoint + ": " + b["error"].get<std::string>();
  switch (res->status) {
    case 200:
      r.code = ClientResult::Code::kOk;
      r.body = std::move(b);
      break;
    case 421:
      r.code = ClientResult::Code::kFailed;
      *retry = true;
      if (b.contains("leader") && b["leader"].is_string()) *leader = b["leader"];
      break;
    case 503:
      r.code = ClientResult::Code::kFailed;
      *retry = true;
      break;
    case 504:
      r.code = ClientResult::Code::kUnknown;
      break;
    default:
      r.code = ClientResult::Code::kFailed;
      if (r.error.empty()) r.error = endpoint + ": HTTP " + std::to_string(res->status);
      break;
  }
  return r;
}

ClientResult Client::Call(const std::string& method, const std::string& path, const json& body) {
  const auto deadline = std::chrono::steady_clock::now() + options_.deadline;
  const std::string text = body.is_null() ? std::string() : body.dump();
  ClientResult last;
  for (int attempt = 0;; ++attempt) {
    bool retry = false;
    std::string leader;
    last = Once(endpoints_[current_], method, path, text, &retry, &leader);
    if (!retry || std::chrono::steady_clock::now() >= deadline) return last;
    if (!leader.empty()) {
      size_t i = 0;
      while (i < endpoints_.size() && endpoints_[i] != leader) ++i;
      if (i == endpoints_.size()) endpoints_.push_back(leader);
      if (i != current_) {
        current_ = i;
        continue;  // go straight to the leader
      }
    }
    current_ = (current_ + 1) % endpoints_.size();
    // Once around every endpoint without success: wait for an election.
    if (current_ == 0 || endpoints_.size() == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

ClientResult Client::Get(const std::string& key) {
  return Call("POST", "/v1/kv", {{"op", "get"}, {"key", key}});
}

ClientResult Client::Put(const std::string& key, const std::string& value) {
  return Call("POST", "/v1/kv", {{"op", "put"}, {"key", key}, {"value", value}});
}

ClientResult Client::Delete(const std::string& key) {
  return Call("POST", "/v1/kv", {{"op", "del"}, {"key", key}});
}

ClientResult Client::Cas(const std::string& key, const std::optional<std::string>& expected,
                         const std::string& value) {
  json b = {{"op", "cas"}, {"key", key}, {"value", value}};
  b["expected"] = expected ? json(*expected) : json(nullptr);
  return Call("POST", "/v1/kv", b);
}

ClientResult Client::Members() { return Call("GET", "/v1/members", nullptr); }

ClientResult Client::ChangeMember(const std::string& op, uint64_t id, const std::string& addr) {
  json b = {{"op", op}, {"id", id}};
  if (!addr.empty()) b["addr"] = addr;
  return Call("POST", "/v1/members", b);
}

ClientResult Client::Status(const std::string& endpoint) {
  bool retry = false;
  std::string leader;
  return Once(endpoint, "GET", "/v1/status", "", &retry, &leader);
}

}  // namespace raftlog::kv
