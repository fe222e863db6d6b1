// Fuzz target: the check behind `raftlog verify` (tools/log_checker.h) on a
// damaged log. Starts from a real log (log_template.h) and damages its
// segment files, one of its metadata values, or its snapshot file. Properties:
// the checker never crashes, whatever the damage; and it misses nothing that
// matters: if it reports no error, the engine opens the log, reads every
// entry back, takes a write and reopens with it (ExerciseLog with
// must_work).
//
// Input: a control byte, then the damage.
//   bits 0, 3  as in segment_recovery_fuzzer.cc (fix checksums afterwards;
//              replace the active segment's body)
//   bits 5-6   0: damage the segments (patches as in segment_recovery);
//              1: the LMDB key chosen by the next byte (as in
//              meta_records_fuzzer.cc) gets the rest as its value;
//              2: patch the snapshot file (u8 operation mod 3: overwrite,
//              truncate, flip; u32 offset; operand), up to 8 times;
//              3: segment patches, then a metadata value

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

#include "raftlog/engine/meta_store.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/log_template.h"
#include "raftlog/io/file_system.h"
#include "tools/log_checker.h"
#include "tools/log_dir.h"

namespace raftlog::fuzz {
namespace {

std::string MetaKey(uint8_t k) {
  switch (k % 7) {
    case 0:
      return "format";
    case 1:
      return "log/start";
    case 2:
      return "log/next_segment_id";
    case 3:
      return "log/generation";
    case 4: {
      const std::string& name = Template().segments.back().name;
      return "seg/" + name.substr(0, name.find('.'));
    }
    case 5:
      return "state/hardstate";
    default:
      return "state/snapshot";
  }
}

void DamageMetadata(FuzzInput& in, const std::string& dir) {
  auto meta = engine::MetaStore::Open(dir + "/meta.mdb");
  if (!meta.ok()) FuzzFail("cannot open the copy's metadata: " + meta.status().ToString());
  engine::MetaStore::Batch batch;
  const std::string key = MetaKey(in.Byte());
  batch.Put(key, in.Rest());
  const Status s = (*meta)->Write(batch);
  if (!s.ok()) FuzzFail("cannot write the copy's metadata: " + s.ToString());
}

void DamageSnapshot(FuzzInput& in, const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/snapshots", ec)) {
    std::string file = ReadFileOrDie(e.path());
    for (int k = 0; k < 8 && !in.empty(); ++k) {
      const uint8_t op = in.Byte() % 3;
      const size_t offset = in.U32() % (file.size() + 1);
      if (op == 0) {
        const std::string_view bytes = in.ShortBytes();
        file.replace(offset, std::min(bytes.size(), file.size() - offset), bytes);
      } else if (op == 1) {
        file.resize(offset);
      } else if (offset < file.size()) {
        file[offset] ^= static_cast<char>(1 << (in.Byte() % 8));
      }
    }
    WriteFileOrDie(e.path(), file);
  }
}

}  // namespace
}  // namespace raftlog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace raftlog;
  using namespace raftlog::fuzz;
  FuzzInput in(data, size);
  const uint8_t control = in.Byte();
  const std::string dir = ScratchDir() + "/log";
  CopyTemplate(dir);
  const int mode = (control >> 5) & 3;
  if (mode == 0 || mode == 3) DamageSegments(in, dir, (control & 8) != 0, (control & 1) != 0);
  if (mode == 1 || mode == 3) DamageMetadata(in, dir);
  if (mode == 2) DamageSnapshot(in, dir);

  io::FileSystem* fs = io::FileSystem::Default();
  if (!tools::LogDir::CheckIsLogDir(fs, dir).ok()) return 0;
  tools::LogChecker checker(fs, dir, nullptr);
  // No writer touches the input: a finding is never a seal in flight.
  checker.set_writer_patience(std::chrono::milliseconds(0));
  checker.Run();
  if (checker.findings().errors() == 0) {
    ExerciseLog(dir, FuzzOptions(engine::RecoveryPolicy::kTolerateTornTail, false),
                /*must_work=*/true, /*checksums_forged=*/(control & 1) != 0);
  }
  return 0;
}
