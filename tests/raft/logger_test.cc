#include "raftlog/raft/logger.h"

#include <gtest/gtest.h>

#include <cstdarg>
#include <cstdio>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace raftlog::raft {
namespace {

class LoggerDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

// Calls Logv, as a wrapper around Logger would.
__attribute__((format(printf, 3, 4))) void LogThrough(Logger& logger, LogLevel level,
                                                      const char* format, ...) {
  va_list args;
  va_start(args, format);
  logger.Logv(level, format, args);
  va_end(args);
}

std::string ReadAll(std::FILE* f) {
  std::rewind(f);
  std::string out;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  return out;
}

TEST(LoggerTest, LevelNamesAreEtcds) {
  EXPECT_EQ(LogLevelName(LogLevel::kDebug), "DEBUG");
  EXPECT_EQ(LogLevelName(LogLevel::kInfo), "INFO");
  EXPECT_EQ(LogLevelName(LogLevel::kWarning), "WARN");
  EXPECT_EQ(LogLevelName(LogLevel::kError), "ERROR");
  EXPECT_EQ(LogLevelName(LogLevel::kFatal), "FATAL");
  EXPECT_EQ(LogLevelName(LogLevel::kPanic), "PANIC");
}

// The interface adds nothing to the message: a harness receives exactly the
// text etcd's Infof would have produced.
TEST(LoggerTest, SinkReceivesTheExactFormattedMessage) {
  CapturingLogger logger;
  logger.Info("%x became leader at term %llu", 1u, 2ull);
  logger.Warning("%s", "careful");
  logger.Error("e=%d", -1);
  logger.Debug("d");
  EXPECT_EQ(logger.lines(), (std::vector<CapturingLogger::Line>{
                                {LogLevel::kInfo, "1 became leader at term 2"},
                                {LogLevel::kWarning, "careful"},
                                {LogLevel::kError, "e=-1"},
                                {LogLevel::kDebug, "d"},
                            }));
  EXPECT_EQ(logger.messages(),
            (std::vector<std::string>{"1 became leader at term 2", "careful", "e=-1", "d"}));
  // rafttest's RedirectLogger shape.
  EXPECT_EQ(logger.Text(), "INFO 1 became leader at term 2\nWARN careful\nERROR e=-1\nDEBUG d\n");
  LogThrough(logger, LogLevel::kInfo, "through %s", "Logv");
  EXPECT_EQ(logger.messages().back(), "through Logv");
  logger.Clear();
  EXPECT_TRUE(logger.lines().empty());
}

TEST(LoggerTest, ThresholdDropsLowerLevels) {
  CapturingLogger logger(LogLevel::kInfo);
  EXPECT_FALSE(logger.Enabled(LogLevel::kDebug));
  EXPECT_TRUE(logger.Enabled(LogLevel::kInfo));
  logger.Debug("hidden");
  logger.Info("shown");
  logger.set_min_level(LogLevel::kDebug);
  logger.Debug("now shown");
  EXPECT_EQ(logger.messages(), (std::vector<std::string>{"shown", "now shown"}));
}

// A disabled level is not formatted and does not reach the sink.
TEST(LoggerTest, DisabledLevelsSkipTheSink) {
  struct CountingSink final : Logger {
    void Write(LogLevel, std::string_view) override { ++writes; }
    bool Enabled(LogLevel level) const override { return level >= LogLevel::kWarning; }
    int writes = 0;
  } sink;
  sink.Debug("x");
  sink.Info("x");
  EXPECT_EQ(sink.writes, 0);
  sink.Warning("x");
  EXPECT_EQ(sink.writes, 1);
}

TEST(LoggerTest, LongMessagesAreFormattedWhole) {
  CapturingLogger logger;
  const std::string big(5000, 'z');
  logger.Info("<%s|%d>", big.c_str(), 42);
  ASSERT_EQ(logger.messages().size(), 1u);
  EXPECT_EQ(logger.messages()[0], "<" + big + "|42>");
  EXPECT_EQ(StringPrintf("%s-%s", big.c_str(), big.c_str()), big + "-" + big);
}

TEST(LoggerTest, StderrLoggerWritesEtcdShapedLines) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    StderrLogger logger(LogLevel::kInfo, f, /*timestamps=*/false);
    logger.Debug("invisible");
    logger.Info("hello %d", 7);
    logger.EnableDebug();
    logger.Debug("visible");
  }
  EXPECT_EQ(ReadAll(f), "raft INFO: hello 7\nraft DEBUG: visible\n");
  std::fclose(f);

  f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  StderrLogger stamped(LogLevel::kInfo, f);
  stamped.Warning("x");
  const std::string line = ReadAll(f);
  EXPECT_TRUE(std::regex_match(line, std::regex(R"(raft\d{4}/\d\d/\d\d \d\d:\d\d:\d\d WARN: x\n)")))
      << line;
  std::fclose(f);
}

TEST(LoggerTest, PackageLoggerCanBeReplacedAndReset) {
  EXPECT_EQ(&GetLogger(), &GetDefaultLogger());
  CapturingLogger capture;
  SetLogger(&capture);
  EXPECT_EQ(&GetLogger(), &capture);
  GetLogger().Info("via package logger");
  EXPECT_EQ(capture.messages(), std::vector<std::string>{"via package logger"});
  SetLogger(nullptr);  // null means the default
  EXPECT_EQ(&GetLogger(), &GetDefaultLogger());
  SetLogger(&GetDiscardLogger());
  ResetDefaultLogger();
  EXPECT_EQ(&GetLogger(), &GetDefaultLogger());
}

TEST(LoggerTest, CapturingLoggerAcceptsConcurrentWriters) {
  CapturingLogger logger;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < 250; ++i) logger.Info("t%d i%d", t, i);
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(logger.lines().size(), 1000u);
}

TEST_F(LoggerDeathTest, PanicReachesTheSinkThenAborts) {
  // The sink records (here: prints) the message; Panic aborts afterwards.
  struct MarkingSink final : Logger {
    void Write(LogLevel level, std::string_view message) override {
      std::fprintf(stderr, "sink saw %s %.*s\n", std::string(LogLevelName(level)).c_str(),
                   static_cast<int>(message.size()), message.data());
    }
  };
  MarkingSink sink;
  EXPECT_DEATH(sink.Panic("boom %d", 7), "sink saw PANIC boom 7\n(.|\n)*panic: boom 7");
}

TEST_F(LoggerDeathTest, PanicAbortsWhateverTheSink) {
  EXPECT_DEATH(GetDiscardLogger().Panic("invariant %s broken", "x"), "panic: invariant x broken");
  CapturingLogger capture(LogLevel::kError);
  EXPECT_DEATH(capture.Panic("captured"), "panic: captured");
  EXPECT_DEATH(LogThrough(capture, LogLevel::kPanic, "via %s", "Logv"), "panic: via Logv");
}

TEST_F(LoggerDeathTest, FatalExitsWithStatusOne) {
  StderrLogger logger(LogLevel::kInfo, nullptr, /*timestamps=*/false);
  EXPECT_EXIT(logger.Fatal("bye %s", "now"), ::testing::ExitedWithCode(1), "raft FATAL: bye now");
  EXPECT_EXIT(GetDiscardLogger().Fatal("silent"), ::testing::ExitedWithCode(1), "");
}

}  // namespace
}  // namespace raftlog::raft
