#include "tools/text.h"

#include <algorithm>
#include <cstdio>

namespace raftlog::tools {

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), v < 10 ? "%.2f %s" : "%.1f %s", v, kUnits[unit]);
  return buf;
}

std::string Preview(std::string_view data, size_t max_bytes) {
  std::string out;
  const size_t n = std::min(data.size(), max_bytes);
  out.reserve(n + 8);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out.push_back(static_cast<char>(c));
        } else {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        }
    }
  }
  if (data.size() > n) out += "...";
  return out;
}

std::string HexDump(std::string_view data, size_t max_bytes, std::string_view indent) {
  std::string out;
  const size_t n = std::min(data.size(), max_bytes);
  for (size_t line = 0; line < n; line += 16) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "%08zx ", line);
    out += indent;
    out += buf;
    std::string ascii;
    for (size_t k = 0; k < 16; ++k) {
      if (k == 8) out += ' ';
      if (line + k < n) {
        const auto c = static_cast<unsigned char>(data[line + k]);
        std::snprintf(buf, sizeof(buf), " %02x", c);
        out += buf;
        ascii.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '.');
      } else {
        out += "   ";
      }
    }
    out += "  |" + ascii + "|\n";
  }
  if (data.size() > n) {
    out += indent;
    out += "... " + std::to_string(data.size() - n) + " more bytes\n";
  }
  return out;
}

std::string Base64(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(data[k])); };
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (data.size() - i == 1) {
    const uint32_t v = byte(i) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out += "==";
  } else if (data.size() - i == 2) {
    const uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::string Fixed(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, value);
  return buf;
}

}  // namespace raftlog::tools
