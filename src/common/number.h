// Numbers read from outside text (flags, kindmps.yaml, environment variables, the state file):
// one strict grammar everywhere. Digits only: no sign (not even "+" or "-0"), no blanks, no
// exponent, no "nan" or "inf", no hex; and a bound, so that nothing overflows downstream.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kmps {

// A whole number 0..max written in decimal digits, e.g. "0", "42", "007". nullopt otherwise.
std::optional<uint64_t> ParseCount(std::string_view text, uint64_t max);

// A decimal number 0..max: digits with an optional fraction ("50", "12.5", ".5", "5."), at most
// 30 characters. nullopt otherwise (signs, exponents, NaN, infinities, "").
std::optional<double> ParseDecimal(std::string_view text, double max);

// A duration in seconds for a deadline: ParseDecimal, more than zero, at most max.
std::optional<double> ParseSeconds(std::string_view text, double max);

}  // namespace kmps
