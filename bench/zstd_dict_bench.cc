// Whether a zstd dictionary trained on the log's own entries would make cold
// segments smaller (docs/benchmarks.md, "A dictionary for cold segments"):
// zstd alone, on the payloads of bench/payload_gen.h, side by side in one run.
//
//   BM_ZstdDictionary/<payload>/frame:<bytes>   entries grouped into frames
//       of about <bytes> of raw payload (64 KiB is what
//       LogEngine::CompressSegment groups), compressed at level 3 without
//       and with a dictionary of kDictionaryBytes trained by zstd's
//       dictionary builder (ZDICT_trainFromBuffer) on the first
//       kTrainingEntries entries, then used on the next ones (never on the
//       entries it was trained on). Counters: ratio_plain and ratio_dict
//       (raw / compressed bytes), dict_gain = ratio_dict / ratio_plain, and
//       ratio_dict_stored: ratio_dict with the dictionary's bytes charged to
//       every kSegmentRawBytes of raw payload, as a segment that must be
//       readable on its own would store it. The iteration time is the
//       compression with the dictionary.
//
// zstd is called directly (zdict.h, zstd.h): the engine has no dictionary
// support to measure; this says whether it should.

#include <benchmark/benchmark.h>
#include <zdict.h>
#include <zstd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/payload_gen.h"

namespace raftlog::bench {
namespace {

constexpr uint64_t kSeed = 20261207;
constexpr int kLevel = 3;  // the cold worker's level
constexpr size_t kTrainingEntries = 20000;
constexpr size_t kMeasuredBytes = 8u << 20;  // raw payload compressed per case
constexpr size_t kDictionaryBytes = 110u << 10;  // zstd's own default size
constexpr double kSegmentRawBytes = 64.0 * (1 << 20);

void Check(size_t code, const char* what) {
  if (ZSTD_isError(code) != 0 || ZDICT_isError(code) != 0) {
    std::fprintf(stderr, "zstd_dict_bench: %s: %s\n", what, ZSTD_getErrorName(code));
    std::abort();
  }
}

struct Case {
  std::string dictionary;
  std::vector<std::string> frames;  // entries after the training ones
  uint64_t raw_bytes = 0, plain_bytes = 0;
};

Case MakeCase(PayloadKind kind, size_t frame_bytes) {
  Case c;
  PayloadGenerator gen(kind, kSeed);
  std::string samples;
  std::vector<size_t> sizes;
  for (size_t k = 0; k < kTrainingEntries; ++k) {
    const std::string e = gen.Next();
    samples += e;
    sizes.push_back(e.size());
  }
  c.dictionary.resize(kDictionaryBytes);
  const size_t dict_size = ZDICT_trainFromBuffer(c.dictionary.data(), c.dictionary.size(),
                                                 samples.data(), sizes.data(),
                                                 static_cast<unsigned>(sizes.size()));
  Check(dict_size, "training the dictionary");
  c.dictionary.resize(dict_size);
  std::string frame;
  while (c.raw_bytes < kMeasuredBytes) {
    const std::string e = gen.Next();
    if (!frame.empty() && frame.size() + e.size() > frame_bytes) {
      c.raw_bytes += frame.size();
      c.frames.push_back(std::move(frame));
      frame.clear();
    }
    frame += e;
  }
  std::string out(ZSTD_compressBound(frame_bytes * 2), '\0');
  for (const std::string& f : c.frames) {
    if (out.size() < ZSTD_compressBound(f.size())) out.resize(ZSTD_compressBound(f.size()));
    const size_t n = ZSTD_compress(out.data(), out.size(), f.data(), f.size(), kLevel);
    Check(n, "compressing without the dictionary");
    c.plain_bytes += n;
  }
  return c;
}

void Dictionary(benchmark::State& state, PayloadKind kind, size_t frame_bytes) {
  const Case c = MakeCase(kind, frame_bytes);
  ZSTD_CDict* cdict = ZSTD_createCDict(c.dictionary.data(), c.dictionary.size(), kLevel);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string out;
  uint64_t dict_bytes = 0;
  for (auto _ : state) {
    dict_bytes = 0;
    for (const std::string& f : c.frames) {
      out.resize(ZSTD_compressBound(f.size()));
      const size_t n =
          ZSTD_compress_usingCDict(cctx, out.data(), out.size(), f.data(), f.size(), cdict);
      Check(n, "compressing with the dictionary");
      dict_bytes += n;
    }
    benchmark::DoNotOptimize(out.data());
  }
  ZSTD_freeCCtx(cctx);
  ZSTD_freeCDict(cdict);
  const double raw = static_cast<double>(c.raw_bytes);
  const double plain = raw / static_cast<double>(c.plain_bytes);
  const double with = raw / static_cast<double>(dict_bytes);
  const double stored = static_cast<double>(dict_bytes) +
                        static_cast<double>(c.dictionary.size()) * raw / kSegmentRawBytes;
  state.counters["ratio_plain"] = plain;
  state.counters["ratio_dict"] = with;
  state.counters["dict_gain"] = with / plain;
  state.counters["ratio_dict_stored"] = raw / stored;
  state.counters["dict_bytes"] = static_cast<double>(c.dictionary.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.raw_bytes));
}

void RegisterAll() {
  for (PayloadKind kind : {PayloadKind::kEtcd, PayloadKind::kJson}) {
    for (size_t frame : {size_t{1} << 10, size_t{4} << 10, size_t{16} << 10, size_t{64} << 10}) {
      const std::string name = std::string("BM_ZstdDictionary/") + PayloadKindName(kind) +
                               "/frame:" + std::to_string(frame);
      benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
        Dictionary(st, kind, frame);
      })->Iterations(1)->UseRealTime();
    }
  }
}

}  // namespace
}  // namespace raftlog::bench

int main(int argc, char** argv) {
  raftlog::bench::RegisterAll();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
