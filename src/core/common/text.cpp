#include "core/common/text.hpp"

namespace nodeimg::text {

std::string_view line_ending(std::string_view s) {
  auto nl = s.find('\n');
  if (nl != std::string_view::npos && nl > 0 && s[nl - 1] == '\r') return "\r\n";
  return "\n";
}

std::vector<std::string_view> lines_with_endings(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    auto nl = s.find('\n', pos);
    if (nl == std::string_view::npos) {
      out.push_back(s.substr(pos));
      break;
    }
    out.push_back(s.substr(pos, nl + 1 - pos));
    pos = nl + 1;
  }
  return out;
}

std::string_view strip_line_ending(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.starts_with(prefix); }
bool ends_with(std::string_view s, std::string_view suffix) { return s.ends_with(suffix); }

std::size_t line_start(std::string_view s, std::size_t index) {
  std::size_t pos = 0;
  for (std::size_t i = 0; i < index; ++i) {
    pos = s.find('\n', pos);
    if (pos == std::string_view::npos) return std::string_view::npos;
    ++pos;
  }
  return pos <= s.size() ? pos : std::string_view::npos;
}

std::size_t line_of(std::string_view s, std::size_t offset) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < offset && i < s.size(); ++i)
    if (s[i] == '\n') ++n;
  return n;
}

std::string quote(std::string_view s) {
  bool plain = !s.empty();
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '/' || c == ':' || c == '=' || c == ',' ||
              c == '+' || c == '@';
    if (!ok) plain = false;
  }
  if (plain) return std::string(s);
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += '\'';
  return out;
}

}  // namespace nodeimg::text
