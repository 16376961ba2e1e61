#include "commands/kubelet_metrics.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "commands/logging.hpp"
#include "core/doctor/diagnosis.hpp"
#include "core/gc/metrics.hpp"

namespace nodeimg {

std::string kubelet_metrics_path(const std::string& textfile) {
  if (textfile.empty()) return "";
  const std::string stem = textfile.ends_with(".prom") ? textfile.substr(0, textfile.size() - 5) : textfile;
  return stem + "-kubelet.prom";
}

void write_kubelet_metrics(const Context& ctx, const HostFiles& files, const kubelet::Plan& given, bool applied) {
  kubelet::Plan plan = given;
  if (applied)
    for (auto& s : plan.settings)
      if (s.desired) s.effective = *s.desired;
  const std::string path = kubelet_metrics_path(ctx.config.metrics.textfile);
  if (path.empty()) return;
  const auto slash = path.rfind('/');
  auto dir = files.list(path.substr(0, slash == 0 ? 1 : slash));
  if (!dir || !*dir) {
    spdlog::debug("metrics: {} has no directory; not written", files.host_path(path));
    return;
  }
  const auto max_images = doctor::effective_integer(plan, "nodeStatusMaxImages");
  if (!max_images) return;
  const gc::KubeletFacts facts{
      .node_status_max_images = *max_images,
      .image_gc_high_threshold_percent = doctor::effective_integer(plan, "imageGCHighThresholdPercent"),
      .observed_at = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count()};
  if (auto ok = files.write_atomic(path, gc::render_kubelet_metrics(facts), FileOwnership{0644, 0, 0}); !ok)
    log::event(spdlog::level::warn, "kubelet metrics not written: " + ok.error().message);
}

}  // namespace nodeimg
