#include "core/common/indentation.hpp"

namespace nodeimg {

std::optional<TextPosition> tab_in_indentation(std::string_view text) {
  std::size_t line = 1;
  for (std::size_t at = 0; at < text.size(); ++line) {
    const std::size_t newline = text.find('\n', at);
    const std::size_t end = newline == std::string_view::npos ? text.size() : newline;
    const std::string_view l = text.substr(at, end - at);
    const std::size_t first = l.find_first_not_of(" \t");
    const std::size_t tab = l.find('\t');
    if (tab != std::string_view::npos && first != std::string_view::npos && tab < first)
      return TextPosition{.line = line, .column = tab + 1};
    at = end + 1;
  }
  return std::nullopt;
}

}  // namespace nodeimg
