// Realistic entry payloads for benchmarks, deterministic by seed: what a log
// of a given application holds, so that compression ratios and scan speeds
// measured on them say something about real logs (a stream of one repeated
// record, or of pure noise, would flatter or damn compression).
//
//   kEtcd    etcd-style put requests as etcd's raft log holds them: an
//            InternalRaftRequest in protobuf wire format, with a request
//            header (a rising request id) and a PutRequest of a hierarchical
//            key /registry/pods/ns-N/name-M, a JSON value of a few fields
//            (labels, a node name, a phase, a resource version, a timestamp)
//            and a lease id. 200-500 bytes each.
//   kJson    a document store's JSON records: an id, a timestamp, an owner,
//            tags, a few numeric fields, a free-text note from a vocabulary.
//            300 bytes to 2 KiB each.
//   kRandom  random bytes (the worst case: incompressible), 256 bytes each.
//
// Every generator draws from a std::mt19937_64 seeded with its seed and
// nothing else, so the same seed gives the same bytes on every run and
// machine (std::mt19937_64's sequence is fixed by the standard; only raw
// draws and modulo are used, never the implementation-defined
// distributions). Public headers only.

#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace raftlog::bench {

enum class PayloadKind { kEtcd, kJson, kRandom };

inline const char* PayloadKindName(PayloadKind kind) {
  switch (kind) {
    case PayloadKind::kEtcd:
      return "etcd";
    case PayloadKind::kJson:
      return "json";
    case PayloadKind::kRandom:
      return "random";
  }
  return "?";
}

// "etcd", "json" or "random"; nullopt for anything else.
inline std::optional<PayloadKind> ParsePayloadKind(std::string_view name) {
  for (PayloadKind k : {PayloadKind::kEtcd, PayloadKind::kJson, PayloadKind::kRandom}) {
    if (name == PayloadKindName(k)) return k;
  }
  return std::nullopt;
}

namespace payload_detail {

// Protobuf wire format: varints and length-delimited fields.
inline void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
inline void PutTag(std::string* out, uint32_t field, uint32_t wire_type) {
  PutVarint(out, (uint64_t{field} << 3) | wire_type);
}
inline void PutBytesField(std::string* out, uint32_t field, std::string_view bytes) {
  PutTag(out, field, 2);
  PutVarint(out, bytes.size());
  out->append(bytes);
}
inline void PutVarintField(std::string* out, uint32_t field, uint64_t v) {
  PutTag(out, field, 0);
  PutVarint(out, v);
}

// A value below n, small values much more frequent (roughly Zipf-like, as
// keys and words of real workloads are): the square of the smaller of two
// uniform draws.
inline uint64_t Skewed(std::mt19937_64& rng, uint64_t n) {
  const double a = static_cast<double>(rng() % 1000000) / 1e6;
  const double b = static_cast<double>(rng() % 1000000) / 1e6;
  const double u = a < b ? a : b;
  return static_cast<uint64_t>(u * u * static_cast<double>(n)) % n;
}

inline std::string Hex(std::mt19937_64& rng, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (int k = 0; k < digits; ++k) out.push_back(kDigits[rng() % 16]);
  return out;
}

inline constexpr std::string_view kWords[] = {
    "alpha",   "bravo",   "charlie", "delta",  "echo",    "foxtrot", "golf",    "hotel",
    "india",   "juliet",  "kilo",    "lima",   "mike",    "november", "oscar",  "papa",
    "quebec",  "romeo",   "sierra",  "tango",  "uniform", "victor",  "whiskey", "xray",
    "yankee",  "zulu",    "order",   "invoice", "shipped", "pending", "cancel", "refund",
    "customer", "account", "billing", "region", "europe",  "america", "asia",   "priority"};

}  // namespace payload_detail

// One generator per kind; Next() returns the next entry's data.
class PayloadGenerator {
 public:
  PayloadGenerator(PayloadKind kind, uint64_t seed) : kind_(kind), rng_(seed) {}

  PayloadKind kind() const { return kind_; }

  std::string Next() {
    switch (kind_) {
      case PayloadKind::kEtcd:
        return NextEtcdPut();
      case PayloadKind::kJson:
        return NextJsonDocument();
      case PayloadKind::kRandom:
        return NextRandom(256);
    }
    return {};
  }

  // `count` payloads in order.
  std::vector<std::string> Take(size_t count) {
    std::vector<std::string> out;
    out.reserve(count);
    for (size_t k = 0; k < count; ++k) out.push_back(Next());
    return out;
  }

