#include "core/kubelet/systemd_unit.hpp"

#include <cctype>

#include <fmt/format.h>

#include "core/common/text.hpp"

namespace nodeimg::systemd {

std::string to_string(const Origin& o) {
  return o.line ? fmt::format("{}:{}", o.file, o.line) : o.file;
}

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Logical lines: a line ending in a backslash continues on the next one.
struct LogicalLine {
  std::string text;
  std::size_t first_line;
};
std::vector<LogicalLine> logical_lines(std::string_view text) {
  std::vector<LogicalLine> out;
  std::size_t n = 0;
  std::optional<LogicalLine> pending;
  for (auto raw : text::lines_with_endings(text)) {
    ++n;
    std::string_view line = text::strip_line_ending(raw);
    std::string_view t = text::trim(line);
    if (pending && (t.starts_with('#') || t.starts_with(';'))) continue;  // comments inside continuations
    if (!pending) pending = LogicalLine{"", n};
    if (line.ends_with('\\')) {
      pending->text += std::string(line.substr(0, line.size() - 1)) + " ";
      continue;
    }
    pending->text += line;
    out.push_back(std::move(*pending));
    pending.reset();
  }
  if (pending) out.push_back(std::move(*pending));
  return out;
}

// Splits with systemd's rules: whitespace separates, "..." and '...' group, C escapes.
Result<std::vector<std::string>> split_words(std::string_view s, const std::string& where) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (true) {
    while (i < s.size() && is_ws(s[i])) ++i;
    if (i >= s.size()) break;
    std::string w;
    while (i < s.size() && !is_ws(s[i])) {
      char c = s[i];
      if (c == '"' || c == '\'') {
        const char q = c;
        ++i;
        while (i < s.size() && s[i] != q) {
          if (s[i] == '\\' && i + 1 < s.size()) {
            ++i;
            switch (s[i]) {
              case 'n': w += '\n'; break;
              case 't': w += '\t'; break;
              default: w += s[i];
            }
          } else {
            w += s[i];
          }
          ++i;
        }
        if (i >= s.size()) return fail(fmt::format("{}: unterminated quote", where));
        ++i;
      } else if (c == '\\' && i + 1 < s.size()) {
        w += s[i + 1];
        i += 2;
      } else {
        w += c;
        ++i;
      }
    }
    words.push_back(std::move(w));
  }
  return words;
}

}  // namespace

Result<std::vector<Directive>> parse_unit_file(const std::string& path, std::string_view text) {
  std::vector<Directive> out;
  std::string section;
  for (const auto& ll : logical_lines(text)) {
    std::string_view t = text::trim(ll.text);
    if (t.empty() || t.starts_with('#') || t.starts_with(';')) continue;
    if (t.starts_with('[')) {
      if (!t.ends_with(']')) return fail(fmt::format("{}:{}: malformed section header", path, ll.first_line));
      section = std::string(t.substr(1, t.size() - 2));
      continue;
    }
    auto eq = t.find('=');
    if (eq == std::string_view::npos)
      return fail(fmt::format("{}:{}: expected Key=Value", path, ll.first_line));
    out.push_back({section, std::string(text::trim(t.substr(0, eq))), std::string(text::trim(t.substr(eq + 1))),
                   {path, ll.first_line}});
  }
  return out;
}

Result<std::vector<Assignment>> parse_environment_directive(const Directive& d) {
  auto words = split_words(d.value, to_string(d.origin));
  if (!words) return std::unexpected(words.error());
  std::vector<Assignment> out;
  for (auto& w : *words) {
    auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0) continue;  // systemd ignores invalid assignments
    out.push_back({w.substr(0, eq), w.substr(eq + 1), d.origin});
  }
  return out;
}

Result<std::vector<Assignment>> parse_environment_file(const std::string& path, std::string_view text) {
  std::vector<Assignment> out;
  for (const auto& ll : logical_lines(text)) {
    std::string_view t = text::trim(ll.text);
    if (t.empty() || t.starts_with('#') || t.starts_with(';')) continue;
    auto eq = t.find('=');
    if (eq == std::string_view::npos) continue;  // systemd ignores such lines too
    std::string name(text::trim(t.substr(0, eq)));
    std::string_view raw = text::trim(t.substr(eq + 1));
    std::string value;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      char c = raw[i];
      if (c == '"' || c == '\'') {
        const char q = c;
        ++i;
        while (i < raw.size() && raw[i] != q) {
          if (q == '"' && raw[i] == '\\' && i + 1 < raw.size()) ++i;
          value += raw[i++];
        }
      } else if (c == '\\' && i + 1 < raw.size()) {
        value += raw[++i];
      } else {
        value += c;
      }
    }
    out.push_back({std::move(name), std::move(value), {path, ll.first_line}});
  }
  return out;
}

