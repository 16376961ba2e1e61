#include "core/kubelet/microk8s.hpp"

#include <cctype>

#include <fmt/format.h>

namespace nodeimg::kubelet {

Result<ArgsFile> microk8s_args_file(const FileTree& files) {
  const std::string base(kMicrok8sSnapData);
  const std::string current = base + "/current";
  auto link = files.read_link(current);
  if (!link) return std::unexpected(link.error());
  std::string revision = current;
  std::string reason = "MicroK8s's args file";
  if (*link) {
    revision = normalize_path(**link, base);
    if (!revision.starts_with(base + "/") || revision == base + "/current")
      return fail(fmt::format("{} links to {} ({}), outside {}: nodeimg does not follow it out of the snap's data "
                              "directory; fix the link (snap revert/refresh) or set kubelet.unit",
                              current, **link, revision, base));
    reason += fmt::format(" ({} -> {})", current, **link);
  }
  const std::string path = revision + "/args/kubelet";
  for (const std::string& p : {revision, revision + "/args", path}) {
    if (p == current) continue;
    auto inner = files.read_link(p);
    if (!inner) return std::unexpected(inner.error());
    if (*inner)
      return fail(fmt::format("{} is a link (to {}); nodeimg reads and edits MicroK8s's args file only inside {} "
                              "without following links",
                              p, **inner, base));
  }
  auto content = files.read(path);
  if (!content) return std::unexpected(content.error());
  if (!*content) return fail(fmt::format("MicroK8s's kubelet args file {} does not exist", path));
  return ArgsFile{.path = path, .reason = reason};
}

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// ${NAME} or $NAME at `s[i]` (a '$'): the variable's value and where the reference ends.
struct Expansion {
  std::string value{};
  std::size_t end = 0;
};
Expansion expand_at(std::string_view s, std::size_t i, const std::string& revision_dir) {
  std::string name{};
  std::size_t end = i + 1;
  if (end < s.size() && s[end] == '{') {
    const auto close = s.find('}', end);
    if (close == std::string_view::npos) return {.value = "$", .end = i + 1};
    name = std::string(s.substr(end + 1, close - end - 1));
    end = close + 1;
  } else {
    while (end < s.size() && is_name_char(s[end])) name += s[end++];
    if (name.empty()) return {.value = "$", .end = i + 1};
  }
  const std::string revision = revision_dir.substr(revision_dir.rfind('/') + 1);
  if (name == "SNAP_DATA") return {.value = revision_dir, .end = end};
  if (name == "SNAP_COMMON") return {.value = std::string(kMicrok8sSnapData) + "/common", .end = end};
  if (name == "SNAP") return {.value = "/snap/microk8s/" + revision, .end = end};
  return {.value = "", .end = end};  // the shell expands an unknown variable to nothing
}

}  // namespace

Result<std::vector<systemd::Word>> parse_args_file(const std::string& path, std::string_view text,
                                                   const std::string& revision_dir) {
  std::vector<systemd::Word> words{};
  std::size_t line = 1;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\n') {
      ++line, ++i;
      continue;
    }
    if (is_blank(text[i])) {
      ++i;
      continue;
    }
    if (text[i] == '#') {  // a comment, to the end of the line
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    systemd::Word w{.origin = {path, line}};
    const std::size_t start_line = line;
    while (i < text.size() && !is_blank(text[i]) && text[i] != '\n') {
      const char c = text[i];
      if (c == '\'') {
        const auto close = text.find('\'', i + 1);
        if (close == std::string_view::npos) return fail(fmt::format("{}:{}: unterminated quote", path, start_line));
        for (std::size_t k = i + 1; k < close; ++k) line += text[k] == '\n';
        w.text += text.substr(i + 1, close - i - 1);
        i = close + 1;
      } else if (c == '"') {
        ++i;
        while (i < text.size() && text[i] != '"') {
          if (text[i] == '\\' && i + 1 < text.size() && std::string_view("\"\\$`").find(text[i + 1]) != std::string_view::npos) {
            w.text += text[i + 1];
            i += 2;
          } else if (text[i] == '$') {
            auto e = expand_at(text, i, revision_dir);
            w.text += e.value;
            i = e.end;
          } else {
            line += text[i] == '\n';
            w.text += text[i++];
          }
        }
        if (i >= text.size()) return fail(fmt::format("{}:{}: unterminated quote", path, start_line));
        ++i;
      } else if (c == '\\' && i + 1 < text.size()) {
        if (text[i + 1] == '\n') ++line;
        else w.text += text[i + 1];
        i += 2;
      } else if (c == '$') {
        auto e = expand_at(text, i, revision_dir);
        w.text += e.value;
        i = e.end;
      } else {
        w.text += c;
        ++i;
      }
    }
    words.push_back(std::move(w));
  }
  return words;
}

std::string append_args_line(std::string_view text, std::string_view flag, std::string_view value) {
  const std::string eol = text.find("\r\n") != std::string_view::npos ? "\r\n" : "\n";
  const std::string line = fmt::format("--{}={}", flag, value);
  std::string out(text);
  if (out.empty()) return line + eol;
  if (!out.ends_with('\n')) return out + eol + line;  // no final newline before: none after
  return out + line + eol;
}

}  // namespace nodeimg::kubelet