 private:
  // etcdserverpb.InternalRaftRequest { header = 100: RequestHeader { ID = 1 },
  // put = 4: PutRequest { key = 1, value = 2, lease = 3 } }, the fields etcd
  // fills for a Kubernetes object update.
  std::string NextEtcdPut() {
    using namespace payload_detail;  // NOLINT: local helpers
    request_id_ += 1 + rng_() % 4;
    revision_ += 1 + rng_() % 3;
    const uint64_t ns = Skewed(rng_, 40);
    const uint64_t pod = Skewed(rng_, 2000);
    const std::string name = "name-" + std::to_string(pod);
    const std::string key = "/registry/pods/ns-" + std::to_string(ns) + "/" + name;
    static constexpr std::string_view kPhases[] = {"Running", "Pending", "Succeeded", "Failed"};
    static constexpr std::string_view kApps[] = {"web", "api", "worker", "cache", "db", "queue"};
    std::string value = "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"" + name +
                        "\",\"namespace\":\"ns-" + std::to_string(ns) + "\",\"uid\":\"" +
                        Hex(rng_, 8) + "-" + Hex(rng_, 4) + "-" + Hex(rng_, 4) +
                        "\",\"resourceVersion\":\"" + std::to_string(revision_) +
                        "\",\"labels\":{\"app\":\"" + std::string(kApps[Skewed(rng_, 6)]) +
                        "\",\"pod-template-hash\":\"" + Hex(rng_, 10) +
                        "\"}},\"spec\":{\"nodeName\":\"node-" + std::to_string(Skewed(rng_, 64)) +
                        "\"},\"status\":{\"phase\":\"" + std::string(kPhases[Skewed(rng_, 4)]) +
                        "\",\"startTime\":\"2026-12-0" + std::to_string(1 + rng_() % 7) + "T" +
                        std::to_string(10 + rng_() % 14) + ":" + std::to_string(10 + rng_() % 50) +
                        ":" + std::to_string(10 + rng_() % 50) + "Z\"}}";
    std::string header;
    PutVarintField(&header, 1, request_id_);
    std::string put;
    PutBytesField(&put, 1, key);
    PutBytesField(&put, 2, value);
    PutVarintField(&put, 3, 0x694d7c3a00000000ull + Skewed(rng_, 16));  // a lease id
    std::string out;
    PutBytesField(&out, 100, header);
    PutBytesField(&out, 4, put);
    return out;
  }

  std::string NextJsonDocument() {
    using namespace payload_detail;  // NOLINT: local helpers
    doc_id_ += 1 + rng_() % 5;
    ts_ += rng_() % 2000;
    std::string out = "{\"_id\":\"" + Hex(rng_, 24) + "\",\"seq\":" + std::to_string(doc_id_) +
                      ",\"created\":" + std::to_string(ts_) + ",\"owner\":\"user" +
                      std::to_string(Skewed(rng_, 5000)) + "@example.com\",\"status\":\"" +
                      std::string(kWords[26 + Skewed(rng_, 6)]) + "\",\"tags\":[";
    const int tags = 1 + static_cast<int>(rng_() % 4);
    for (int k = 0; k < tags; ++k) {
      if (k > 0) out += ',';
      out += "\"" + std::string(kWords[Skewed(rng_, std::size(kWords))]) + "\"";
    }
    out += "],\"amount\":" + std::to_string(rng_() % 100000) + "." +
           std::to_string(10 + rng_() % 90) + ",\"quantity\":" + std::to_string(1 + rng_() % 20) +
           ",\"address\":{\"city\":\"" + std::string(kWords[Skewed(rng_, std::size(kWords))]) +
           "\",\"zip\":\"" + std::to_string(10000 + rng_() % 89999) + "\"},\"note\":\"";
    const int words = 20 + static_cast<int>(rng_() % 250);
    for (int k = 0; k < words; ++k) {
      if (k > 0) out += ' ';
      out += kWords[Skewed(rng_, std::size(kWords))];
    }
    out += "\"}";
    return out;
  }

  std::string NextRandom(size_t bytes) {
    std::string out;
    out.reserve(bytes + 8);
    while (out.size() < bytes) {
      const uint64_t v = rng_();
      for (int k = 0; k < 8; ++k) out.push_back(static_cast<char>(v >> (8 * k)));
    }
    out.resize(bytes);
    return out;
  }

  PayloadKind kind_;
  std::mt19937_64 rng_;
  uint64_t request_id_ = 0x3a9f000000000000ull;
  uint64_t revision_ = 1000000;
  uint64_t doc_id_ = 0;
  uint64_t ts_ = 1764547200000ull;
};

// `bytes` bytes of consecutive payloads of `kind`, for benchmarks that cut
// their entries as fixed-size slices of one corpus (bench_util.h
// PayloadSource): the slices keep the kind's byte statistics, which is what
// compression and checksums see.
inline std::string PayloadCorpus(PayloadKind kind, size_t bytes, uint64_t seed) {
  PayloadGenerator gen(kind, seed);
  std::string out;
  out.reserve(bytes + 4096);
  while (out.size() < bytes) out += gen.Next();
  out.resize(bytes);
  return out;
}

// Takes a --payload=random|etcd|json flag out of argv (so that the
// benchmark library does not refuse it) into *kind. False, with a message
// on stderr, for another value.
inline bool TakePayloadFlag(int* argc, char** argv, std::optional<PayloadKind>* kind) {
  constexpr std::string_view kFlag = "--payload=";
  int out = 1;
  bool ok = true;
  for (int i = 1; i < *argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.substr(0, kFlag.size()) != kFlag) {
      argv[out++] = argv[i];
      continue;
    }
    *kind = ParsePayloadKind(arg.substr(kFlag.size()));
    if (!kind->has_value()) {
      std::fprintf(stderr, "bad %s: the payload is random, etcd or json\n", argv[i]);
      ok = false;
    }
  }
  *argc = out;
  argv[out] = nullptr;
  return ok;
}

}  // namespace raftlog::bench
