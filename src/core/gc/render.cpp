#include "core/gc/render.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "core/common/time.hpp"
#include "core/gc/planner.hpp"

namespace nodeimg::gc {

using nlohmann::json;

namespace {

// A time in reports: RFC 3339, or "" when unknown (0).
std::string time_text(Seconds t) { return t <= 0 ? "" : rfc3339(t); }

std::string phase_text(const std::optional<Phase>& p) { return p ? std::string(to_string(*p)) : ""; }

json usage_json(const FilesystemUsage& u) {
  return {{"capacityBytes", u.size_bytes},  {"availableBytes", u.available_bytes},
          {"usedPercent", u.used_percent()}, {"inodes", u.inodes},
          {"inodesFree", u.inodes_free},     {"inodesUsedPercent", u.inodes_used_percent()}};
}

std::vector<std::string> messages(const std::vector<Shortfall>& shortfalls) {
  std::vector<std::string> out;
  for (const auto& s : shortfalls) out.push_back(s.message);
  return out;
}

json gc_plan_json(const GcOutcome& run) {
  return {{"overHigh", run.plan.over_high},
          {"inodePressure", run.plan.inode_pressure},
          {"bytesToFree", run.plan.bytes_to_free},
          {"estimatedBytes", run.plan.estimated_freed},
          {"high", run.policy.high.text},
          {"low", run.policy.low.text}};
}

json gc_counts_json(const RunReport& r) {
  return {{"containersRemoved", r.count(ObjectKind::Container)},
          {"sandboxesRemoved", r.count(ObjectKind::Sandbox)},
          {"imagesRemoved", r.count(ObjectKind::Image)},
          {"skipped", r.skipped.size()},
          {"failures", r.failures.size()}};
}

// The objects of a run: removed, skipped, failed, and what the plan kept and why.
void gc_objects_json(const GcOutcome& run, json& j) {
  j["removed"] = json::array();
  j["skipped"] = json::array();
  j["failures"] = json::array();
  j["kept"] = json::array();
  for (const auto& r : run.report.removed)
    j["removed"].push_back({{"kind", to_string(r.kind)}, {"id", r.id}, {"name", r.name}, {"size", r.size},
                            {"phase", to_string(r.phase)}, {"reason", r.reason}});
  for (const auto& r : run.report.skipped)
    j["skipped"].push_back({{"kind", to_string(r.kind)}, {"id", r.id}, {"name", r.name}, {"reason", r.reason}});
  for (const auto& r : run.report.failures)
    j["failures"].push_back({{"kind", to_string(r.kind)}, {"id", r.id}, {"message", r.message}});
  for (const auto* list : {&run.plan.containers, &run.plan.sandboxes, &run.plan.images})
    for (const auto& d : *list)
      if (!d.remove) j["kept"].push_back({{"id", d.id}, {"name", d.name}, {"reason", d.reason}});
}

}  // namespace

std::string short_id(const std::string& id) {
  const auto colon = id.find(':');
  const std::string hex = colon == std::string::npos ? id : id.substr(colon + 1);
  return hex.substr(0, 12);
}

std::string usage_text(const FilesystemUsage& u) {
  return fmt::format("{:.1f}% used ({} free of {}), inodes {:.1f}% used", u.used_percent(), human_bytes(u.available_bytes),
                     human_bytes(u.size_bytes), u.inodes_used_percent());
}

std::string csv_quote(const std::string& value) {
  std::string out = "\"";
  for (char c : value) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string render_gc_json(const GcOutcome& run) {
  const RunReport& r = run.report;
  json j = {{"command", "gc"},
            {"dryRun", r.dry_run},
            {"runtime", r.runtime},
            {"startedAt", time_text(r.started_at)},
            {"durationSeconds", r.duration_seconds},
            {"filesystem", {{"mountpoint", r.before.mountpoint}, {"before", usage_json(r.before)}, {"after", usage_json(r.after)}}},
            {"bytesFreed", r.bytes_freed()},
            {"plan", gc_plan_json(run)},
            {"counts", gc_counts_json(r)},
            {"imagesBefore", r.images_before},
            {"stoppedAtLow", r.stopped_at_low},
            {"shortfalls", messages(r.shortfalls)},
            {"warnings", r.warnings}};
  // Unknown (the runtime was lost before the images left could be counted): absent, not 0.
  if (r.images_after) j["imagesAfter"] = *r.images_after;
  if (!r.outage.empty()) j["runtimeOutage"] = r.outage;
  if (!r.errors.empty()) j["errors"] = r.errors;
  gc_objects_json(run, j);
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string render_gc_text(const GcOutcome& run) {
  const RunReport& report = run.report;
  std::string out = fmt::format("{} {}\n", report.dry_run ? "would collect on" : "collected on", report.runtime);
  out += fmt::format("image filesystem {}: {}\n", report.before.mountpoint, usage_text(report.before));
  for (const auto& r : report.removed)
    out += fmt::format("  {} {:9} {:12} {:40} {:>10}  [{}] {}\n", report.dry_run ? "would remove" : "removed", to_string(r.kind),
                       short_id(r.id), r.name, r.kind == ObjectKind::Image ? human_bytes(r.size) : "", to_string(r.phase),
                       r.reason);
  for (const auto& r : report.skipped)
    out += fmt::format("  skipped {:9} {:12} {:40} {}\n", to_string(r.kind), short_id(r.id), r.name, r.reason);
  for (const auto& r : report.failures) out += fmt::format("  FAILED  {:9} {}\n", to_string(r.kind), r.message);
  if (!report.outage.empty()) out += "  RUNTIME LOST: " + report.outage + "\n";
  for (const auto& e : report.errors) out += "  ERROR: " + e + "\n";
  for (const auto& s : report.shortfalls) out += "  shortfall: " + s.message + "\n";
  for (const auto& w : report.warnings) out += "  warning: " + w + "\n";
  if (!report.dry_run) out += fmt::format("after: {}\n", usage_text(report.after));
  return out;
}

LogEntry gc_log_entry(const GcOutcome& run) {
  const RunReport& r = run.report;
  const bool dry = r.dry_run;
  const auto n_containers = r.count(ObjectKind::Container);
  const auto n_sandboxes = r.count(ObjectKind::Sandbox);
  const auto n_images = r.count(ObjectKind::Image);
  std::string message = fmt::format(
      "gc{}: {} {} containers, {} sandboxes, {} images ({} -> {} images); {}; {} skipped, {} failed{}", dry ? " (dry run)" : "",
      dry ? "would remove" : "removed", n_containers, n_sandboxes, n_images, r.images_before,
      dry ? fmt::format("{}", run.plan.images_after) : r.images_after ? fmt::format("{}", *r.images_after) : "?",
      dry ? fmt::format("disk {:.1f}% used", r.before.used_percent())
          : fmt::format("freed {} (disk {:.1f}% -> {:.1f}% used)", human_bytes(r.bytes_freed()), r.before.used_percent(),
                        r.after.used_percent()),
      r.skipped.size(), r.failures.size(),
      r.shortfalls.empty() ? "" : fmt::format("; shortfall: {}", fmt::join(messages(r.shortfalls), "; ")));
  if (!r.outage.empty()) message += "; runtime lost: " + r.outage;
  for (const auto& e : r.errors) message += "; " + e;
  LogEntry entry{.failed = r.failed(),
          .message = std::move(message),
          .fields = {{"NODEIMG_COMMAND", "gc"},
                     {"NODEIMG_DRY_RUN", dry ? "1" : "0"},
                     {"NODEIMG_RUNTIME", r.runtime},
                     {"NODEIMG_CONTAINERS_REMOVED", std::to_string(n_containers)},
                     {"NODEIMG_SANDBOXES_REMOVED", std::to_string(n_sandboxes)},
                     {"NODEIMG_IMAGES_REMOVED", std::to_string(n_images)},
                     {"NODEIMG_IMAGES_AFTER", r.images_after ? std::to_string(*r.images_after) : std::string()},
                     {"NODEIMG_BYTES_FREED", std::to_string(r.bytes_freed())},
                     {"NODEIMG_USED_PERCENT_BEFORE", fmt::format("{:.1f}", r.before.used_percent())},
                     {"NODEIMG_USED_PERCENT_AFTER", fmt::format("{:.1f}", r.after.used_percent())},
                     {"NODEIMG_SKIPPED", std::to_string(r.skipped.size())},
                     {"NODEIMG_FAILURES", std::to_string(r.failures.size())},
                     {"NODEIMG_SHORTFALL", r.shortfalls.empty() ? "0" : "1"}}};
  // Unknown figures are absent, not empty or 0.
  std::erase_if(entry.fields, [](const LogField& f) { return f.value.empty(); });
  if (!r.runtime_reached) entry.fields.push_back({"NODEIMG_RUNTIME_LOST", "1"});
  return entry;
}

ImagesView images_view(const Inventory& inventory, const Plan& plan, std::string runtime, Seconds now) {
  std::map<std::string, std::size_t> order;  // the plan's order: removals first (LRU), then the rest
  for (std::size_t i = 0; i < plan.images.size(); ++i) order.try_emplace(plan.images[i].id, i);
  ImagesView view{.runtime = std::move(runtime), .usage = inventory.usage, .now = now, .rows = {}};
  const auto users = containers_using(inventory.images, inventory.containers);
  for (std::size_t i = 0; i < inventory.images.size(); ++i) {
    ImageRow row{.image = &inventory.images[i], .decision = &plan.images.at(order.at(inventory.images[i].id)), .users = {}};
    for (const auto* c : users[i]) row.users.push_back(describe_container(*c));
    view.rows.push_back(std::move(row));
  }
  std::stable_sort(view.rows.begin(), view.rows.end(),
                   [&](const ImageRow& a, const ImageRow& b) { return order.at(a.image->id) < order.at(b.image->id); });
  return view;
}

namespace {
const char* next_gc(const Decision& d) { return d.remove ? "remove" : "keep"; }
}  // namespace

std::string render_images_json(const ImagesView& view) {
  json out = {{"runtime", view.runtime},
              {"filesystem", {{"mountpoint", view.usage.mountpoint}, {"usage", usage_json(view.usage)}}},
              {"images", json::array()}};
  for (const auto& r : view.rows)
    out["images"].push_back({{"id", r.image->id},
                             {"tags", r.image->tags},
                             {"digests", r.image->digests},
                             {"size", r.image->size},
                             {"firstSeen", time_text(r.decision->first_seen)},
                             {"lastUsed", time_text(r.decision->last_used)},
                             {"inUseBy", r.users},
                             {"pinned", r.image->pinned},
                             {"nextGc", next_gc(*r.decision)},
                             {"phase", phase_text(r.decision->phase)},
                             {"reason", r.decision->reason}});
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string render_images_csv(const ImagesView& view) {
  std::string out = "id,tags,digests,size,first_seen,last_used,in_use_by,pinned,next_gc,reason\n";
  for (const auto& r : view.rows)
    out += fmt::format("{},{},{},{},{},{},{},{},{},{}\n", csv_quote(r.image->id),
                       csv_quote(fmt::format("{}", fmt::join(r.image->tags, " "))),
                       csv_quote(fmt::format("{}", fmt::join(r.image->digests, " "))), r.image->size,
                       time_text(r.decision->first_seen), time_text(r.decision->last_used),
                       csv_quote(fmt::format("{}", fmt::join(r.users, " "))), r.image->pinned ? "true" : "false",
                       next_gc(*r.decision), csv_quote(r.decision->reason));
  return out;
}

std::string render_images_text(const ImagesView& view) {
  std::string out = fmt::format("{} images on {}; image filesystem {}: {}\n", view.rows.size(), view.runtime,
                                view.usage.mountpoint, usage_text(view.usage));
  out += fmt::format("{:12}  {:45}  {:>10}  {:>8}  {:>8}  {:6}  {}\n", "IMAGE ID", "REFERENCE", "SIZE", "AGE", "UNUSED", "NEXT",
                     "WHY");
  for (const auto& r : view.rows) {
    std::string ref = r.image->tags.empty() ? (r.image->digests.empty() ? "<none>" : r.image->digests[0]) : r.image->tags[0];
    if (r.image->tags.size() > 1) ref += fmt::format(" (+{})", r.image->tags.size() - 1);
    out += fmt::format("{:12}  {:45}  {:>10}  {:>8}  {:>8}  {:6}  {}\n", short_id(r.image->id), ref, human_bytes(r.image->size),
                       human_age(view.now - r.decision->first_seen),
                       r.users.empty() ? human_age(view.now - r.decision->last_used) : "in use", next_gc(*r.decision),
                       r.decision->reason);
  }
  return out;
}

std::string_view to_string(PrepullItem::Status s) {
  switch (s) {
    case PrepullItem::Status::Present: return "present";
    case PrepullItem::Status::Pending: return "pending";
    case PrepullItem::Status::Pulled: return "pulled";
    case PrepullItem::Status::Failed: return "failed";
  }
  return "?";
}

std::vector<PrepullItem> prepull_items(const std::vector<std::string>& references, const std::vector<Image>& images) {
  std::vector<PrepullItem> items;
  for (const auto& ref : references) {
    const auto it = std::find_if(images.begin(), images.end(), [&](const Image& i) { return refers_to(i, ref); });
    if (it != images.end())
      items.push_back({.reference = ref, .status = PrepullItem::Status::Present, .detail = it->id});
    else
      items.push_back({.reference = ref, .status = PrepullItem::Status::Pending, .detail = ""});
  }
  return items;
}

namespace {
struct PrepullCounts {
  std::size_t present = 0, pulled = 0, failed = 0;
};
PrepullCounts count(const std::vector<PrepullItem>& items) {
  PrepullCounts c;
  for (const auto& i : items) {
    if (i.status == PrepullItem::Status::Present) ++c.present;
    else if (i.status == PrepullItem::Status::Pulled) ++c.pulled;
    else ++c.failed;  // a pull that never ran counts as failed, as before
  }
  return c;
}
}  // namespace

std::string render_prepull_json(const std::vector<PrepullItem>& items) {
  const PrepullCounts c = count(items);
  json out = {{"command", "prepull"}, {"present", c.present}, {"pulled", c.pulled}, {"failed", c.failed}, {"images", json::array()}};
  for (const auto& i : items)
    out["images"].push_back({{"reference", i.reference},
                             {"status", to_string(i.status)},
                             {i.status == PrepullItem::Status::Failed ? "error" : "id", i.detail}});
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string render_prepull_text(const std::vector<PrepullItem>& items) {
  std::string out;
  for (const auto& i : items) out += fmt::format("{:8} {} {}\n", to_string(i.status), i.reference, i.detail);
  return out;
}

LogEntry prepull_log_entry(const std::vector<PrepullItem>& items) {
  const PrepullCounts c = count(items);
  return {.failed = c.failed > 0,
          .message = fmt::format("prepull: {} images: {} present, {} pulled, {} failed", items.size(), c.present, c.pulled,
                                 c.failed),
          .fields = {{"NODEIMG_COMMAND", "prepull"},
                     {"NODEIMG_PULLED", std::to_string(c.pulled)},
                     {"NODEIMG_FAILURES", std::to_string(c.failed)}}};
}

}  // namespace nodeimg::gc
