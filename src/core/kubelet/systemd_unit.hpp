#pragma once
// Reading systemd unit files, environment files and ExecStart command lines the way
// systemd does, keeping for every word the file and line that defines it, so that a
// kubelet flag can be edited where it is written.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"

namespace nodeimg::systemd {

struct Origin {
  std::string file{};
  std::size_t line = 0;  // 1-based; 0 = unknown
};
std::string to_string(const Origin& o);

struct Directive {
  std::string section{};
  std::string key{};
  std::string value{};
  Origin origin{};
};

// `[Section]` / `Key=Value` lines with comments and backslash continuations.
Result<std::vector<Directive>> parse_unit_file(const std::string& path, std::string_view text);

struct Assignment {
  std::string name{};
  std::string value{};
  Origin origin{};
};

// The assignments of one `Environment=` value: `A=1 "B=two words"`.
Result<std::vector<Assignment>> parse_environment_directive(const Directive& d);

// An `EnvironmentFile=`: KEY=VALUE lines, quotes, comments, continuations.
Result<std::vector<Assignment>> parse_environment_file(const std::string& path, std::string_view text);

struct Word {
  std::string text{};
  Origin origin{};         // where the word's text is written
  std::string variable{};  // the variable it came from ($VAR), empty for a literal word
  // `--flag=${VAR}`: the value is VAR's whole value, defined at value_origin.
  std::string value_variable{};
  Origin value_origin{};
};

using Environment = std::map<std::string, Assignment>;

// Splits an ExecStart= value into words (quotes, escapes, `-@:+!` prefixes) and expands
// `$VAR` (a word of its own: split at whitespace into zero or more words) and `${VAR}`
// (replaced in place, one word).
Result<std::vector<Word>> expand_command_line(const Directive& exec_start, const Environment& env);

// What systemd's specifiers (%n, %N, %p, %i, %H, ...) stand for in one unit.
struct SpecifierContext {
  std::string unit{};      // "k3s.service", "getty@tty1.service"
  std::string fragment{};  // the unit file's path
  std::string hostname{};  // empty when unknown: %H and %l are then refused
};

// Expands the specifiers of a unit-file value as systemd does for Environment=,
// EnvironmentFile= and ExecStart=. A specifier nodeimg cannot know on this node (machine
// id, boot id, ...) is an error naming `where`.
Result<std::string> expand_specifiers(std::string_view value, const SpecifierContext& ctx, const Origin& where);

// Replaces the value of every `--flag=V` / `--flag V` / bare boolean `--flag` that starts
// on or continues from line `line` (1-based) of `text` with `value`; every other byte of
// the file stays. Fails when the flag is not found there.
Result<std::string> replace_flag_value(std::string_view text, std::size_t line, std::string_view flag,
                                       std::string_view value, bool is_boolean);

// Replaces the value of the last `NAME=` assignment on the logical line `line` (an
// Environment= directive or an environment file), quoted or not. Refuses values written
// with escapes or variables.
Result<std::string> replace_assignment_value(std::string_view text, std::size_t line, std::string_view name,
                                             std::string_view value);

}  // namespace nodeimg::systemd
