// A runner for datadriven test scripts, the file format of
// github.com/cockroachdb/datadriven that etcd raft's interaction tests use
// (testdata/*.txt). Pure string processing: the caller reads and writes the
// files.
//
// The format. A script is a sequence of test cases:
//
//   # a comment (lines whose first non-blank character is '#')
//   <command> [arg | arg=value | arg=(value1, value2, ...)]...
//   <input lines, optional>
//   ----
//   <expected output, ended by a blank line or the end of the script>
//
// A directive line ending in '\' continues on the next line. Expected output
// that itself contains blank lines is written between two "----" lines:
//
//   <command>
//   ----
//   ----
//   <expected output, blank lines allowed>
//   ----
//   ----
//
// The actual output of a case always ends with a newline (one is added if the
// handler's output has none) and is compared byte for byte with the expected
// text.
//
// Rewrite mode regenerates the expected outputs: the script is reproduced
// line for line (comments, blank lines, directives and inputs unchanged) with
// each case's expected output replaced by the actual one, using the
// double-"----" form exactly when the output has a blank line. This is
// datadriven's -rewrite, byte for byte.
//
// Not supported: datadriven's "subtest" directive and its multiple commands
// per directive ("cmd1,cmd2"), which etcd raft's scripts do not use.
//
// Thread-safety: pure functions; thread-safe.

#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "raftlog/format/result.h"
#include "raftlog/format/status.h"

namespace raftlog::raft::rafttest {

// An argument of a directive: `key`, `key=value` or `key=(v1, v2, ...)`.
struct CmdArg {
  std::string key;
  std::vector<std::string> vals;

  // The argument as it would be written: "key", "key=v", "key=(v1, v2)".
  std::string String() const;

  friend bool operator==(const CmdArg&, const CmdArg&) = default;
};

// One test case of a script.
struct TestData {
  // "<source name>:<line of the directive>", for messages.
  std::string pos;
  // The first word of the directive line.
  std::string cmd;
  std::vector<CmdArg> cmd_args;
  // The lines between the directive and "----", whitespace-trimmed as a
  // whole (not line by line).
  std::string input;
  // The expected output, each line ending in "\n" ("" if none).
  std::string expected;

  // The first argument named `key`, or nullptr.
  const CmdArg* Arg(std::string_view key) const;
};

// Parses one directive line into its command and arguments (datadriven's
// ParseLine). A blank line gives an empty command and no arguments.
// Values in parentheses may nest parentheses; spaces after the commas are
// dropped. Errors (InvalidArgument): "cannot parse directive at column N:
// <line>".
Result<std::pair<std::string, std::vector<CmdArg>>> ParseLine(std::string_view line);

// Handles one test case and returns its output. A non-OK status is a fatal
// error (a malformed directive, what Go's tests report with t.Fatal): the
// script stops there.
using Handler = std::function<Result<std::string>(const TestData& d)>;

// A case whose output differed from the expected text.
struct Mismatch {
  std::string pos;
  std::string directive;  // the directive line as written (continuations joined)
  std::string expected;
  std::string actual;
};

struct ScriptResult {
  // Test cases run (the handler was called).
  size_t cases = 0;
  // The cases whose output differed (never filled in rewrite mode). Unlike
  // Go's datadriven, which stops at the first one, the script keeps running:
  // the state of the handler does not depend on what was expected.
  std::vector<Mismatch> mismatches;
  // The first fatal error (a parse error or the handler's), prefixed with
  // its position; the script stopped there. OK otherwise.
  Status error;
  // Rewrite mode only, and only without a fatal error: the script with
  // every expected output replaced by the actual output.
  std::string rewritten;
};

// Runs every test case of `script` through `handler`, in order.
// `source_name` prefixes the positions (usually the file name).
ScriptResult RunScript(std::string_view source_name, std::string_view script,
                       const Handler& handler, bool rewrite = false);

// A unified diff (3 lines of context) turning `from` into `to`, with the
// given labels on its "---" and "+++" lines. Empty if the texts are equal.
std::string UnifiedDiff(std::string_view from, std::string_view to, std::string_view from_label,
                        std::string_view to_label);

// Go's strconv.ParseBool: "1", "t", "T", "TRUE", "true", "True" and their
// false counterparts. Errors: InvalidArgument.
Result<bool> ParseGoBool(std::string_view s);

}  // namespace raftlog::raft::rafttest
