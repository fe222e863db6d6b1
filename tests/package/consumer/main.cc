// A first program against an installed raftlog, built by package_test.sh
// with CMake (find_package) and with pkg-config. It includes only installed
// <raftlog/...> headers, opens a DiskStorage in a fresh temporary directory,
// appends entries, reads them back, closes, reopens and reads them again.
// Any mismatch prints what and exits non-zero.
#include <raftlog/engine/disk_storage.h>
#include <raftlog/version.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#ifndef RAFTLOG_EXPECTED_VERSION
#error "build with -DRAFTLOG_EXPECTED_VERSION=\"x.y.z\" (the version the package says it is)"
#endif

namespace {

int failures = 0;

void Expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "consumer: FAILED: %s\n", what);
    ++failures;
  }
}

std::string Payload(uint64_t index) { return "entry-" + std::to_string(index); }

// Reads [1, last] and checks every entry's index, term and payload.
void CheckEntries(raftlog::engine::DiskStorage& storage, uint64_t last, const char* when) {
  auto got_last = storage.LastIndex();
  Expect(got_last.ok() && *got_last == last, when);
  auto entries = storage.Entries(1, last + 1, UINT64_MAX);
  if (!entries.ok()) {
    std::fprintf(stderr, "consumer: Entries (%s): %s\n", when, entries.status().ToString().c_str());
    ++failures;
    return;
  }
  Expect(entries->size() == last, when);
  for (size_t i = 0; i < entries->size(); ++i) {
    const raftlog::raft::Entry& e = (*entries)[i];
    Expect(e.index == i + 1 && e.term == 1 && e.data == Payload(i + 1), when);
  }
}

}  // namespace

int main() {
  // The header, the library and the package metadata agree on the version.
  Expect(std::string(raftlog::kVersionString) == RAFTLOG_EXPECTED_VERSION,
         "raftlog/version.h names the installed package's version");

  char tmpl[] = "/tmp/raftlog-consumer-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 2;
  }
  const std::string dir = std::string(tmpl) + "/log";

  raftlog::engine::DiskStorageOptions options;
  options.engine.segment_bytes = 1u << 20;  // the smallest segment: a small footprint
  options.engine.prepared_segments = 0;
  constexpr uint64_t kEntries = 100;
  {
    auto storage = raftlog::engine::DiskStorage::Open(dir, options);
    if (!storage.ok()) {
      std::fprintf(stderr, "consumer: Open: %s\n", storage.status().ToString().c_str());
      return 1;
    }
    std::vector<raftlog::raft::Entry> entries;
    for (uint64_t i = 1; i <= kEntries; ++i) {
      raftlog::raft::Entry e;
      e.term = 1;
      e.index = i;
      e.data = Payload(i);
      entries.push_back(e);
    }
    raftlog::Status st = (*storage)->Append(entries);
    Expect(st.ok(), "Append");
    // Misuse is an error value, not a crash: a gap after the last index.
    raftlog::raft::Entry gap;
    gap.term = 1;
    gap.index = kEntries + 5;
    Expect((*storage)->Append({&gap, 1}).IsInvalidArgument(),
           "an Append with a gap is InvalidArgument");
    CheckEntries(**storage, kEntries, "read back before close");
    Expect((*storage)->Close().ok(), "Close");
  }
  {
    auto storage = raftlog::engine::DiskStorage::Open(dir, options);
    Expect(storage.ok(), "reopen");
    if (storage.ok()) CheckEntries(**storage, kEntries, "read back after reopen");
  }
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);

  if (failures != 0) return 1;
  std::printf("consumer ok: raftlog %s, %llu entries written, reopened and read back\n",
              raftlog::kVersionString, static_cast<unsigned long long>(kEntries));
  return 0;
}
