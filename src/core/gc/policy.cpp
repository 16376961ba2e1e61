#include "core/gc/policy.hpp"

#include <chrono>

#include <fmt/format.h>

#include "core/common/duration.hpp"
#include "core/gc/threshold.hpp"

namespace nodeimg::gc {

Result<Seconds> parse_age(std::string_view text) {
  auto d = parse_duration_with_days(text);
  if (!d) return std::unexpected(d.error());
  if (d->count() < 0) return fail("must not be negative");
  return std::chrono::duration_cast<std::chrono::seconds>(*d).count();
}

Result<std::size_t> valid_max_images(long long n) {
  if (n < 0) return fail("must be >= 0 (0 = off)");
  return static_cast<std::size_t>(n);
}

Result<int> valid_concurrency(long long n) {
  if (n < 1 || n > 64) return fail("must be between 1 and 64");
  return static_cast<int>(n);
}

namespace {

// Sets `slot` from `value` (when given) through `check`; the error is prefixed with `option`.
template <class T, class In, class Check>
Result<void> override_with(std::string_view option, const std::optional<In>& value, Check check, T& slot) {
  if (!value) return {};
  auto v = check(*value);
  if (!v) return fail(fmt::format("{}: {}", option, v.error().message));
  slot = std::move(*v);
  return {};
}

}  // namespace

Result<std::vector<ReferencePattern>> parse_keep_file(std::string_view text, std::string_view source) {
  std::vector<ReferencePattern> out;
  std::size_t number = 0;
  for (std::size_t start = 0; start <= text.size();) {
    const auto nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++number;
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    auto pattern = ReferencePattern::parse(std::string(line));
    if (!pattern) return fail(fmt::format("{}:{}: {}", source, number, pattern.error().message));
    out.push_back(std::move(*pattern));
  }
  return out;
}

Result<void> apply_overrides(const PolicyOverrides& o, Policy& policy) {
  const auto threshold = [](const std::string& t) { return parse_threshold(t); };
  const auto inode_percent = [](const std::string& t) { return parse_inode_threshold(t); };
  const auto age = [](const std::string& t) { return parse_age(t); };
  for (auto ok : {override_with("--high", o.high, threshold, policy.high),
                  override_with("--low", o.low, threshold, policy.low),
                  override_with("--inodes-high", o.inodes_high, inode_percent, policy.inodes_high),
                  override_with("--min-age", o.min_age, age, policy.min_age),
                  override_with("--max-unused-age", o.max_unused_age, age, policy.max_unused_age),
                  override_with("--max-images", o.max_images, valid_max_images, policy.max_images),
                  override_with("--concurrency", o.concurrency, valid_concurrency, policy.concurrency)})
    if (!ok) return ok;
  for (const auto& k : o.keep) {
    auto p = ReferencePattern::parse(k);
    if (!p) return fail("--keep: " + p.error().message);
    policy.keep.push_back(std::move(*p));
  }
  if (auto ordered = check_threshold_order(policy.high, policy.low); !ordered)
    return fail("--high/--low: " + ordered.error().message);
  return {};
}

}  // namespace nodeimg::gc
