#include "core/common/duration.hpp"

#include <cstdint>
#include <limits>

#include <fmt/format.h>

namespace nodeimg {

namespace {
struct Unit {
  std::string_view name;
  std::int64_t ns;
};
constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000},  // µs (U+00B5)
    {"\xCE\xBCs", 1'000},  // μs (U+03BC)
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
    {"d", 86'400'000'000'000},  // only with days (parse_duration_with_days)
};

Result<Duration> parse(std::string_view s, bool days) {
  const std::string original(s);
  auto invalid = [&](std::string_view why) {
    return fail(fmt::format("invalid duration \"{}\": {}", original, why));
  };
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration{0};
  if (s.empty()) return invalid("empty");
  long double total = 0;
  while (!s.empty()) {
    std::size_t i = 0;
    long double value = 0;
    bool digits = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      value = value * 10 + (s[i] - '0');
      ++i;
      digits = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        value += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
        digits = true;
      }
    }
    if (!digits)
      return invalid(i == 0 && !s.empty() && s[0] != '.' && total > 0
                         ? (days ? "unknown unit (use ns, us, ms, s, m, h or d, e.g. 1d12h)" : "unknown unit (use ns, us, ms, s, m or h)")
                         : "expected a number");
    s.remove_prefix(i);
    const Unit* unit = nullptr;
    // Longest match first so "ms" is not read as "m" followed by "s".
    for (const auto& u : kUnits)
      if (s.starts_with(u.name) && (days || u.name != "d") && (!unit || u.name.size() > unit->name.size())) unit = &u;
    if (!unit && !days && s.starts_with('d'))
      return invalid("days are not allowed here: kubelet reads this value and knows only ns, us, ms, s, m and h "
                     "(write 24h for 1d, 720h for 30d)");
    if (!unit) return invalid(days ? "missing or unknown unit (use ns, us, ms, s, m, h or d)"
                                   : "missing or unknown unit (use ns, us, ms, s, m or h)");
    s.remove_prefix(unit->name.size());
    total += value * static_cast<long double>(unit->ns);
    if (total > static_cast<long double>(std::numeric_limits<std::int64_t>::max()))
      return invalid("out of range");
  }
  auto ns = static_cast<std::int64_t>(total);
  return Duration{negative ? -ns : ns};
}

}  // namespace

Result<Duration> parse_duration(std::string_view s) { return parse(s, false); }

Result<Duration> parse_duration_with_days(std::string_view s) { return parse(s, true); }

std::string format_duration(Duration d) {
  std::int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  std::uint64_t u = ns < 0 ? static_cast<std::uint64_t>(-(ns + 1)) + 1 : static_cast<std::uint64_t>(ns);
  if (u < 1'000'000'000ULL) {
    // Sub-second: pick the largest unit that keeps an integer or short fraction.
    auto frac = [](std::uint64_t v, std::uint64_t unit) {
      std::string s = std::to_string(v / unit);
      std::uint64_t rem = v % unit;
      if (rem) {
        std::string f = fmt::format("{:0{}}", rem, std::to_string(unit).size() - 1);
        while (!f.empty() && f.back() == '0') f.pop_back();
        s += "." + f;
      }
      return s;
    };
    if (u < 1'000ULL) return sign + std::to_string(u) + "ns";
    if (u < 1'000'000ULL) return sign + frac(u, 1'000) + "\xC2\xB5s";
    return sign + frac(u, 1'000'000) + "ms";
  }
  std::uint64_t h = u / 3'600'000'000'000ULL;
  u %= 3'600'000'000'000ULL;
  std::uint64_t m = u / 60'000'000'000ULL;
  u %= 60'000'000'000ULL;
  std::string secs = std::to_string(u / 1'000'000'000ULL);
  if (std::uint64_t rem = u % 1'000'000'000ULL) {
    std::string f = fmt::format("{:09}", rem);
    while (!f.empty() && f.back() == '0') f.pop_back();
    secs += "." + f;
  }
  std::string out = sign;
  if (h) out += std::to_string(h) + "h";
  if (h || m) out += std::to_string(m) + "m";
  out += secs + "s";
  return out;
}

}  // namespace nodeimg
