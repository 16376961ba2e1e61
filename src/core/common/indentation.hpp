#pragma once
// YAML forbids tabs in indentation (kubelet's decoder refuses them too), and yaml-cpp's
// own words for the mistake ("illegal map value", "end of map not found") do not say so.
#include <cstddef>
#include <optional>
#include <string_view>

namespace nodeimg {

struct TextPosition {
  std::size_t line = 0;    // 1-based
  std::size_t column = 0;  // 1-based, in bytes
};

// The first tab in the leading whitespace of a line that is not blank (yaml-cpp refuses one
// even before a comment).
std::optional<TextPosition> tab_in_indentation(std::string_view text);

}  // namespace nodeimg
