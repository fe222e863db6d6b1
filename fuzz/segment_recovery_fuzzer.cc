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
  const LogTemplate& t = Template();
  const std::string dir = ScratchDir() + "/log";
  CopyTemplate(dir);

  std::vector<std::string> files;
  for (const TemplateSegment& seg : t.segments) {
    files.push_back(ReadFileOrDie(dir + "/segments/" + seg.name));
  }
  if (control & 8) {
    std::string& active = files.back();
    const std::string_view body = in.Rest();
    for (size_t k = 64; k < active.size(); ++k) {
      active[k] = k - 64 < body.size() ? body[k - 64] : '\0';
    }
  } else {
    for (int patch = 0; patch < 16 && !in.empty(); ++patch) {
      std::string& file = files[in.Byte() % files.size()];
      const uint8_t op = in.Byte() % 4;
      const size_t offset = in.U32() % (file.size() + 1);
      switch (op) {
        case 0: {
          const std::string_view bytes = in.ShortBytes();
          file.replace(offset, std::min(bytes.size(), file.size() - offset), bytes);
          break;
        }
        case 1:
          file.resize(offset);
          break;
        case 2: {
          const size_t n = std::min<size_t>(in.Byte(), file.size() - offset);
          file.replace(offset, n, n, '\0');
          break;
        }
        default:
          if (offset < file.size()) file[offset] ^= static_cast<char>(1 << (in.Byte() % 8));
          break;
      }
    }
  }
  for (size_t k = 0; k < files.size(); ++k) {
    if (control & 1) FixSegmentChecksums(&files[k], t.segments[k].seed);
    WriteFileOrDie(dir + "/segments/" + t.segments[k].name, files[k]);
  }

  const uint8_t policy = (control >> 1) & 3;
  const engine::RecoveryPolicy recovery = policy == 1 ? engine::RecoveryPolicy::kAbsoluteConsistency
                                          : policy == 2
                                              ? engine::RecoveryPolicy::kTolerateCorruptedTail
                                              : engine::RecoveryPolicy::kTolerateTornTail;
  ExerciseLog(dir, FuzzOptions(recovery, (control & 16) != 0));
  return 0;
}
