// The raftlog tool's subcommands and what they share: exit codes, the way a
// command is registered with the argument parser, and the one-line error
// report. Every subcommand lives in its own file (info.cc, dump.cc, ...).
//
// Exit codes (documented in docs/tools.md; scripts rely on them):
//   0  success: the command did what it was asked; verify found no error
//   1  problems found: damage (verify, dump, info), a repair refused or
//      impossible, bench thresholds not met
//   2  usage error: bad arguments (CLI11's message on stderr)
//   3  cannot open: missing directory, not a raftlog log, unreadable file,
//      newer format, I/O error
//   4  busy: the log is open by another process (repair needs it closed)

#pragma once

#include <functional>
#include <string_view>

#include "raftlog/format/status.h"

namespace CLI {
class App;
}

namespace raftlog::tools {

enum ExitCode : int {
  kExitOk = 0,
  kExitProblems = 1,
  kExitUsage = 2,
  kExitCannotOpen = 3,
  kExitBusy = 4,
};

// A registered subcommand: `app` is owned by the root CLI::App; `run` is
// called after a successful parse when the subcommand was chosen, and
// returns the process exit code.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command AddInfoCommand(CLI::App* root);
Command AddDumpCommand(CLI::App* root);
Command AddVerifyCommand(CLI::App* root);
Command AddRepairCommand(CLI::App* root);
Command AddBenchCommand(CLI::App* root);
Command AddSnapshotCommand(CLI::App* root);
Command AddBackupCommand(CLI::App* root);
Command AddCompressCommand(CLI::App* root);

// The exit code for a Status that stopped a command: Busy -> kExitBusy,
// Corruption -> kExitProblems, anything else (NotFound, InvalidArgument,
// IOError, NotSupported, ...) -> kExitCannotOpen.
int ExitCodeFor(const Status& s);

// Prints "raftlog <command>: <message>" on one line of stderr (newlines in
// the message become spaces) and returns ExitCodeFor(s).
// REQUIRES: !s.ok().
int ReportError(std::string_view command, const Status& s);

}  // namespace raftlog::tools