Result<std::vector<Word>> expand_command_line(const Directive& exec_start, const Environment& env) {
  std::string_view v = exec_start.value;
  while (!v.empty() && (v[0] == '-' || v[0] == '@' || v[0] == ':' || v[0] == '+' || v[0] == '!')) v.remove_prefix(1);
  auto words = split_words(v, to_string(exec_start.origin));
  if (!words) return std::unexpected(words.error());
  std::vector<Word> out;
  for (const auto& w : *words) {
    // `$VAR` alone: split into words.
    if (w.size() > 1 && w[0] == '$' && w[1] != '{') {
      const std::string name = w.substr(1);
      bool simple = true;
      for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) simple = false;
      if (simple) {
        if (auto it = env.find(name); it != env.end()) {
          auto parts = split_words(it->second.value, to_string(it->second.origin));
          if (!parts) {
            // systemd splits at whitespace only; an odd quote is kept as text.
            parts = std::vector<std::string>{};
            std::size_t i = 0;
            const std::string& s = it->second.value;
            while (i < s.size()) {
              while (i < s.size() && is_ws(s[i])) ++i;
              std::size_t b = i;
              while (i < s.size() && !is_ws(s[i])) ++i;
              if (i > b) parts->push_back(s.substr(b, i - b));
            }
          }
          for (auto& p : *parts) out.push_back({std::move(p), it->second.origin, name});
        }
        continue;
      }
    }
    // `${VAR}` inside a word: substituted in place.
    std::string text;
    std::optional<Origin> origin;
    std::string variable;
    bool literal_part = false;
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (w[i] == '$' && i + 1 < w.size() && w[i + 1] == '{') {
        auto close = w.find('}', i + 2);
        if (close != std::string::npos) {
          const std::string name = w.substr(i + 2, close - i - 2);
          if (auto it = env.find(name); it != env.end()) {
            text += it->second.value;
            origin = it->second.origin;
            variable = name;
          }
          i = close;
          continue;
        }
      }
      text += w[i];
      literal_part = true;
    }
    // A word mixing literal text and a variable is attributed to the variable's definition
    // when the literal part is only a flag name (`--config=${CONFIG}`), else to ExecStart.
    if (origin && literal_part && !(text::starts_with(w, "--") && w.find("=${") != std::string::npos))
      origin.reset(), variable.clear();
    out.push_back({std::move(text), origin.value_or(exec_start.origin), variable});
  }
  return out;
}

Result<std::string> replace_flag_value(std::string_view text, std::size_t line, std::string_view flag,
                                       std::string_view value, bool is_boolean) {
  const std::string needle = "--" + std::string(flag);
  std::size_t begin = text::line_start(text, line - 1);
  if (begin == std::string_view::npos) return fail(fmt::format("line {} does not exist", line));
  // The logical line: continues while a physical line ends with a backslash.
  std::size_t end = begin;
  while (true) {
    std::size_t nl = text.find('\n', end);
    if (nl == std::string_view::npos) {
      end = text.size();
      break;
    }
    std::string_view phys = text::strip_line_ending(text.substr(end, nl + 1 - end));
    end = nl + 1;
    if (!phys.ends_with('\\')) break;
  }
  auto is_boundary_before = [&](std::size_t p) {
    return p == 0 || is_ws(text[p - 1]) || text[p - 1] == '"' || text[p - 1] == '\'' || text[p - 1] == '=';
  };
  auto word_end = [&](std::size_t p) {
    while (p < end && !is_ws(text[p]) && text[p] != '"' && text[p] != '\'' && text[p] != '\\') ++p;
    return p;
  };
  std::string out(text.substr(0, begin));
  std::size_t pos = begin;
  int replaced = 0;
  while (true) {
    std::size_t at = text.find(needle, pos);
    if (at == std::string_view::npos || at >= end) break;
    std::size_t after = at + needle.size();
    const bool bounded = is_boundary_before(at) &&
                         (after >= end || text[after] == '=' || is_ws(text[after]) || text[after] == '"' ||
                          text[after] == '\'' || text[after] == '\\');
    if (!bounded) {
      out.append(text.substr(pos, after - pos));
      pos = after;
      continue;
    }
    out.append(text.substr(pos, after - pos));
    if (after < end && text[after] == '=') {
      std::size_t vend = word_end(after + 1);
      out += "=" + std::string(value);
      pos = vend;
    } else if (is_boolean) {
      out += "=" + std::string(value);  // bare `--flag` means true
      pos = after;
    } else {
      std::size_t vb = after;
      while (vb < end && (text[vb] == ' ' || text[vb] == '\t')) ++vb;
      if (vb >= end || text[vb] == '\\' || text[vb] == '"' || text[vb] == '\'')
        return fail(fmt::format("line {}: the value of {} is not on the same line; edit it by hand", line, needle));
      std::size_t vend = word_end(vb);
      out.append(text.substr(after, vb - after));
      out += value;
      pos = vend;
    }
    ++replaced;
  }
  if (!replaced) return fail(fmt::format("line {}: {} not found", line, needle));
  out.append(text.substr(pos));
  return out;
}

}  // namespace nodeimg::systemd
