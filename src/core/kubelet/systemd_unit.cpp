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

namespace {

// systemd's unit-name unescaping: "-" is "/", "\\xNN" is the byte NN.
std::string unescape_unit_part(std::string_view s, bool path) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '-' && path) {
      out += '/';
    } else if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x') {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 2, 2)), nullptr, 16));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct UnitNameParts {
  std::string prefix, instance, full_without_suffix;
};
UnitNameParts split_unit_name(std::string_view unit) {
  UnitNameParts p;
  const auto dot = unit.rfind('.');
  p.full_without_suffix = std::string(unit.substr(0, dot));
  const auto at = p.full_without_suffix.find('@');
  p.prefix = p.full_without_suffix.substr(0, at);
  if (at != std::string::npos) p.instance = p.full_without_suffix.substr(at + 1);
  return p;
}

// The value of one specifier letter, or nullopt when nodeimg cannot know it here.
std::optional<std::string> specifier_value(char c, const SpecifierContext& ctx) {
  const auto parts = split_unit_name(ctx.unit);
  const std::string dir = ctx.fragment.substr(0, ctx.fragment.rfind('/'));
  switch (c) {
    case '%': return "%";
    case 'n': return ctx.unit;
    case 'N': return parts.full_without_suffix;
    case 'p': return parts.prefix;
    case 'P': return unescape_unit_part(parts.prefix, false);
    case 'i': return parts.instance;
    case 'I': return unescape_unit_part(parts.instance, false);
    case 'j': return parts.prefix.substr(parts.prefix.rfind('-') == std::string::npos ? 0 : parts.prefix.rfind('-') + 1);
    case 'f': {
      std::string f = unescape_unit_part(parts.instance.empty() ? parts.prefix : parts.instance, true);
      return f.starts_with('/') ? f : "/" + f;
    }
    case 'y': return ctx.fragment;
    case 'Y': return dir;
    case 't': return "/run";
    case 'S': return "/var/lib";
    case 'C': return "/var/cache";
    case 'L': return "/var/log";
    case 'E': return "/etc";
    case 'T': return "/tmp";
    case 'V': return "/var/tmp";
    case 'h': return "/root";
    case 's': return "/bin/sh";
    case 'u': case 'g': return "root";
    case 'U': case 'G': return "0";
    case 'H': case 'l': {
      if (ctx.hostname.empty()) return std::nullopt;
      return c == 'H' ? ctx.hostname : ctx.hostname.substr(0, ctx.hostname.find('.'));
    }
    default: return std::nullopt;
  }
}

}  // namespace

Result<std::string> expand_specifiers(std::string_view value, const SpecifierContext& ctx, const Origin& where) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out += value[i];
      continue;
    }
    if (i + 1 >= value.size()) return fail(fmt::format("{}: a lone % at the end of the value", to_string(where)));
    auto v = specifier_value(value[++i], ctx);
    if (!v)
      return fail(fmt::format("{}: systemd specifier %{} is not known to nodeimg on this node (it expands %n %N %p %P "
                              "%i %I %j %f %y %Y %t %S %C %L %E %T %V %h %s %u %U %g %G %H %l %%)",
                              to_string(where), value[i]));
    out += *v;
  }
  return out;
}

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
          for (auto& p : *parts) out.push_back({.text = std::move(p), .origin = it->second.origin, .variable = name});
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
    // `--flag=${VAR}`: the flag is written in ExecStart, its value in VAR's definition.
    Word word{.text = std::move(text), .origin = exec_start.origin};
    const auto open = w.find("=${");
    if (origin && w.starts_with("--") && open != std::string::npos && w.ends_with('}') &&
        w.find('$', open + 3) == std::string::npos && w.find('=') == open) {
      word.value_variable = variable;
      word.value_origin = *origin;
    } else if (origin && !literal_part) {
      word.origin = *origin;
      word.variable = variable;
    }
    out.push_back(std::move(word));
    continue;
  }
  return out;
}

