#pragma once
// Small text helpers shared by the parsers and the patchers. All work on bytes: files
// keep their encoding and line endings.
#include <string>
#include <string_view>
#include <vector>

namespace nodeimg::text {

// "\r\n" when the first line of `s` ends with CRLF, else "\n".
std::string_view line_ending(std::string_view s);

// The lines of `s`, each with its own ending (the last may have none).
std::vector<std::string_view> lines_with_endings(std::string_view s);

// The line without its "\n" or "\r\n".
std::string_view strip_line_ending(std::string_view line);

std::string_view trim(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);

// Offset of the first byte of line `index` (0-based); npos past the end.
std::size_t line_start(std::string_view s, std::size_t index);

// 0-based line number that holds byte `offset`.
std::size_t line_of(std::string_view s, std::size_t offset);

// Shell-safe quoting for messages and generated commands.
std::string quote(std::string_view s);

}  // namespace nodeimg::text
