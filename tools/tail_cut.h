// The one change `raftlog repair` makes to a log: it cuts the tail of the
// active segment at a frame boundary, so that the engine sees a clean end
// (an all-zero frame header) there.
//
// Order, and what a crash at each step leaves:
//   1. the bytes [from, to) are copied to a new side file in the log
//      directory (created exclusively, never overwriting), which is
//      fdatasync'ed, and the directory fsync'ed: from here on the removed
//      bytes exist elsewhere. A crash before this leaves the segment
//      untouched and at most a partial side file.
//   2. the range is overwritten with zeros and the segment fdatasync'ed. A
//      crash in between leaves some of the range zeroed: the zeros start at
//      `from` or later, anything still non-zero after them is exactly what a
//      second repair run finds again (and the side file holds it).
// Zeroing, rather than truncating the file, keeps the segment at its
// preallocated size (appends never allocate), and leaves no stale frame
// after the cut: the engine can later append right at `from` with no risk
// of splicing old frames of the same seed behind new ones (the reason
// recovery seals a segment it cuts itself).
//
// Thread-compatible.

#pragma once

#include <cstdint>
#include <string>

#include "raftlog/format/result.h"
#include "raftlog/io/file_system.h"

namespace raftlog::tools {

// The side file's name for a cut made now (format::layout::RepairSideFileName).
std::string SideFileName(const std::string& segment_name);

// Saves [from, to) of the segment at `segment_path` to `side_path`, then
// zeroes that range in the segment, with the syncs above. REQUIRES: the
// caller holds the log's LOCK and from < to <= the file's size. Returns
// IOError (the side file exists already, a write or sync failed); on a
// failure before step 2 the segment is unchanged.
Status SaveAndZero(io::FileSystem* fs, const std::string& dir, const std::string& segment_path,
                   uint64_t from, uint64_t to, const std::string& side_path);

}  // namespace raftlog::tools
