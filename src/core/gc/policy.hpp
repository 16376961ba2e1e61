#pragma once
// The checks of the gc: settings that the command line can override, stated once: the
// configuration parser and apply_overrides both use them, so `gc.maxImages: -1` and
// `--max-images -1` are refused with the same words. Errors carry no key: the caller names
// the file, line and key, or the option.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"
#include "core/gc/model.hpp"

namespace nodeimg::gc {

// minAge, maxUnusedAge, containers/sandboxes minAge: a duration ("1h30m"), not negative.
Result<Seconds> parse_age(std::string_view text);
// maxImages: >= 0, 0 = off.
Result<std::size_t> valid_max_images(long long n);
// concurrency: removals (and pulls) in flight at once, 1 to 64.
Result<int> valid_concurrency(long long n);

// The patterns of one keep file (gc.keepFromFile): one pattern per line, as in gc.keep (a
// glob, or "regex:…"); blank lines and lines whose first non-blank character is '#' are
// skipped; surrounding blanks are trimmed. A bad line is an error naming `source` and the
// line: a protection list is never half read.
Result<std::vector<ReferencePattern>> parse_keep_file(std::string_view text, std::string_view source);

// Command-line overrides of the policy, as given: validated here exactly like the file.
struct PolicyOverrides {
  std::optional<std::string> high{}, low{}, inodes_high{}, min_age{}, max_unused_age{};
  std::optional<long long> max_images{};
  std::optional<int> concurrency{};
  std::vector<std::string> keep{};  // added to gc.keep
};

// Applies the overrides to `policy` (which holds the file's values), then checks that low
// and high are in order; the error names the option ("--max-images: must be >= 0 …").
Result<void> apply_overrides(const PolicyOverrides& overrides, Policy& policy);

}  // namespace nodeimg::gc
