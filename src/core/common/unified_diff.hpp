#pragma once
// Unified diffs ("diff -u" format) of two texts, for --dry-run and apply reports.
#include <string>
#include <string_view>

namespace nodeimg {

// A unified diff from `before` to `after` with `context` lines around each change,
// labelled "--- a<path>" / "+++ b<path>". Empty when the texts are equal. A missing
// final newline is shown as "\ No newline at end of file", as diff(1) does. Pass
// `before_exists = false` for a file that is being created (label /dev/null), and
// `after_exists = false` for one being removed ("+++ /dev/null").
std::string unified_diff(std::string_view path, std::string_view before, std::string_view after,
                         bool before_exists = true, int context = 3, bool after_exists = true);

}  // namespace nodeimg
