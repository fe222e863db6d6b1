// raftlog: the operator's tool for raftlog logs (docs/tools.md).
//
//   raftlog info DIR      what the log holds
//   raftlog dump DIR      its entries
//   raftlog verify DIR    a full check of every file
//   raftlog repair DIR    cut a torn or corrupt tail
//   raftlog bench [DIR]   this disk's fitness for a raft log
//   raftlog snapshot inspect|verify|extract FILE-or-DIR   one snapshot file
//   raftlog backup DIR DEST                               a verified copy
//   raftlog compress DIR  rewrite sealed segments compressed (writes)
//
// Read-only commands never take the writer lock and never modify the log;
// repair and compress write (and need the log closed).

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <vector>

#include "raftlog/version.h"
#include "tools/command.h"

namespace {

// A mapped file that shrinks under a reader (or a damaged LMDB file that
// LMDB follows past its end) raises SIGBUS. The tool reads segments with
// pread and checks meta.mdb before LMDB maps it, so this is the last line of
// defence: a clear one-line error and exit code 3 instead of a core dump.
void OnSigbus(int /*signo*/) {
  static constexpr char kMsg[] =
      "raftlog: a file was truncated or is damaged while being read (SIGBUS); stopping\n";
  // Only async-signal-safe calls here.
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
  ::_exit(raftlog::tools::kExitCannotOpen);
}

}  // namespace

int main(int argc, char** argv) {
  // A closed pipe (`raftlog dump DIR | head`) must end the output quietly:
  // writes then fail with EPIPE, which the commands treat as the end.
  ::signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {};
  sa.sa_handler = OnSigbus;
  ::sigaction(SIGBUS, &sa, nullptr);

  CLI::App app{"Inspect, check, repair and benchmark raftlog logs (see docs/tools.md).", "raftlog"};
  app.set_version_flag("--version", "raftlog " RAFTLOG_VERSION_STRING);
  app.require_subcommand(1, 1);
  app.footer(
      "Exit codes: 0 ok, 1 problems found, 2 usage error, 3 cannot open (missing, not a log, "
      "unreadable, I/O error), 4 log in use.");

  using namespace raftlog::tools;
  std::vector<Command> commands = {AddInfoCommand(&app),   AddDumpCommand(&app),
                                   AddVerifyCommand(&app), AddRepairCommand(&app),
                                   AddBenchCommand(&app),  AddSnapshotCommand(&app),
                                   AddBackupCommand(&app),  AddCompressCommand(&app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0.
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  for (const Command& command : commands) {
    if (command.app->parsed()) return command.run();
  }
  return kExitUsage;
}
