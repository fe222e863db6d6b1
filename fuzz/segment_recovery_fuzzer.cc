// Fuzz target: opening (recovering) a log whose segment files were damaged in
// arbitrary ways, under every recovery policy, read-only and writable. Starts
// from a real log (log_template.h: two sealed segments and an active one), so
// the fuzzer explores damage to real structures instead of rediscovering the
// format. Properties (ExerciseLog): open never crashes and fails only with a
// Status; what it serves is consistent; a log that opened and took a write
// reopens with it.
//
// Input: a control byte, then either patches or (bit 3) the new contents of
// the active segment after its header.
//   bit 0     afterwards, recompute every checksum of every segment (header,
//             frames as a reader walks them, footer, trailer), so the fuzzer
//             reaches the checks behind the checksums
//   bits 1-2  recovery policy: 0/3 tolerate a torn tail, 1 absolute
//             consistency, 2 tolerate a corrupted tail
//   bit 3     replace the active segment's bytes after its 64-byte header
//   bit 4     open read-only
// A patch: u8 segment (mod the number of segments), u8 operation (mod 4),
// u32 offset (mod the file size + 1), then per operation: 0 overwrite with
// (u8 length, bytes); 1 truncate the file there; 2 zero (u8 length) bytes;
// 3 flip bit (u8 mod 8) of the byte there. At most 16 patches.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "fuzz/log_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace raftlog;
  using namespace raftlog::fuzz;
  FuzzInput in(data, size);
  const uint8_t control = in.Byte();
  const std::string dir = ScratchDir() + "/log";
  CopyTemplate(dir);

  DamageSegments(in, dir, (control & 8) != 0, (control & 1) != 0);

  const uint8_t policy = (control >> 1) & 3;
  const engine::RecoveryPolicy recovery = policy == 1 ? engine::RecoveryPolicy::kAbsoluteConsistency
                                          : policy == 2
                                              ? engine::RecoveryPolicy::kTolerateCorruptedTail
                                              : engine::RecoveryPolicy::kTolerateTornTail;
  ExerciseLog(dir, FuzzOptions(recovery, (control & 16) != 0), false, (control & 1) != 0);
  return 0;
}
