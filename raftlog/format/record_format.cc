#include "raftlog/format/record_format.h"

#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"

namespace raftlog::format {

uint64_t FrameSeed(uint64_t segment_id, uint64_t generation) {
  // Hashing (rather than, say, XOR-ing) the pair keeps distinct (id,
  // generation) pairs from colliding on the same seed in any structured way.
  char buf[16];
  EncodeFixed64(buf, segment_id);
  EncodeFixed64(buf + 8, generation);
  return Checksum64(std::string_view(buf, sizeof(buf)), 0);
}

}  // namespace raftlog::format
