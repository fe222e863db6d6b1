// Tests of the datadriven script runner (tests/rafttest/datadriven.h) against
// the behaviour of github.com/cockroachdb/datadriven, and of the interaction
// environment's handling of malformed directives and errors.

#include "tests/rafttest/datadriven.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/rafttest/interaction_env.h"

namespace raftlog::raft::rafttest {
namespace {

using Args = std::vector<CmdArg>;

TEST(ParseLineTest, Forms) {
  struct Case {
    std::string line;
    std::string cmd;
    Args args;
  };
  const std::vector<Case> cases = {
      {"", "", {}},
      {"   ", "", {}},
      {"cmd", "cmd", {}},
      {"  cmd  a  b ", "cmd", {{"a", {}}, {"b", {}}}},
      {"add-nodes 3 voters=(1,2,3) index=10",
       "add-nodes",
       {{"3", {}}, {"voters", {"1", "2", "3"}}, {"index", {"10"}}}},
      {"deliver-msgs drop=(2, 3) type=MsgApp",
       "deliver-msgs",
       {{"drop", {"2", "3"}}, {"type", {"MsgApp"}}}},
      {"cmd empty= x", "cmd", {{"empty", {""}}, {"x", {}}}},
      {"cmd e=(a + (b, c), d)", "cmd", {{"e", {"a + (b, c)", "d"}}}},
      {"cmd one=(x)", "cmd", {{"one", {"x"}}}},
  };
  for (const Case& c : cases) {
    Result<std::pair<std::string, Args>> got = ParseLine(c.line);
    ASSERT_TRUE(got.ok()) << c.line << ": " << got.status().ToString();
    EXPECT_EQ(got->first, c.cmd) << c.line;
    EXPECT_EQ(got->second, c.args) << c.line;
  }
}

TEST(ParseLineTest, Errors) {
  // datadriven's messages: the 1-based column where parsing stopped.
  Result<std::pair<std::string, Args>> got = ParseLine("cmd a=(1,2");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(), "cannot parse directive at column 10: cmd a=(1,2");
  got = ParseLine("cmd =x");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(), "cannot parse directive at column 5: cmd =x");
}

TEST(CmdArgTest, String) {
  EXPECT_EQ((CmdArg{"k", {}}).String(), "k");
  EXPECT_EQ((CmdArg{"k", {"v"}}).String(), "k=v");
  EXPECT_EQ((CmdArg{"k", {"a", "b"}}).String(), "k=(a, b)");
}

// Echoes each case as "<cmd> [<n> args]" plus its input, so that tests can
// check what the reader handed out.
Result<std::string> Echo(const TestData& d) {
  std::string out = d.cmd + " [" + std::to_string(d.cmd_args.size()) + " args]\n";
  if (!d.input.empty()) out += d.input + "\n";
  return out;
}

TEST(RunScriptTest, PassesAndReportsMismatches) {
  const std::string script =
      "# comment\n"
      "a x=1\n"
      "----\n"
      "a [1 args]\n"
      "\n"
      "b \\\n"
      "  y z\n"
      "in1\n"
      "\n"
      "in2\n"
      "----\n"
      "b [2 args]\n"
      "in1\n";
  ScriptResult r = RunScript("s.txt", script, Echo);
  EXPECT_TRUE(r.error.ok());
  EXPECT_EQ(r.cases, 2u);
  // The input of "b" keeps its blank line; the expected output lacks it.
  ASSERT_EQ(r.mismatches.size(), 1u);
  EXPECT_EQ(r.mismatches[0].pos, "s.txt:6");
  EXPECT_EQ(r.mismatches[0].directive, "b  y z");  // as Go joins continuations
  EXPECT_EQ(r.mismatches[0].expected, "b [2 args]\nin1\n");
  EXPECT_EQ(r.mismatches[0].actual, "b [2 args]\nin1\n\nin2\n");
}

TEST(RunScriptTest, RewriteUsesDoubleSeparatorForBlankLines) {
  const std::string script =
      "# keep me\n"
      "\n"
      "a\n"
      "----\n"
      "stale\n"
      "\n"
      "b\n"
      "in1\n"
      "\n"
      "in2\n"
      "----\n"
      "----\n"
      "old\n"
      "\n"
      "old\n"
      "----\n"
      "----\n"
      "\n"
      "c\n";
  ScriptResult r = RunScript("s.txt", script, Echo, /*rewrite=*/true);
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();
  EXPECT_TRUE(r.mismatches.empty());
  EXPECT_EQ(r.rewritten,
            "# keep me\n"
            "\n"
            "a\n"
            "----\n"
            "a [0 args]\n"
            "\n"
            "b\n"
            "in1\n"
            "\n"
            "in2\n"
            "----\n"
            "----\n"
            "b [0 args]\n"
            "in1\n"
            "\n"
            "in2\n"
            "----\n"
            "----\n"
            "\n"
            "c\n"
            "----\n"
            "c [0 args]\n");
  // The rewritten script passes, and rewriting it again changes nothing.
  ScriptResult again = RunScript("s.txt", r.rewritten, Echo);
  EXPECT_TRUE(again.error.ok());
  EXPECT_TRUE(again.mismatches.empty());
  EXPECT_EQ(RunScript("s.txt", r.rewritten, Echo, true).rewritten, r.rewritten);
}

