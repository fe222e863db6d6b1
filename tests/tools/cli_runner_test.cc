// The tools tests' child-process runner: an answer comes back whole; a
// child that crashes or hangs gives no answer instead of a wrong one or a
// stalled test.

#include "tests/tools/cli_runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

namespace raftlog::tools::testing {
namespace {

TEST(CliRunnerTest, RunInChildReturnsTheAnswerOrNothing) {
  const std::string big(1 << 20, 'x');  // more than a pipe holds
  EXPECT_EQ(RunInChild([&big] { return big; }), big);
  EXPECT_EQ(RunInChild([] { return std::string(); }), std::string());
  EXPECT_EQ(RunInChild([]() -> std::string { std::abort(); }), std::nullopt);

  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(RunInChild(
                []() -> std::string {
                  for (;;) ::pause();
                },
                std::chrono::seconds(1)),
            std::nullopt);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace raftlog::tools::testing
