#include "tools/numbers.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "tools/text.h"

namespace raftlog::tools {

namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string Quoted(std::string_view text) { return "'" + Preview(text, 64) + "'"; }

}  // namespace

std::optional<uint64_t> ParseWholeNumber(std::string_view text) {
  if (!AllDigits(text)) return std::nullopt;
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> ParseDecimal(std::string_view text) {
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (!(whole.empty() || AllDigits(whole)) || (dot != std::string_view::npos && !AllDigits(frac)) ||
      (whole.empty() && frac.empty())) {
    return std::nullopt;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::string WholeNumberError(std::string_view text, uint64_t min, uint64_t max) {
  const std::string range = std::to_string(min) + " to " + std::to_string(max);
  if (!AllDigits(text)) {
    return Quoted(text) + " is not a whole number (decimal digits only, no sign): expected " +
           range;
  }
  const std::optional<uint64_t> value = ParseWholeNumber(text);
  if (!value.has_value()) return Quoted(text) + " is too large: expected " + range;
  if (*value < min || *value > max) return Quoted(text) + " is out of range: expected " + range;
  return "";
}

std::string DecimalError(std::string_view text, double min, double max) {
  const std::string range = Fixed(min, 2) + " to " + Fixed(max, 2);
  const std::optional<double> value = ParseDecimal(text);
  if (!value.has_value()) {
    return Quoted(text) + " is not a decimal number (digits and one '.', no sign): expected " +
           range;
  }
  if (*value < min || *value > max) return Quoted(text) + " is out of range: expected " + range;
  return "";
}

CLI::Validator WholeNumber(uint64_t min, uint64_t max) {
  return CLI::Validator(
      [min, max](std::string& text) {
        std::string error = WholeNumberError(text, min, max);
        // CLI11 reads a leading 0 as octal ("0010" would be 8): hand it the
        // number without leading zeros.
        if (error.empty()) text = std::to_string(*ParseWholeNumber(text));
        return error;
      },
      max == UINT64_MAX ? (min == 0 ? std::string() : ">= " + std::to_string(min))
                        : "in [" + std::to_string(min) + ", " + std::to_string(max) + "]",
      "WholeNumber");
}

CLI::Validator Decimal(double min, double max) {
  return CLI::Validator([min, max](std::string& text) { return DecimalError(text, min, max); },
                        "in [" + Fixed(min, 2) + ", " + Fixed(max, 2) + "]", "Decimal");
}

}  // namespace raftlog::tools
