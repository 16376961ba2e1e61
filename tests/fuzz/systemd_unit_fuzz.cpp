// systemd unit files, environment files, Environment= values, ExecStart= expansion and the
// flag editor. Invariant: errors are values, never crashes; a flag edit that succeeds
// keeps every line before the edited one byte for byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/kubelet/systemd_unit.hpp"
#include "fuzz_support.hpp"

using nodeimg::fuzz::require;
namespace systemd = nodeimg::systemd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  systemd::Environment env;
  if (auto file = systemd::parse_environment_file("fuzz.env", text))
    for (auto& a : *file) env[a.name] = a;
  auto unit = systemd::parse_unit_file("fuzz.service", text);
  if (!unit) return 0;
  for (const auto& d : *unit) {
    if (d.key == "Environment")
      if (auto assignments = systemd::parse_environment_directive(d))
        for (auto& a : *assignments) env[a.name] = a;
  }
  for (const auto& d : *unit) {
    if (d.key != "ExecStart") continue;
    auto words = systemd::expand_command_line(d, env);
    if (!words) continue;
    for (const auto& w : *words) {
      if (!w.text.starts_with("--") || w.origin.line == 0 || w.variable.size() > 0) continue;
      const auto eq = w.text.find('=');
      const std::string flag = w.text.substr(0, eq);
      auto edited = systemd::replace_flag_value(text, w.origin.line, flag, "123", eq == std::string::npos);
      if (!edited) continue;
      // The bytes before the edited line are untouched.
      std::size_t prefix = 0;
      for (std::size_t line = 1; line < w.origin.line && prefix != std::string_view::npos; ++line) {
        prefix = text.find('\n', prefix);
        if (prefix != std::string_view::npos) ++prefix;
      }
      if (prefix != std::string_view::npos)
        require(edited->compare(0, prefix, text.substr(0, prefix)) == 0, "a flag edit keeps the lines before it");
    }
  }
  return 0;
}
