#include "commands/doctor/doctor_command.hpp"

#include <cctype>
#include <iostream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "commands/doctor/gather.hpp"
#include "commands/kubelet_metrics.hpp"
#include "commands/logging.hpp"
#include "core/common/schema_version.hpp"

namespace nodeimg {

namespace {

using doctor::Severity;

std::map<Severity, std::size_t> count(const doctor::Diagnosis& d) {
  std::map<Severity, std::size_t> n{{Severity::Ok, 0}, {Severity::Info, 0}, {Severity::Warning, 0}, {Severity::Error, 0}};
  for (const auto& f : d.findings) ++n[f.severity];
  return n;
}

nlohmann::json to_json(const doctor::Diagnosis& d, const Context& ctx) {
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& f : d.findings)
    findings.push_back({{"id", f.id}, {"area", f.area}, {"severity", doctor::to_string(f.severity)}, {"seen", f.seen},
                        {"why", f.why.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.why)},
                        {"fix", f.fix.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.fix)}});
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& s : d.skipped) skipped.push_back({{"area", s.area}, {"reason", s.reason}});
  const auto n = count(d);
  return {{"schemaVersion", kJsonSchemaVersion},
          {"command", "doctor"},
          {"healthy", !d.needs_attention()},
          {"root", ctx.options.root},
          {"configuration", ctx.config_source},
          {"counts", {{"ok", n.at(Severity::Ok)}, {"info", n.at(Severity::Info)},
                      {"warning", n.at(Severity::Warning)}, {"error", n.at(Severity::Error)}}},
          {"findings", findings},
          {"skipped", skipped}};
}

void print_text(const doctor::Diagnosis& d, const Context& ctx) {
  const auto n = count(d);
  std::cout << fmt::format("nodeimg doctor{}: {}\n", ctx.rooted() ? " (under --root " + ctx.options.root + ")" : "",
                           d.needs_attention() ? fmt::format("{} warning(s), {} error(s) need attention",
                                                             n.at(Severity::Warning), n.at(Severity::Error))
                                               : "nothing needs attention");
  std::string area;
  for (const auto& f : d.findings) {
    if (f.area != area) {
      area = f.area;
      std::cout << "\n" << area << "\n";
    }
    std::string label(doctor::to_string(f.severity));
    if (f.severity >= Severity::Warning)  // what needs attention stands out
      for (auto& c : label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::cout << fmt::format("  {:<8} {:<26} {}\n", label, f.id, f.seen);
    if (f.severity == Severity::Ok) continue;
    if (!f.why.empty()) std::cout << fmt::format("  {:<8} {:<26} why: {}\n", "", "", f.why);
    if (!f.fix.empty()) std::cout << fmt::format("  {:<8} {:<26} fix: {}\n", "", "", f.fix);
  }
  if (!d.skipped.empty()) {
    std::cout << "\nskipped\n";
    for (const auto& s : d.skipped) std::cout << fmt::format("  {:<8} {}\n", s.area, s.reason);
  }
}

}  // namespace

int doctor_run(const Context& ctx) {
  HostFiles files(ctx.options.root);
  const auto observations = gather_observations(ctx, files);
  const auto diagnosis = doctor::diagnose(observations);
  // doctor knows kubelet's effective settings: keep their metrics fresh.
  if (observations.kubelet.plan) write_kubelet_metrics(ctx, files, *observations.kubelet.plan);

  if (ctx.options.json) std::cout << to_json(diagnosis, ctx).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  else print_text(diagnosis, ctx);

  const auto n = count(diagnosis);
  log::event(spdlog::level::info,
             fmt::format("doctor: {} warning(s), {} error(s), {} check(s) ok", n.at(Severity::Warning),
                         n.at(Severity::Error), n.at(Severity::Ok)),
             {{"NODEIMG_COMMAND", "doctor"},
              {"NODEIMG_WARNINGS", std::to_string(n.at(Severity::Warning))},
              {"NODEIMG_ERRORS", std::to_string(n.at(Severity::Error))}});
  return diagnosis.needs_attention() ? kExitFailed : kExitOk;
}

}  // namespace nodeimg