TEST(RunScriptTest, HandlerErrorStopsTheScript) {
  int calls = 0;
  ScriptResult r = RunScript(
      "s.txt", "a\n----\nok\n\nb\n----\nok\n\nc\n----\nok\n",
      [&calls](const TestData& d) -> Result<std::string> {
        calls++;
        if (d.cmd == "b") return Status::InvalidArgument("bad b");
        return std::string("ok");
      },
      /*rewrite=*/true);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(r.error.message(), "s.txt:5: bad b");
  EXPECT_TRUE(r.rewritten.empty());
}

TEST(RunScriptTest, ParseErrorHasPosition) {
  ScriptResult r = RunScript("s.txt", "\n\nx a=(\n----\nok\n", Echo);
  EXPECT_EQ(r.cases, 0u);
  EXPECT_EQ(r.error.message(), "s.txt:3: cannot parse directive at column 6: x a=(");
}

TEST(UnifiedDiffTest, Hunks) {
  EXPECT_EQ(UnifiedDiff("a\nb\n", "a\nb\n", "x", "y"), "");
  EXPECT_EQ(UnifiedDiff("a\nb\nc\n", "a\nB\nc\n", "expected", "actual"),
            "--- expected\n+++ actual\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
  // Far-apart changes get separate hunks with three lines of context.
  std::string from, to;
  for (int i = 1; i <= 20; i++) {
    from += std::to_string(i) + "\n";
    to += (i == 2 || i == 18 ? "x" : std::to_string(i)) + "\n";
  }
  EXPECT_EQ(UnifiedDiff(from, to, "e", "a"),
            "--- e\n+++ a\n"
            "@@ -1,5 +1,5 @@\n 1\n-2\n+x\n 3\n 4\n 5\n"
            "@@ -15,6 +15,6 @@\n 15\n 16\n 17\n-18\n+x\n 19\n 20\n");
  // An insertion into an empty text.
  EXPECT_EQ(UnifiedDiff("", "n\n", "e", "a"), "--- e\n+++ a\n@@ -0,0 +1,1 @@\n+n\n");
}

TEST(ParseGoBoolTest, GoSpellings) {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) EXPECT_TRUE(*ParseGoBool(t)) << t;
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) {
    EXPECT_FALSE(*ParseGoBool(f)) << f;
  }
  EXPECT_FALSE(ParseGoBool("yes").ok());
}

// Runs `script` on a fresh environment and returns the result.
ScriptResult RunEnv(const std::string& script, bool rewrite = true) {
  InteractionEnv env;
  return RunScript(
      "t.txt", script, [&env](const TestData& d) { return env.Handle(d); }, rewrite);
}

TEST(InteractionEnvTest, ErrorsArePrintedMalformedDirectivesStopTheScript) {
  ScriptResult r = RunEnv(
      "add-nodes 1 voters=(1) index=2\n----\nok\n\n"
      "propose 1 x\n----\nok\n\n"
      "frobnicate\n----\nok\n\n"
      "log-level nonsense\n----\nok\n\n"
      "propose-conf-change 1 transition=sideways\n----\nok\n\n"
      "propose-conf-change 1\nq9\n----\nok\n");
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();
  // No leader yet: the proposal is dropped, and etcd prints the error.
  EXPECT_NE(r.rewritten.find("dropping proposal\nraft proposal dropped\n"), std::string::npos)
      << r.rewritten;
  EXPECT_NE(r.rewritten.find("frobnicate\n----\nunknown command\n"), std::string::npos);
  EXPECT_NE(r.rewritten.find("log levels must be either of [DEBUG INFO WARN ERROR FATAL NONE]"),
            std::string::npos);
  EXPECT_NE(r.rewritten.find("unknown transition sideways"), std::string::npos);
  EXPECT_NE(r.rewritten.find("unknown input: q9"), std::string::npos);

  for (const char* bad :
       {"campaign x\n----\nok\n", "raft-log 7\n----\nok\n", "add-nodes 1 bogus=1\n----\nok\n",
        "deliver-msgs type=MsgNope\n----\nok\n", "transfer-leadership from=1\n----\nok\n"}) {
    ScriptResult bad_r = RunEnv(std::string("add-nodes 1 voters=(1) index=2\n----\nok\n\n") + bad);
    EXPECT_FALSE(bad_r.error.ok()) << bad;
    EXPECT_EQ(bad_r.cases, 2u) << bad;
  }
}

TEST(InteractionEnvTest, LogLevelNoneSilencesAllButErrors) {
  ScriptResult r = RunEnv(
      "log-level none\n----\nok\n\n"
      "add-nodes 1 voters=(1) index=2\n----\nok\n\n"
      "propose 1 x\n----\nok\n\n"
      "log-level info\n----\nok\n\n"
      "campaign 1\n----\nok\n");
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();
  EXPECT_NE(r.rewritten.find("add-nodes 1 voters=(1) index=2\n----\nok\n"), std::string::npos);
  EXPECT_NE(r.rewritten.find("propose 1 x\n----\nraft proposal dropped\n"), std::string::npos);
  EXPECT_NE(r.rewritten.find("campaign 1\n----\nINFO 1 is starting a new election at term 0\n"),
            std::string::npos)
      << r.rewritten;
}

TEST(InteractionEnvTest, BootstrapNeedsIndexAboveOne) {
  ScriptResult r = RunEnv("add-nodes 1 voters=(1)\n----\nok\n");
  ASSERT_TRUE(r.error.ok());
  EXPECT_NE(r.rewritten.find("index must be specified as > 1 due to bootstrap"), std::string::npos);
}

}  // namespace
}  // namespace raftlog::raft::rafttest
