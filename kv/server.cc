#include "kv/server.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "kv/codec.h"

namespace raftlog::kv {

namespace {

using nlohmann::json;

// Worker threads: each keep-alive connection holds one while it is open
// (cpp-httplib's blocking model), and client requests block until their
// operation completes, so the pool must exceed peers + concurrent clients.
constexpr size_t kWorkers = 96;

void Reply(httplib::Response& res, const Outcome& o, json ok_body) {
  switch (o.code) {
    case Outcome::Code::kOk:
      res.status = 200;
      ok_body["ok"] = true;
      res.set_content(ok_body.dump(), "application/json");
      return;
    case Outcome::Code::kNotLeader: {
      res.status = 421;
      json b = {{"ok", false}, {"error", o.error}};
      if (!o.leader_addr.empty()) b["leader"] = o.leader_addr;
      res.set_content(b.dump(), "application/json");
      return;
    }
    case Outcome::Code::kUnavailable:
      res.status = 503;
      break;
    case Outcome::Code::kTimeout:
      res.status = 504;
      break;
    case Outcome::Code::kInvalid:
      res.status = 400;
      break;
  }
  res.set_content(json{{"ok", false}, {"error", o.error}}.dump(), "application/json");
}

void BadRequest(httplib::Response& res, const std::string& why) {
  res.status = 400;
  res.set_content(json{{"ok", false}, {"error", why}}.dump(), "application/json");
}

json ValueOrNull(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

}  // namespace

Server::Server(Node* node, const Log* log, bool fault_hooks)
    : node_(node), log_(log), fault_hooks_(fault_hooks), http_(std::make_unique<httplib::Server>()) {
  http_->new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  http_->set_tcp_nodelay(true);
  http_->set_keep_alive_max_count(1 << 30);
  http_->set_keep_alive_timeout(30);
  http_->set_read_timeout(30, 0);
  Routes();
}

Server::~Server() { Stop(); }

Status Server::Bind(const std::string& host, int port) {
  if (!http_->bind_to_port(host, port)) {
    return Status::IOError("cannot listen on " + host + ":" + std::to_string(port));
  }
  return Status::OK();
}

void Server::Serve() { http_->listen_after_bind(); }

void Server::Stop() { http_->stop(); }

void Server::Routes() {
  http_->Post("/raft", [this](const httplib::Request& req, httplib::Response& res) {
    Result<std::vector<raft::Message>> msgs = DecodeMessages(req.body);
    if (!msgs.ok()) {
      log_->Warn("bad raft batch", {{"from", req.remote_addr}, {"error", msgs.status().ToString()}});
      return BadRequest(res, msgs.status().ToString());
    }
    node_->Receive(std::move(msgs).value());
    res.status = 200;
  });

  http_->Post("/v1/kv", [this](const httplib::Request& req, httplib::Response& res) {
    json in = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (!in.is_object() || !in.contains("op") || !in["op"].is_string() || !in.contains("key") ||
        !in["key"].is_string()) {
      return BadRequest(res, "expected {\"op\": ..., \"key\": ...}");
    }
    const std::string op = in["op"];
    const std::string key = in["key"];
    if (op == "get") {
      const Outcome o = node_->Get(key);
      return Reply(res, o, {{"found", o.value.has_value()}, {"value", ValueOrNull(o.value)}});
    }
    Command c;
    c.key = key;
    if (op == "put" || op == "cas") {
      if (!in.contains("value") || !in["value"].is_string()) return BadRequest(res, "missing value");
      c.value = in["value"];
    }
    if (op == "put") {
      c.type = CommandType::kPut;
    } else if (op == "del") {
      c.type = CommandType::kDelete;
    } else if (op == "cas") {
      c.type = CommandType::kCas;
      if (!in.contains("expected") || in["expected"].is_null()) {
        c.expected_absent = true;
      } else if (in["expected"].is_string()) {
        c.expected = in["expected"];
      } else {
        return BadRequest(res, "expected must be a string or null (absent)");
      }
    } else {
      return BadRequest(res, "unknown op '" + op + "' (get, put, del, cas)");
    }
    const Outcome o = node_->Write(std::move(c));
    json body = {{"previous", ValueOrNull(o.value)}};
    if (op == "cas") body["swapped"] = o.cas_ok;
    Reply(res, o, body);
  });

  http_->Get("/v1/members", [this](const httplib::Request&, httplib::Response& res) {
    const NodeStatus st = node_->GetStatus();
    json members = json::array();
    for (const MemberInfo& m : st.members) {
      members.push_back({{"id", m.id}, {"addr", m.addr}, {"role", m.learner ? "learner" : "voter"}});
    }
    res.set_content(json{{"ok", true}, {"leader", st.lead}, {"members", members}}.dump(),
                    "application/json");
  });

  http_->Post("/v1/members", [this](const httplib::Request& req, httplib::Response& res) {
    json in = json::parse(req.body, nullptr, false);
    if (!in.is_object() || !in.contains("op") || !in["op"].is_string() || !in.contains("id") ||
        !in["id"].is_number_unsigned()) {
      return BadRequest(res, "expected {\"op\": ..., \"id\": ...}");
    }
    const std::string op = in["op"];
    const uint64_t id = in["id"];
    const std::string addr = in.contains("addr") && in["addr"].is_string() ? in["addr"] : "";
    raft::ConfChangeType type;
    if (op == "add" || op == "promote") {
      type = raft::ConfChangeType::kAddNode;
    } else if (op == "add-learner") {
      type = raft::ConfChangeType::kAddLearnerNode;
    } else if (op == "remove") {
      type = raft::ConfChangeType::kRemoveNode;
    } else {
      return BadRequest(res, "unknown op '" + op + "' (add, add-learner, promote, remove)");
    }
    if (id == 0) return BadRequest(res, "id must be > 0");
    Reply(res, node_->ChangeMembership(type, id, addr), json::object());
  });

  http_->Get("/v1/status", [this](const httplib::Request&, httplib::Response& res) {
    const NodeStatus st = node_->GetStatus();
    res.set_content(json{{"ok", true},
                         {"id", st.id},
                         {"term", st.term},
                         {"leader", st.lead},
                         {"state", st.state},
                         {"commit", st.commit},
                         {"applied", st.applied},
                         {"snapshot_index", st.snapshot_index},
                         {"removed", st.removed}}
                        .dump(),
                    "application/json");
  });

  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(node_->Metrics(), "text/plain; version=0.0.4");
  });

  http_->Post("/v1/fault", [this](const httplib::Request& req, httplib::Response& res) {
    if (!fault_hooks_) {
      res.status = 403;
      res.set_content(json{{"ok", false}, {"error", "fault hooks are disabled"}}.dump(),
                      "application/json");
      return;
    }
    json in = json::parse(req.body, nullptr, false);
    if (!in.is_object()) return BadRequest(res, "expected a JSON object");
    if (in.value("clear", false)) {
      node_->transport().ClearFaults();
    } else {
      if (!in.contains("peer") || !in["peer"].is_number_unsigned()) return BadRequest(res, "missing peer");
      Fault f;
      f.drop = in.value("drop", false);
      f.delay_ms = in.value("delay_ms", 0u);
      node_->transport().SetFault(in["peer"].get<uint64_t>(), f);
    }
    log_->Info("fault hooks set", {{"rule", in}});
    res.set_content(json{{"ok", true}}.dump(), "application/json");
  });
}

}  // namespace raftlog::kv