namespace {

// The byte range of the logical line that starts on `line` (1-based).
struct LineRange {
  std::size_t begin = 0, end = 0;
};
Result<LineRange> logical_line_range(std::string_view text, std::size_t line) {
  const std::size_t begin = line == 0 ? std::string_view::npos : text::line_start(text, line - 1);
  if (begin == std::string_view::npos) return fail(fmt::format("line {} does not exist", line));
  std::size_t end = begin;
  while (true) {
    std::size_t nl = text.find('\n', end);
    if (nl == std::string_view::npos) return LineRange{begin, text.size()};
    std::string_view phys = text::strip_line_ending(text.substr(end, nl + 1 - end));
    end = nl + 1;
    if (!phys.ends_with('\\')) return LineRange{begin, end};
  }
}

bool is_quote(char c) { return c == '"' || c == '\''; }

// The bytes of a value token that starts at `p`, as a replacement target: the text inside
// quotes when it is quoted, else a plain run. Refuses anything nodeimg could rewrite
// wrongly: escapes, variables, specifiers, or text glued to the token.
struct ValueSpan {
  std::size_t begin = 0, end = 0;  // the bytes replaced by the new value
};
Result<ValueSpan> value_span(std::string_view text, std::size_t p, std::size_t end, std::string_view what) {
  auto refuse = [&](std::size_t stop) {
    std::size_t e = stop;
    while (e < end && !is_ws(text[e])) ++e;
    return fail(fmt::format("the value of {} is written as `{}`; nodeimg does not rewrite escaped, variable or "
                            "glued values: edit it by hand",
                            what, text.substr(p, std::min(e, end) - p)));
  };
  if (p < end && is_quote(text[p])) {
    const char q = text[p];
    std::size_t close = p + 1;
    while (close < end && text[close] != q && text[close] != '\\' && text[close] != '$' && text[close] != '%' &&
           text[close] != '\n')
      ++close;
    if (close >= end || text[close] != q) return refuse(close);
    return ValueSpan{p + 1, close};
  }
  std::size_t e = p;
  while (e < end && !is_ws(text[e]) && !is_quote(text[e]) && text[e] != '\\') {
    if (text[e] == '$' || text[e] == '%') return refuse(e);
    ++e;
  }
  // After the token: a blank, the end, a continuation, or the quote that closes an outer
  // quoted string (followed by a blank or the end).
  const bool clean = e >= end || is_ws(text[e]) ||
                     (text[e] == '\\' && e + 1 < end && (text[e + 1] == '\n' || text[e + 1] == '\r')) ||
                     (is_quote(text[e]) && (e + 1 >= end || is_ws(text[e + 1])));
  if (!clean) return refuse(e);
  return ValueSpan{p, e};
}

}  // namespace

Result<std::string> replace_flag_value(std::string_view text, std::size_t line, std::string_view flag,
                                       std::string_view value, bool is_boolean) {
  const std::string needle = "--" + std::string(flag);
  auto range = logical_line_range(text, line);
  if (!range) return std::unexpected(range.error());
  const auto [begin, end] = *range;
  auto is_boundary_before = [&](std::size_t p) {
    return p == 0 || is_ws(text[p - 1]) || is_quote(text[p - 1]) || text[p - 1] == '=';
  };
  std::string out(text.substr(0, begin));
  std::size_t pos = begin;
  int replaced = 0;
  while (true) {
    std::size_t at = text.find(needle, pos);
    if (at == std::string_view::npos || at >= end) break;
    std::size_t after = at + needle.size();
    const bool bounded = is_boundary_before(at) && (after >= end || text[after] == '=' || is_ws(text[after]) ||
                                                    is_quote(text[after]) || text[after] == '\\');
    out.append(text.substr(pos, after - pos));
    pos = after;
    if (!bounded) continue;
    std::size_t vb = after;
    if (after < end && text[after] == '=') {
      vb = after + 1;
    } else if (is_boolean) {
      out += "=" + std::string(value);  // bare `--flag` means true
      ++replaced;
      continue;
    } else {
      while (vb < end && (text[vb] == ' ' || text[vb] == '\t')) ++vb;
      if (vb >= end || text[vb] == '\\')
        return fail(fmt::format("line {}: the value of {} is not on the same line; edit it by hand", line, needle));
    }
    auto span = value_span(text, vb, end, needle);
    if (!span) return fail(fmt::format("line {}: {}", line, span.error().message));
    out.append(text.substr(after, span->begin - after));
    out += value;
    pos = span->end;
    ++replaced;
  }
  if (!replaced) return fail(fmt::format("line {}: {} not found", line, needle));
  out.append(text.substr(pos));
  return out;
}

Result<std::string> replace_assignment_value(std::string_view text, std::size_t line, std::string_view name,
                                             std::string_view value) {
  auto range = logical_line_range(text, line);
  if (!range) return std::unexpected(range.error());
  const auto [begin, end] = *range;
  const std::string needle = std::string(name) + "=";
  std::size_t pos = begin;
  std::optional<std::size_t> found;
  while (true) {
    std::size_t at = text.find(needle, pos);
    if (at == std::string_view::npos || at >= end) break;
    const bool bounded = at == begin || is_ws(text[at - 1]) || is_quote(text[at - 1]) || text[at - 1] == '=';
    if (bounded) found = at;  // the last assignment on the line is the one systemd keeps
    pos = at + needle.size();
  }
  if (!found) return fail(fmt::format("line {}: {} not found", line, needle));
  auto span = value_span(text, *found + needle.size(), end, "$" + std::string(name));
  if (!span) return fail(fmt::format("line {}: {}", line, span.error().message));
  std::string out(text.substr(0, span->begin));
  out += value;
  out.append(text.substr(span->end));
  return out;
}

}  // namespace nodeimg::systemd
