#include "core/gc/threshold.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace nodeimg::gc {

namespace {

// The whole of `s` as a number, or nothing.
std::optional<double> whole_number(const std::string& s) {
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Result<Threshold> parse_percent(const std::string& s) {
  const auto percent = whole_number(s.substr(0, s.size() - 1));
  if (!percent) return fail(fmt::format("\"{}\" is not a percentage", s));
  if (*percent <= 0 || *percent > 100) return fail(fmt::format("{} is not between 0% and 100%", s));
  return Threshold{.kind = Threshold::Kind::UsedPercent, .percent = *percent, .text = s};
}

Result<Threshold> parse_free_size(const std::string& s, const std::string& size) {
  std::size_t i = 0;
  while (i < size.size() && (std::isdigit(static_cast<unsigned char>(size[i])) || size[i] == '.')) ++i;
  if (i == 0) return fail(fmt::format("\"{}\": expected a size such as 20GiB", s));
  const auto number = whole_number(size.substr(0, i));
  if (!number) return fail(fmt::format("\"{}\": \"{}\" is not a number", s, size.substr(0, i)));
  const std::string unit = size.substr(i);
  static const std::map<std::string, double> units = {
      {"", 1}, {"B", 1}, {"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
      {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}};
  const auto it = units.find(unit);
  if (it == units.end()) return fail(fmt::format("\"{}\": unknown size unit \"{}\"", s, unit));
  return Threshold{.kind = Threshold::Kind::FreeBytes, .bytes = static_cast<std::uint64_t>(*number * it->second), .text = s};
}

// Bytes available at which a threshold stops being reached, on a filesystem of `capacity`.
//   UsedPercent p: reached when used >= capacity * p / 100, so it stops at
//                  available >= capacity - ceil(capacity * p / 100) + 1.
//   FreeBytes b:   reached when available <= b, so it stops at available >= b + 1.
std::uint64_t available_leaving(const Threshold& t, std::uint64_t capacity) {
  if (t.kind == Threshold::Kind::FreeBytes) return t.bytes == UINT64_MAX ? t.bytes : t.bytes + 1;
  const auto used_at = static_cast<std::uint64_t>(std::ceil(static_cast<double>(capacity) * t.percent / 100.0));
  return used_at >= capacity ? 1 : capacity - used_at + 1;
}

// Bytes available once a low threshold is met: UsedPercent p means used <= capacity * p / 100;
// FreeBytes b means available >= b.
std::uint64_t available_at_low(const Threshold& t, std::uint64_t capacity) {
  if (t.kind == Threshold::Kind::FreeBytes) return t.bytes;
  const auto used_at = static_cast<std::uint64_t>(std::floor(static_cast<double>(capacity) * t.percent / 100.0));
  return used_at >= capacity ? 0 : capacity - used_at;
}

}  // namespace

Result<Threshold> parse_threshold(std::string_view text) {
  const std::string s(text);
  if (s.ends_with('%')) return parse_percent(s);
  const std::string suffix = " free";
  if (!s.ends_with(suffix)) return fail(fmt::format("\"{}\" is neither a percentage (75%) nor a free size (20GiB free)", s));
  return parse_free_size(s, s.substr(0, s.size() - suffix.size()));
}

Result<double> parse_inode_threshold(std::string_view text) {
  auto t = parse_threshold(text);
  if (!t || t->kind != Threshold::Kind::UsedPercent) return fail("must be a percentage such as 90%");
  return t->percent;
}

Result<void> check_threshold_order(const Threshold& high, const Threshold& low) {
  if (high.kind != low.kind) return {};
  const bool ordered = high.kind == Threshold::Kind::UsedPercent ? low.percent < high.percent : low.bytes > high.bytes;
  if (!ordered) return fail(fmt::format("low ({}) must free more than high ({}) starts at", low.text, high.text));
  return {};
}

bool threshold_reached(const Threshold& t, const FilesystemUsage& u) {
  if (u.size_bytes == 0) return false;
  if (t.kind == Threshold::Kind::UsedPercent) return u.used_percent() >= t.percent;
  return std::min(u.available_bytes, u.size_bytes) <= t.bytes;
}

bool inode_pressure(const FilesystemUsage& u, double inodes_high) {
  return u.inodes > 0 && u.inodes_used_percent() >= inodes_high;
}

std::uint64_t bytes_to_reach_low(const Threshold& high, const Threshold& low, const FilesystemUsage& u) {
  if (!threshold_reached(high, u)) return 0;
  const std::uint64_t capacity = u.size_bytes;
  const std::uint64_t available = std::min(u.available_bytes, capacity);
  const std::uint64_t target = std::min(capacity, std::max(available_at_low(low, capacity), available_leaving(high, capacity)));
  return target > available ? target - available : 0;
}

bool pressure_relieved(const FilesystemUsage& usage, const Policy& policy, bool blocks_pressure, bool inodes_pressure) {
  if (usage.size_bytes == 0) return true;
  if (blocks_pressure) {
    const bool below = policy.low.kind == Threshold::Kind::UsedPercent ? usage.used_percent() <= policy.low.percent
                                                                        : usage.available_bytes >= policy.low.bytes;
    if (!below) return false;
  }
  return !(inodes_pressure && inode_pressure(usage, policy.inodes_high));
}

}  // namespace nodeimg::gc
