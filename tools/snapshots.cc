#include "tools/snapshots.h"

namespace raftlog::tools {

namespace {

std::string IdList(const std::vector<uint64_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ' ';
    out += std::to_string(ids[i]);
  }
  return out + "]";
}

}  // namespace

Result<std::unique_ptr<snapshot::SnapshotStore>> OpenSnapshotsReadOnly(const LogDir& dir) {
  const std::string path = dir.Path(kSnapshotsDir);
  if (!dir.fs()->Exists(path)) return std::unique_ptr<snapshot::SnapshotStore>();
  snapshot::SnapshotStore::Options options;
  options.read_only = true;
  return snapshot::SnapshotStore::Open(dir.fs(), path, options);
}

Json ConfStateJson(const format::ConfStateRecord& cs) {
  return Json{{"voters", cs.voters},
              {"learners", cs.learners},
              {"voters_outgoing", cs.voters_outgoing},
              {"learners_next", cs.learners_next},
              {"auto_leave", cs.auto_leave}};
}

std::string ConfStateText(const format::ConfStateRecord& cs) {
  std::string out = "voters " + IdList(cs.voters);
  if (!cs.learners.empty()) out += ", learners " + IdList(cs.learners);
  if (!cs.voters_outgoing.empty()) out += ", outgoing voters " + IdList(cs.voters_outgoing);
  if (!cs.learners_next.empty()) out += ", learners next " + IdList(cs.learners_next);
  if (cs.auto_leave) out += ", auto leave";
  return out;
}

}  // namespace raftlog::tools
