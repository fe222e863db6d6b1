#include "tools/stream_decoder.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace raftlog::tools {

namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 1 << 30));
}

std::string HexLine(std::string_view payload) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string line;
  line.reserve(payload.size() * 2 + 1);
  for (const char c : payload) {
    const auto b = static_cast<unsigned char>(c);
    line.push_back(kDigits[b >> 4]);
    line.push_back(kDigits[b & 15]);
  }
  line.push_back('\n');
  return line;
}

}  // namespace

Result<std::unique_ptr<StreamDecoder>> StreamDecoder::Start(const std::string& command,
                                                            std::chrono::milliseconds timeout) {
  int in[2], out[2];  // in: tool -> child stdin; out: child stdout -> tool
  if (::pipe2(in, O_CLOEXEC) != 0) return Status::FromErrno("pipe for --decoder", errno);
  if (::pipe2(out, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(in[0]);
    ::close(in[1]);
    return Status::FromErrno("pipe for --decoder", e);
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    for (const int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
    return Status::FromErrno("fork for --decoder", e);
  }
  if (pid == 0) {
    // Its own process group, so that a kill reaches whatever the shell
    // started too (a grandchild holding our stderr would keep a caller's
    // pipe open long after we gave up on the decoder).
    ::setpgid(0, 0);
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::signal(SIGPIPE, SIG_DFL);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here: whichever runs first, the group exists before a kill
  ::close(in[0]);
  ::close(out[1]);
  std::unique_ptr<StreamDecoder> d(new StreamDecoder(command, timeout));
  d->pid_ = pid;
  d->to_child_ = in[1];
  d->from_child_ = out[0];
  // Non-blocking both ways: every wait is a poll with a deadline.
  ::fcntl(d->to_child_, F_SETFL, ::fcntl(d->to_child_, F_GETFL) | O_NONBLOCK);
  ::fcntl(d->from_child_, F_SETFL, ::fcntl(d->from_child_, F_GETFL) | O_NONBLOCK);
  return d;
}

StreamDecoder::~StreamDecoder() {
  if (to_child_ >= 0) ::close(to_child_);
  if (from_child_ >= 0) ::close(from_child_);
  if (pid_ > 0) Reap(std::chrono::milliseconds(0));
}

std::string StreamDecoder::Reap(std::chrono::milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  int status = 0;
  pid_t got = 0;
  while ((got = ::waitpid(pid_, &status, WNOHANG)) == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::string what;
  if (got == 0) {
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    what = "did not exit, killed";
  } else if (got < 0) {
    what = "could not be waited for";
  } else if (WIFEXITED(status)) {
    what = WEXITSTATUS(status) == 0 ? "" : "exited with status " + std::to_string(WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    what = "was killed by signal " + std::to_string(WTERMSIG(status));
  }
  pid_ = -1;
  return what;
}

Status StreamDecoder::Fail(const std::string& what) {
  broken_ = true;
  if (to_child_ >= 0) ::close(to_child_);
  to_child_ = -1;
  const pid_t group = pid_;
  std::string how = pid_ > 0 ? Reap(std::chrono::milliseconds(200)) : "";
  // Whatever the decoder left running in its group goes too.
  if (group > 0) ::kill(-group, SIGKILL);
  return Status::FailedPrecondition("--decoder '" + command_ + "' " + what +
                         (how.empty() ? "" : " (it " + how + ")"));
}

Result<std::string> StreamDecoder::Decode(std::string_view payload, uint64_t index) {
  if (broken_) return Status::FailedPrecondition("--decoder '" + command_ + "' has failed");
  const std::string at = "entry " + std::to_string(index);
  const std::string line = HexLine(payload);
  const auto deadline = Clock::now() + timeout_;
  size_t written = 0;
  size_t newline = std::string::npos;
  // Write the line and read the answer together: a decoder may answer
  // while still reading a long line, and must not block us on a full pipe.
  while ((newline = pending_.find('\n')) == std::string::npos) {
    pollfd fds[2] = {{from_child_, POLLIN, 0},
                     {written < line.size() ? to_child_ : -1, POLLOUT, 0}};
    const int n = ::poll(fds, 2, MillisLeft(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail("could not be polled at " + at);
    if (n == 0) {
      return Fail("gave no answer for " + at + " within " + std::to_string(timeout_.count()) +
                  " ms");
    }
    if (fds[1].revents & (POLLOUT | POLLERR | POLLHUP)) {
      const ssize_t w = ::write(to_child_, line.data() + written, line.size() - written);
      if (w < 0 && errno != EAGAIN && errno != EINTR) {
        return Fail("stopped reading its input at " + at);
      }
      if (w > 0) written += static_cast<size_t>(w);
    }
    if (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) {
      char buf[65536];
      const ssize_t r = ::read(from_child_, buf, sizeof(buf));
      if (r == 0) return Fail("closed its output before answering " + at);
      if (r < 0 && errno != EAGAIN && errno != EINTR) return Fail("output failed at " + at);
      if (r > 0) pending_.append(buf, static_cast<size_t>(r));
    }
  }
  if (written < line.size()) {
    return Fail("answered " + at + " before reading all of it (one line out per line in)");
  }
  std::string answer = pending_.substr(0, newline);
  pending_.erase(0, newline + 1);
  if (!answer.empty() && answer.back() == '\r') answer.pop_back();
  return answer;
}

Status StreamDecoder::Finish() {
  if (broken_) return Status::FailedPrecondition("--decoder '" + command_ + "' has failed");
  ::close(to_child_);
  to_child_ = -1;
  // Whatever it prints after its input ends answers no entry.
  const auto deadline = Clock::now() + timeout_;
  for (;;) {
    pollfd fd = {from_child_, POLLIN, 0};
    const int n = ::poll(&fd, 1, MillisLeft(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    char buf[4096];
    const ssize_t r = ::read(from_child_, buf, sizeof(buf));
    if (r <= 0) break;
    pending_.append(buf, static_cast<size_t>(r));
  }
  broken_ = true;
  const std::string how = Reap(std::chrono::milliseconds(MillisLeft(deadline)));
  if (!pending_.empty()) {
    return Status::FailedPrecondition("--decoder '" + command_ +
                           "' printed more lines than it was given entries (one line out per "
                           "line in)");
  }
  if (!how.empty()) return Status::FailedPrecondition("--decoder '" + command_ + "' " + how);
  return Status::OK();
}

}  // namespace raftlog::tools
