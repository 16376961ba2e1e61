#pragma once
// The width tables for people are laid out in (core/gc/table.hpp lays them out).
#include <sys/ioctl.h>
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <string_view>

namespace nodeimg {

// $COLUMNS when it is a positive number (an operator's or a test's choice wins), else the
// width of the terminal on stdout (TIOCGWINSZ), else 80: a pipe or a file gets 80 columns.
inline std::size_t terminal_columns() {
  if (const char* env = std::getenv("COLUMNS")) {
    const std::string_view text(env);
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec == std::errc() && end == text.data() + text.size() && n > 0) return n;
  }
  winsize ws{};
  if (::isatty(STDOUT_FILENO) == 1 && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace nodeimg
