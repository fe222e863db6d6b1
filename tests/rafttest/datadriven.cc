#include "tests/rafttest/datadriven.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "raftlog/raft/logger.h"

namespace raftlog::raft::rafttest {

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Splits `text` into lines as Go's bufio.Scanner does: on "\n", dropping a
// "\r" before it; a final line without "\n" still counts, an empty text has
// no lines.
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

bool HasBlankLine(std::string_view s) {
  for (std::string_view line : SplitLines(s)) {
    if (TrimSpace(line).empty()) return true;
  }
  return false;
}

// The reading side of a script (datadriven's testDataReader): hands out the
// test cases one by one and, in rewrite mode, records every line it consumes
// except separators and expected output.
class Reader {
 public:
  Reader(std::string_view source_name, std::string_view script, bool rewrite)
      : source_name_(source_name), lines_(SplitLines(script)), rewrite_(rewrite) {}

  // Reads the next test case into *d. Returns false at the end of the
  // script; a parse error goes to *error (and ends the script).
  bool Next(TestData* d, std::string* directive, Status* error) {
    while (Scan()) {
      *d = TestData{};
      std::string_view raw = Text();
      Emit(raw);
      d->pos = source_name_ + ":" + std::to_string(line_no_);
      std::string line(TrimSpace(raw));
      if (line.starts_with("#")) continue;
      while (line.ends_with("\\") && Scan()) {
        Emit(Text());
        line.pop_back();
        line += " ";
        line += TrimSpace(Text());
      }
      Result<std::pair<std::string, std::vector<CmdArg>>> parsed = ParseLine(line);
      if (!parsed.ok()) {
        *error = Status::InvalidArgument(d->pos + ": " + std::string(parsed.status().message()));
        return false;
      }
      if (parsed->first.empty()) continue;
      d->cmd = std::move(parsed->first);
      d->cmd_args = std::move(parsed->second);
      *directive = line;

      std::string input;
      bool separator = false;
      while (Scan()) {
        std::string_view l = Text();
        if (l == "----") {
          separator = true;
          break;
        }
        Emit(l);
        input += l;
        input += "\n";
      }
      d->input = std::string(TrimSpace(input));
      if (separator) d->expected = ReadExpected();
      return true;
    }
    return false;
  }

  void Emit(std::string_view s) {
    if (!rewrite_) return;
    out_ += s;
    out_ += "\n";
  }
  void EmitRaw(std::string_view s) {
    if (rewrite_) out_ += s;
  }
  std::string TakeRewritten() { return std::move(out_); }

 private:
  bool Scan() {
    if (next_ >= lines_.size()) return false;
    current_ = lines_[next_++];
    line_no_++;
    return true;
  }
  std::string_view Text() const { return current_; }

  std::string ReadExpected() {
    std::string buf;
    std::string_view line;
    bool allow_blank_lines = false;
    if (Scan()) {
      line = Text();
      if (line == "----") allow_blank_lines = true;
    }
    if (allow_blank_lines) {
      // Up to two successive "----" lines.
      while (Scan()) {
        line = Text();
        if (line == "----" && Scan()) {
          std::string_view line2 = Text();
          if (line2 == "----") break;
          buf += line;
          buf += "\n";
          buf += line2;
          buf += "\n";
          continue;
        }
        buf += line;
        buf += "\n";
      }
    } else {
      // Up to the first blank line.
      while (!TrimSpace(line).empty()) {
        buf += line;
        buf += "\n";
        if (!Scan()) break;
        line = Text();
      }
    }
    return buf;
  }

  std::string source_name_;
  std::vector<std::string_view> lines_;
  size_t next_ = 0;
  size_t line_no_ = 0;
  std::string_view current_;
  bool rewrite_;
  std::string out_;
};

}  // namespace

std::string CmdArg::String() const {
  if (vals.empty()) return key;
  if (vals.size() == 1) return key + "=" + vals[0];
  std::string out = key + "=(";
  for (size_t i = 0; i < vals.size(); i++) {
    if (i > 0) out += ", ";
    out += vals[i];
  }
  return out + ")";
}

const CmdArg* TestData::Arg(std::string_view key) const {
  for (const CmdArg& arg : cmd_args) {
    if (arg.key == key) return &arg;
  }
  return nullptr;
}

