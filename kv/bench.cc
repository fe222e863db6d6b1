// raftlog-kv-bench: client-observed throughput and latency of a 3-process
// raftlog-kv cluster on 127.0.0.1 (scripts/kv_bench.sh runs the matrix and
// prints the table of docs/kv.md).
//
//   raftlog-kv-bench --storage disk --value-size 128 --clients 16 --duration 10
//   raftlog-kv-bench --raw-disk --value-size 128 --duration 5
//
// Closed loop: each client thread sends its next put when the previous one
// is acknowledged (by the leader, after a quorum persisted it and it was
// applied). The first second is warm-up and not counted. --raw-disk instead
// measures the disk's limit for comparison: one pwrite of the value's size
// plus fdatasync per operation, on one thread, in the same directory.
// Prints one JSON line.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "kv/client.h"
#include "kv/cluster.h"

namespace {

using namespace raftlog::kv;
using Clock = std::chrono::steady_clock;

struct Figures {
  double ops_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  uint64_t ops = 0;
  uint64_t errors = 0;
};

Figures Summarize(std::vector<double>& lat_ms, double seconds, uint64_t errors) {
  Figures f;
  std::sort(lat_ms.begin(), lat_ms.end());
  f.ops = lat_ms.size();
  f.errors = errors;
  f.ops_per_s = static_cast<double>(lat_ms.size()) / seconds;
  if (!lat_ms.empty()) {
    f.p50_ms = lat_ms[lat_ms.size() / 2];
    f.p99_ms = lat_ms[std::min(lat_ms.size() - 1, lat_ms.size() * 99 / 100)];
  }
  return f;
}

Figures RawDisk(const std::string& dir, size_t size, int duration_s) {
  const std::string path = dir + "/raw-disk-probe";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return {};
  const std::string buf(size, 'x');
  std::vector<double> lat;
  off_t off = 0;
  const auto end = Clock::now() + std::chrono::seconds(duration_s);
  const auto start = Clock::now();
  while (Clock::now() < end) {
    const auto t0 = Clock::now();
    if (::pwrite(fd, buf.data(), buf.size(), off) != static_cast<ssize_t>(buf.size()) ||
        ::fdatasync(fd) != 0) {
      break;
    }
    off += static_cast<off_t>(buf.size());
    lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  ::unlink(path.c_str());
  return Summarize(lat, secs, 0);
}

}  // namespace

int main(int argc, char** argv) {
  std::string storage = "disk", dir, binary;
  size_t value_size = 128;
  int clients = 16, duration_s = 10;
  bool raw = false;
  CLI::App app{"raftlog-kv-bench: throughput and latency of a 3-process raftlog-kv cluster"};
  app.add_option("--storage", storage, "disk, disk-nosync or memory");
  app.add_option("--value-size", value_size, "bytes per value");
  app.add_option("--clients", clients, "concurrent client threads (closed loop)");
  app.add_option("--duration", duration_s, "measured seconds (after 1 s of warm-up)");
  app.add_option("--dir", dir, "where the nodes' data go (default: a new directory under /tmp)");
  app.add_option("--binary", binary, "the raftlog-kv server (default: beside this program)");
  app.add_flag("--raw-disk", raw, "measure pwrite+fdatasync of one value instead");
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  if (binary.empty()) binary = SelfDir() + "/raftlog-kv";
  bool own_dir = false;
  if (dir.empty()) {
    char tmpl[] = "/tmp/raftlog-kv-bench-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 2;
    dir = tmpl;
    own_dir = true;
  }

  nlohmann::ordered_json out;
  if (raw) {
    const Figures f = RawDisk(dir, value_size, duration_s);
    out = {{"mode", "raw-disk"}, {"value_size", value_size}, {"ops_per_s", f.ops_per_s},
           {"p50_ms", f.p50_ms}, {"p99_ms", f.p99_ms}};
  } else {
    ClusterOptions copts;
    copts.binary = binary;
    copts.dir = dir;
    copts.storage = storage;
    copts.tick_ms = 100;
    copts.request_timeout_ms = 5000;
    copts.log_level = "warn";
    Cluster cluster(copts);
    if (raftlog::Status s = cluster.Bootstrap(3); !s.ok()) {
      std::fprintf(stderr, "cannot start: %s\n", s.ToString().c_str());
      return 2;
    }
    const uint64_t leader = cluster.WaitForLeader(20000);
    if (leader == 0) {
      std::fprintf(stderr, "no leader\n");
      return 2;
    }
    std::atomic<bool> stop{false};
    std::atomic<bool> measuring{false};
    std::vector<std::vector<double>> lat(clients);
    std::atomic<uint64_t> errors{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i) {
      threads.emplace_back([&, i] {
        Client c({cluster.Addr(leader)});
        std::string value(value_size, static_cast<char>('a' + i % 26));
        uint64_t n = 0;
        while (!stop.load()) {
          const std::string key = "bench-" + std::to_string(i) + "-" + std::to_string(n++ % 1000);
          const auto t0 = Clock::now();
          ClientResult r = c.Put(key, value);
          const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
          if (!measuring.load()) continue;
          if (r.ok()) {
            lat[i].push_back(ms);
          } else {
            errors++;
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    measuring = true;
    const auto start = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(duration_s));
    measuring = false;
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    stop = true;
    for (std::thread& t : threads) t.join();
    std::vector<double> all;
    for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
    const Figures f = Summarize(all, secs, errors.load());
    out = {{"mode", "cluster"}, {"storage", storage}, {"value_size", value_size},
           {"clients", clients}, {"ops_per_s", f.ops_per_s}, {"p50_ms", f.p50_ms},
           {"p99_ms", f.p99_ms}, {"ops", f.ops}, {"errors", f.errors}};
    for (uint64_t id : cluster.Ids()) cluster.Kill(id);
  }
  std::printf("%s\n", out.dump().c_str());
  if (own_dir) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return 0;
}
