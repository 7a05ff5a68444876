// The per-Pod MPS limits a client sets through its environment, checked and normalised the way
// the MPS server reads them: CUDA_MPS_ACTIVE_THREAD_PERCENTAGE and CUDA_MPS_PINNED_DEVICE_MEM_LIMIT.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace kmps::pod {

inline constexpr const char* kThreadPercentageEnv = "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE";
inline constexpr const char* kPinnedMemLimitEnv = "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT";

// "50" -> "50": an integer from 1 to 100, digits only (no sign, no fraction, no blanks).
// kInvalidArgument naming `flag` otherwise.
StatusOr<std::string> ParseThreadPercentage(std::string_view text, std::string_view flag = "--threads");

// "SIZE[,DEV=SIZE...]" -> NVIDIA's "DEV=SIZE,..." ("1g" -> "0=1G"; a bare SIZE means device 0).
// DEV: a non-negative integer (leading zeros dropped); SIZE: a positive integer with an optional
// K, M or G suffix (either case; written uppercase), that fits in 64 bits as bytes. Empty parts,
// signs, blanks, a device named twice are kInvalidArgument naming `flag` and the part.
StatusOr<std::string> ParsePinnedMemLimit(std::string_view text, std::string_view flag = "--pinned-mem");

}  // namespace kmps::pod