Result<std::pair<std::string, std::vector<CmdArg>>> ParseLine(std::string_view orig) {
  orig = TrimSpace(orig);
  std::pair<std::string, std::vector<CmdArg>> out;
  if (orig.empty()) return out;
  std::string_view line = orig;
  auto parse_error = [&]() {
    size_t column = orig.size() - line.size() + 1;
    return Status::InvalidArgument("cannot parse directive at column " + std::to_string(column) +
                                   ": " + std::string(orig));
  };
  // Removes and returns the prefix of `line` up to any of `chars`.
  auto until = [&line](std::string_view chars) {
    size_t idx = line.find_first_of(chars);
    if (idx == std::string_view::npos) idx = line.size();
    std::string_view res = line.substr(0, idx);
    line.remove_prefix(idx);
    return res;
  };

  out.first = std::string(until(" "));
  if (out.first.empty()) return parse_error();
  line = TrimSpace(line);
  while (!line.empty()) {
    CmdArg arg;
    arg.key = std::string(until(" ="));
    if (arg.key.empty()) return parse_error();
    if (!line.empty() && line[0] == '=') {
      line.remove_prefix(1);
      if (line.empty() || line[0] == ' ') {
        arg.vals.push_back("");
      } else if (line[0] != '(') {
        arg.vals.emplace_back(until(" "));
      } else {
        line.remove_prefix(1);
        // Values up to ',' or the closing ')', skipping over nested
        // parenthesized groups.
        for (bool done = false; !done;) {
          size_t pos = 0;
          int depth = 0;
          while (pos < line.size() && (depth > 0 || (line[pos] != ')' && line[pos] != ','))) {
            if (line[pos] == '(') depth++;
            if (line[pos] == ')') depth--;
            pos++;
          }
          if (pos == line.size()) return parse_error();
          done = line[pos] == ')';
          arg.vals.emplace_back(line.substr(0, pos));
          line = TrimSpace(line.substr(pos + 1));
        }
      }
    }
    out.second.push_back(std::move(arg));
    line = TrimSpace(line);
  }
  return out;
}

ScriptResult RunScript(std::string_view source_name, std::string_view script,
                       const Handler& handler, bool rewrite) {
  ScriptResult result;
  Reader reader(source_name, script, rewrite);
  TestData d;
  std::string directive;
  while (reader.Next(&d, &directive, &result.error)) {
    result.cases++;
    Result<std::string> out = handler(d);
    if (!out.ok()) {
      result.error = Status::InvalidArgument(d.pos + ": " + std::string(out.status().message()));
      return result;
    }
    std::string actual = std::move(out).value();
    if (!actual.ends_with("\n")) actual += "\n";
    if (rewrite) {
      reader.Emit("----");
      if (HasBlankLine(actual)) {
        reader.Emit("----");
        reader.EmitRaw(actual);
        reader.Emit("----");
        reader.Emit("----");
      } else {
        reader.Emit(actual);
      }
    } else if (actual != d.expected) {
      result.mismatches.push_back(Mismatch{d.pos, directive, d.expected, actual});
    }
  }
  if (!result.error.ok()) return result;
  if (rewrite) {
    std::string data = reader.TakeRewritten();
    if (data.size() > 2 && data.ends_with("\n\n")) data.pop_back();
    result.rewritten = std::move(data);
  }
  return result;
}

namespace {

struct Edit {
  char op;  // ' ', '-', '+'
  std::string_view line;
  size_t from_line;  // 0-based line in `from` (for ' ' and '-')
  size_t to_line;    // 0-based line in `to` (for ' ' and '+')
};

// The shortest edit script by longest common subsequence (quadratic; the
// outputs compared here are a few hundred lines at most).
std::vector<Edit> DiffLines(const std::vector<std::string_view>& a,
                            const std::vector<std::string_view>& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::vector<Edit> edits;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      edits.push_back({' ', a[i], i, j});
      i++;
      j++;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      // Deletions first, as diff -u prints a replaced run.
      edits.push_back({'-', a[i], i, j});
      i++;
    } else {
      edits.push_back({'+', b[j], i, j});
      j++;
    }
  }
  return edits;
}

}  // namespace

std::string UnifiedDiff(std::string_view from, std::string_view to, std::string_view from_label,
                        std::string_view to_label) {
  if (from == to) return "";
  constexpr size_t kContext = 3;
  std::vector<std::string_view> a = SplitLines(from), b = SplitLines(to);
  std::vector<Edit> edits = DiffLines(a, b);
  std::string out = "--- " + std::string(from_label) + "\n+++ " + std::string(to_label) + "\n";
  size_t k = 0;
  while (k < edits.size()) {
    // The next change, and the hunk around it: changes closer than twice
    // the context share a hunk.
    while (k < edits.size() && edits[k].op == ' ') k++;
    if (k == edits.size()) break;
    size_t start = k >= kContext ? k - kContext : 0;
    size_t end = k;  // one past the last change of the hunk
    size_t scan = k;
    while (scan < edits.size()) {
      if (edits[scan].op != ' ') {
        end = scan + 1;
        scan++;
        continue;
      }
      size_t run = scan;
      while (run < edits.size() && edits[run].op == ' ') run++;
      if (run == edits.size() || run - scan > 2 * kContext) break;
      scan = run;
    }
    size_t stop = std::min(edits.size(), end + kContext);
    size_t from_start = edits[start].from_line, to_start = edits[start].to_line;
    size_t from_count = 0, to_count = 0;
    for (size_t e = start; e < stop; e++) {
      if (edits[e].op != '+') from_count++;
      if (edits[e].op != '-') to_count++;
    }
    // A range of zero lines names the line before it, as diff -u does.
    out += StringPrintf("@@ -%zu,%zu +%zu,%zu @@\n", from_count ? from_start + 1 : from_start,
                        from_count, to_count ? to_start + 1 : to_start, to_count);
    for (size_t e = start; e < stop; e++) {
      out += edits[e].op;
      out += edits[e].line;
      out += "\n";
    }
    k = stop;
  }
  return out;
}

Result<bool> ParseGoBool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") {
    return false;
  }
  return Status::InvalidArgument("strconv.ParseBool: parsing \"" + std::string(s) +
                                 "\": invalid syntax");
}

}  // namespace raftlog::raft::rafttest
