#include "core/kubelet/yaml11.hpp"

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>

namespace nodeimg::kubelet {

namespace {

using Json = nlohmann::json;

bool one_of(std::string_view s, std::initializer_list<std::string_view> set) {
  for (auto v : set)
    if (s == v) return true;
  return false;
}

// go-yaml's table of spelled values (its resolveMap).
std::optional<Json> spelled_value(std::string_view s) {
  if (one_of(s, {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})) return Json(true);
  if (one_of(s, {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})) return Json(false);
  if (one_of(s, {"", "~", "null", "Null", "NULL"})) return Json(nullptr);
  // .inf/.nan cannot be written as JSON: sigs.k8s.io/yaml fails, so does kubelet. A string
  // keeps nodeimg from claiming a number.
  return std::nullopt;
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

struct ParsedInt {
  bool negative = false;
  std::uint64_t magnitude = 0;
};

// Go's strconv.ParseUint/ParseInt with base 0 (0x, 0o, 0b, leading 0 = octal), sign
// handled by the caller. nullopt on any invalid digit or overflow of 64 bits.
std::optional<std::uint64_t> parse_go_unsigned(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) base = 16, s.remove_prefix(2);
  else if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) base = 8, s.remove_prefix(2);
  else if (s.size() > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) base = 2, s.remove_prefix(2);
  else if (s.size() > 1 && s[0] == '0') base = 8, s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    const int d = digit_value(c);
    if (d >= base) return std::nullopt;
    if (v > (std::numeric_limits<std::uint64_t>::max() - static_cast<std::uint64_t>(d)) / static_cast<std::uint64_t>(base))
      return std::nullopt;
    v = v * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
  }
  return v;
}

std::optional<Json> parse_go_integer(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) negative = s[0] == '-', s.remove_prefix(1);
  auto mag = parse_go_unsigned(s);
  if (!mag) return std::nullopt;
  constexpr auto kMaxInt = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (*mag > kMaxInt + 1) return std::nullopt;
    return Json(*mag == kMaxInt + 1 ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(*mag));
  }
  if (*mag > kMaxInt) return Json(*mag);  // ParseUint's fallback
  return Json(static_cast<std::int64_t>(*mag));
}

// go-yaml's yamlStyleFloat: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool yaml_style_float(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t b = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - b;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

std::optional<Json> parse_float(std::string_view s) {
  if (!yaml_style_float(s)) return std::nullopt;
  std::string copy(s.starts_with('+') ? s.substr(1) : s);
  double v = 0;
  auto [p, ec] = std::from_chars(copy.data(), copy.data() + copy.size(), v);
  if (ec != std::errc() || p != copy.data() + copy.size()) return std::nullopt;
  return Json(v);
}

// go-yaml tries a timestamp first for anything that starts with four digits and '-'.
bool looks_like_timestamp(std::string_view s) {
  if (s.size() < 5) return false;
  for (std::size_t i = 0; i < 4; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return s[4] == '-';
}

}  // namespace

std::optional<long long> parse_go_int(std::string_view text) {
  std::string_view s = text;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  // Go's underscoreOK: '_' only between digits, or right after a base prefix (0x_1).
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '_') continue;
    const bool after_ok = i > 0 && s[i - 1] != '_' && (digit_value(s[i - 1]) < 16 || i == 2);
    const bool next_ok = i + 1 < s.size() && digit_value(s[i + 1]) < 16;
    if (!after_ok || !next_ok) return std::nullopt;
  }
  std::string plain;
  for (char c : text)
    if (c != '_') plain += c;
  auto v = parse_go_integer(plain);
  if (!v || !v->is_number_integer() || v->is_number_unsigned()) return std::nullopt;
  return v->get<long long>();
}

Json resolve_plain_scalar(std::string_view s) {
  if (auto v = spelled_value(s)) return *v;
  const char hint = s.front();
  if (hint == '.') {
    if (auto f = parse_float(s)) return *f;
    return Json(std::string(s));
  }
  const bool numeric_hint = hint == '+' || hint == '-' || (hint >= '0' && hint <= '9');
  if (!numeric_hint || looks_like_timestamp(s)) return Json(std::string(s));
  std::string plain;  // go-yaml drops every underscore before parsing a number
  for (char c : s)
    if (c != '_') plain += c;
  if (auto i = parse_go_integer(plain)) return *i;
  if (auto f = parse_float(plain)) return *f;
  std::string_view p = plain;
  const bool neg_bin = p.starts_with("-0b");
  if (p.starts_with("0b") || neg_bin) {
    auto bits = p.substr(neg_bin ? 3 : 2);
    std::uint64_t v = 0;
    bool ok = !bits.empty();
    for (char c : bits) {
      if (c != '0' && c != '1') ok = false;
      v = v * 2 + static_cast<std::uint64_t>(c == '1');
    }
    if (ok && v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return Json(neg_bin ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v));
  }
  return Json(std::string(s));
}

}  // namespace nodeimg::kubelet
