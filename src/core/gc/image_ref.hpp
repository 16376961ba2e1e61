#pragma once
// Image references as runtimes report them ("busybox", "docker.io/library/busybox:1.36",
// "ghcr.io/org/app@sha256:…", "sha256:…") and the patterns of keep rules.
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <variant>

#include "core/common/error.hpp"

namespace nodeimg::gc {

// A reference as written, split where the grammar splits it: "reg:5000/repo:tag@sha256:…"
// -> name "reg:5000/repo", tag "tag", digest "sha256:…". The tag is what follows the first
// ':' after the last '/' of the part before '@'; the digest what follows the first '@'.
// Views into the argument; nothing is checked or normalized.
struct ReferenceParts {
  std::string_view name;
  std::optional<std::string_view> tag;     // set when a ':' is written, even with nothing after it
  std::optional<std::string_view> digest;  // set when an '@' is written
};
ReferenceParts split_reference(std::string_view ref);

// The fully qualified form: docker.io/library/ for bare names, ":latest" when neither
// tag nor digest is given. Image ids ("sha256:…") are returned unchanged.
std::string normalize_reference(std::string_view ref);

// "registry/repo" of a tag or digest reference (normalized), without tag or digest.
std::string repository_of(std::string_view ref);

// The digest ("sha256:…") of a digest reference ("repo@sha256:…", "repo:tag@sha256:…"), the
// id itself for "sha256:…", or "" when the reference names no digest.
std::string digest_of(std::string_view ref);

// A keep rule: a glob ("ghcr.io/org/app:*", '*' and '?' match any characters) or
// "regex:…" (matched against the whole reference). Compiled once, when the policy is read.
class ReferencePattern {
 public:
  static Result<ReferencePattern> parse(const std::string& text);
  bool matches(std::string_view reference) const;
  // The same answer, with normalize_reference(reference) already known: a planner that
  // matches every reference against every rule normalizes each reference once.
  bool matches(std::string_view reference, std::string_view normalized) const;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::variant<std::string, std::regex> matcher_;
  std::string normalized_glob_;  // normalize_reference of a glob, computed once
  // What every string the regex matches starts with (see literal_prefix): a reference
  // without it is refused without running the regex (an eighth of a plan's instructions in
  // BM_PlanScale at 10k images, where most images are not in the regex's repository).
  std::string regex_prefix_;
};

bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace nodeimg::gc
