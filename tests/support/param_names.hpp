#pragma once
// Readable names for parameterised tests: a test name (letters, digits, '_') made from any
// text, so that `--gtest_filter` and failures say which case, not "/3" or raw bytes.
#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>

namespace nodeimg::testing {

// "75%" -> "75_", "docker.io/busybox" -> "docker_io_busybox"; with `index` appended so that
// two texts that differ only in punctuation still get different names.
inline std::string param_name(std::string_view text, std::size_t index) {
  std::string out;
  for (char c : text.substr(0, 48)) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return (out.empty() ? std::string("empty") : out) + "_" + std::to_string(index);
}

}  // namespace nodeimg::testing
