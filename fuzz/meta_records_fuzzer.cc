// Fuzz target: metadata decoding, on arbitrary bytes. Two levels:
//  - format/'s record decoders (HardState, ConfState, SnapshotMeta,
//    SegmentRecord, DurableRecord): never crash or allocate from an unchecked count, and
//    what decodes re-encodes to something that decodes to the same value;
//  - the engine's metadata in LMDB: one key of a real log (the format
//    version, log/start, the next segment id, the generation, a manifest
//    entry, the HardState, the snapshot metadata, log/durable) gets the input as its
//    value, or is deleted, and the log is opened and exercised
//    (log_template.h): open fails with a Status or serves a consistent log.
//
// Input: a control byte (mod 14: 0-3 a record decoder; 4-10 an LMDB key to
// overwrite; 11 delete the key chosen by the next byte; 12 the DurableRecord
// decoder; 13 overwrite log/durable), then the bytes. (12 and 13 came last,
// so the older corpus inputs keep their meaning.)

#include <cstddef>
#include <cstdint>
#include <string>

#include "raftlog/engine/meta_store.h"
#include "raftlog/format/meta_records.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/log_template.h"

namespace raftlog::fuzz {
namespace {

template <class Record>
void RoundTrip(std::string_view bytes, Result<Record> (*decode)(std::string_view),
               std::string (*encode)(const Record&), const char* what) {
  auto decoded = decode(bytes);
  if (!decoded.ok()) return;
  auto again = decode(encode(*decoded));
  if (!again.ok()) FuzzFail(std::string(what) + " does not decode after re-encoding");
  if (encode(*again) != encode(*decoded)) FuzzFail(std::string(what) + " changes when re-encoded");
}

std::string Key(uint8_t k) {
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
      // The active segment's manifest entry.
      const std::string& name = Template().segments.back().name;
      return "seg/" + name.substr(0, name.find('.'));
    }
    case 5:
      return "state/hardstate";
    default:
      return "state/snapshot";
  }
}

}  // namespace
}  // namespace raftlog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace raftlog;
  using namespace raftlog::fuzz;
  FuzzInput in(data, size);
  const uint8_t control = in.Byte() % 14;
  switch (control) {
    case 0:
      RoundTrip<format::HardStateRecord>(in.Rest(), format::DecodeHardState,
                                         format::EncodeHardState, "HardState");
      return 0;
    case 1:
      RoundTrip<format::ConfStateRecord>(in.Rest(), format::DecodeConfState,
                                         format::EncodeConfState, "ConfState");
      return 0;
    case 2:
      RoundTrip<format::SnapshotMetaRecord>(in.Rest(), format::DecodeSnapshotMeta,
                                            format::EncodeSnapshotMeta, "SnapshotMeta");
      return 0;
    case 3:
      RoundTrip<format::SegmentRecord>(in.Rest(), format::DecodeSegmentRecord,
                                       format::EncodeSegmentRecord, "SegmentRecord");
      return 0;
    case 12:
      RoundTrip<format::DurableRecord>(in.Rest(), format::DecodeDurableRecord,
                                       format::EncodeDurableRecord, "DurableRecord");
      return 0;
    default:
      break;
  }
  const std::string dir = ScratchDir() + "/log";
  CopyTemplate(dir);
  {
    auto meta = engine::MetaStore::Open(dir + "/meta.mdb");
    if (!meta.ok()) FuzzFail("cannot open the template's metadata: " + meta.status().ToString());
    engine::MetaStore::Batch batch;
    if (control == 11) {
      batch.Delete(Key(in.Byte()));
    } else if (control == 13) {
      batch.Put(format::kDurableKey, in.Rest());
    } else {
      batch.Put(Key(control - 4), in.Rest());
    }
    const Status s = (*meta)->Write(batch);
    if (!s.ok()) FuzzFail("cannot write the template's metadata: " + s.ToString());
  }
  ExerciseLog(dir, FuzzOptions(engine::RecoveryPolicy::kTolerateTornTail, false));
  return 0;
}
