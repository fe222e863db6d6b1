// The one way the tool reads numbers from its command line. Every numeric
// option of every subcommand goes through these validators, so that a
// negative, malformed, overflowing or half-numeric value ("-5", "12x",
// "0x10", " 7", 2^64) is a usage error (exit code 2) whose message names the
// option and the value, instead of a value wrapped around or cut short by a
// lenient conversion (strtoull takes "-5" as 2^64-5).

#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace raftlog::tools {

// A whole number written with decimal digits only (no sign, no spaces, no
// base prefix, no exponent) that fits in 64 bits; nullopt otherwise.
std::optional<uint64_t> ParseWholeNumber(std::string_view text);

// A decimal number: digits with an optional fractional part ("10", "0.5",
// ".5"); nullopt for anything else (signs, exponents, nan, inf, trailing
// characters).
std::optional<double> ParseDecimal(std::string_view text);

// Why `text` is not a whole number in [min, max], or "" if it is. The
// message quotes the value; CLI11 puts the option's name before it.
std::string WholeNumberError(std::string_view text, uint64_t min, uint64_t max);
std::string DecimalError(std::string_view text, double min, double max);

// Validators for CLI::Option::transform() (WholeNumber) and check()
// (Decimal); they run on each value (each element
// of a comma-separated list) before CLI11 converts it. WholeNumber passes
// the value on without leading zeros, which CLI11 would take for octal.
CLI::Validator WholeNumber(uint64_t min = 0, uint64_t max = UINT64_MAX);
CLI::Validator Decimal(double min, double max);

}  // namespace raftlog::tools
