#include "core/gc/image_ref.hpp"

#include <fmt/format.h>

namespace nodeimg::gc {

ReferenceParts split_reference(std::string_view ref) {
  ReferenceParts p;
  std::string_view rest = ref;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    p.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
  }
  const auto last_slash = rest.rfind('/');
  if (const auto colon = rest.find(':', last_slash == std::string_view::npos ? 0 : last_slash + 1);
      colon != std::string_view::npos) {
    p.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  p.name = rest;
  return p;
}

std::string normalize_reference(std::string_view ref) {
  if (ref.starts_with("sha256:")) return std::string(ref);
  std::string r(ref);
  const auto slash = r.find('/');
  const std::string first = slash == std::string::npos ? "" : r.substr(0, slash);
  const bool has_registry =
      slash != std::string::npos && (first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost");
  if (!has_registry) {
    r = (slash == std::string::npos ? "docker.io/library/" : "docker.io/") + r;
  } else if (first == "docker.io" || first == "index.docker.io" || first == "registry-1.docker.io") {
    // Docker Hub's aliases, and its official images ("docker.io/busybox") live in library/.
    std::string path = r.substr(slash + 1);
    const auto name_end = path.find_first_of("@");
    const std::string name_part = path.substr(0, name_end);
    if (name_part.find('/') == std::string::npos) path = "library/" + path;
    r = "docker.io/" + path;
  }
  if (const ReferenceParts parts = split_reference(r); !parts.digest && !parts.tag) r += ":latest";
  return r;
}

std::string repository_of(std::string_view ref) {
  if (ref.starts_with("sha256:")) return std::string(ref);
  return std::string(split_reference(normalize_reference(ref)).name);
}

std::string digest_of(std::string_view ref) {
  if (ref.starts_with("sha256:")) return std::string(ref);
  const auto at = ref.find('@');
  return at == std::string_view::npos ? std::string() : std::string(ref.substr(at + 1));
}

bool glob_match(std::string_view p, std::string_view t) {
  // Iterative matcher with backtracking to the last '*'.
  std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi, ++ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

namespace {

bool is_plain_literal(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '_' || c == ':' ||
         c == '@' || c == '=' || c == ',' || c == '%' || c == '-';
}

// The literal text an ECMAScript regular expression, matched against a whole string, requires
// that string to start with: after an optional leading '^', the characters that stand for
// themselves (letters, digits, some punctuation, and escaped punctuation such as "\."), up to
// the first anything else; a character followed by a quantifier does not count, and a
// pattern with '|' anywhere has no prefix (an alternative may start differently). Shorter
// than the truth is always safe: "" refuses nothing.
std::string literal_prefix(std::string_view re) {
  if (re.find('|') != std::string_view::npos) return "";
  std::string prefix;
  std::size_t i = re.starts_with('^') ? 1 : 0;
  while (i < re.size()) {
    if (is_plain_literal(re[i])) {
      prefix += re[i++];
    } else if (re[i] == '\\' && i + 1 < re.size() && std::string_view(".-/:@+*?()[]{}^$\\").find(re[i + 1]) != std::string_view::npos) {
      prefix += re[i + 1];
      i += 2;
    } else {
      // A quantifier applies to the last literal: it may be absent or repeated.
      if ((re[i] == '*' || re[i] == '+' || re[i] == '?' || re[i] == '{') && !prefix.empty()) prefix.pop_back();
      return prefix;
    }
  }
  return prefix;
}

}  // namespace

Result<ReferencePattern> ReferencePattern::parse(const std::string& text) {
  ReferencePattern p;
  p.text_ = text;
  if (text.starts_with("regex:")) {
    if (text.size() == 6) return fail("empty regular expression");
    try {
      p.matcher_ = std::regex(text.substr(6), std::regex::ECMAScript);
      p.regex_prefix_ = literal_prefix(std::string_view(text).substr(6));
    } catch (const std::regex_error& e) {
      return fail(fmt::format("invalid regular expression \"{}\": {}", text.substr(6), e.what()));
    }
  } else {
    if (text.empty()) return fail("empty pattern");
    p.matcher_ = text;
    p.normalized_glob_ = normalize_reference(text);
  }
  return p;
}

bool ReferencePattern::matches(std::string_view reference) const { return matches(reference, normalize_reference(reference)); }

bool ReferencePattern::matches(std::string_view reference, std::string_view normalized) const {
  if (const auto* re = std::get_if<std::regex>(&matcher_)) {
    auto match = [&](std::string_view text) {
      return text.starts_with(regex_prefix_) && std::regex_match(text.begin(), text.end(), *re);
    };
    return match(reference) || (normalized != reference && match(normalized));
  }
  const auto& glob = std::get<std::string>(matcher_);
  // A short pattern ("busybox:*") matches the normalized reference too.
  return glob_match(glob, reference) || glob_match(glob, normalized) || glob_match(normalized_glob_, normalized);
}

}  // namespace nodeimg::gc
