#pragma once
// "Did you mean …?": the valid word nearest to a misspelt one.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nodeimg {

// Levenshtein distance (insertions, deletions, substitutions, each 1; an adjacent
// transposition counts 1 too, the commonest typo: "aplpy").
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, when it is near enough to be a plausible typo: at most
// 2 edits, and fewer than half of the longer word's letters (so "x" does not suggest "gc").
// A candidate that starts with `word` (an abbreviation such as "kube") is near too. Ties go to the
// earlier candidate.
std::optional<std::string> nearest_word(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace nodeimg
