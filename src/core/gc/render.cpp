#include "core/gc/render.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "core/common/schema_version.hpp"
#include "core/common/time.hpp"
#include "core/gc/planner.hpp"
#include "core/gc/table.hpp"

namespace nodeimg::gc {

using nlohmann::json;

namespace {

// A time in reports: RFC 3339, or "" when unknown (0).
std::string time_text(Seconds t) { return t <= 0 ? "" : rfc3339(t); }

std::string phase_text(const std::optional<Phase>& p) { return p ? std::string(to_string(*p)) : ""; }

std::string dump(const json& j) { return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"; }

json usage_json(const FilesystemUsage& u) {
  return {{"capacityBytes", u.size_bytes},  {"availableBytes", u.available_bytes},
          {"usedPercent", u.used_percent()}, {"inodes", u.inodes},
          {"inodesFree", u.inodes_free},     {"inodesUsedPercent", u.inodes_used_percent()}};
}

json counts_json(const std::vector<ReasonCount>& counts) {
  json out = json::array();
  for (const auto& c : counts) out.push_back({{"code", to_string(c.code)}, {"count", c.count}});
  return out;
}

json shortfalls_json(const std::vector<Shortfall>& shortfalls) {
  json out = json::array();
  for (const auto& s : shortfalls) {
    json j = {{"kind", to_string(s.kind)}, {"message", s.message}, {"protectedBy", counts_json(s.protected_by)}};
    if (s.kind == Shortfall::Kind::Low) j.update({{"neededBytes", s.needed_bytes}, {"removableBytes", s.removable_bytes}});
    else j["remaining"] = s.remaining;
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<std::string> messages(const std::vector<Shortfall>& shortfalls) {
  std::vector<std::string> out;
  for (const auto& s : shortfalls) out.push_back(s.message);
  return out;
}

// The plan's figures, shared by gc and images.
json plan_json(const Plan& plan, const Policy& policy) {
  std::uint64_t planned_bytes = 0;
  std::size_t not_needed = 0, protected_images = 0, planned = 0;
  for (const auto& d : plan.images) {
    const NextGc n = next_gc(d);
    planned += n == NextGc::Remove ? 1 : 0;
    planned_bytes += n == NextGc::Remove ? d.size : 0;
    not_needed += n == NextGc::NotNeeded ? 1 : 0;
    protected_images += n == NextGc::Protected ? 1 : 0;
  }
  return {{"overHigh", plan.over_high},
          {"inodePressure", plan.inode_pressure},
          {"bytesToFree", plan.bytes_to_free},
          {"estimatedBytes", plan.estimated_freed},
          {"high", policy.high.text},
          {"low", policy.low.text},
          {"situation", situation_text(plan, policy, {})},
          {"images", {{"remove", planned},
                      {"removeIfNeeded", plan.reserves()},
                      {"notNeeded", not_needed},
                      {"protected", protected_images}}},
          {"removeBytes", planned_bytes},
          {"removeIfNeededBytes", plan.reserve_bytes()},
          {"imagesAfter", plan.images_after},
          {"imagesAfterWorstCase", plan.images_after - std::min(plan.images_after, plan.reserves())},
          {"protectedBy", counts_json(plan.protected_by)}};
}

// The plan's decisions by kind and id, to give each line of a run its decision.
class DecisionIndex {
 public:
  explicit DecisionIndex(const Plan& plan) {
    for (const auto& d : plan.containers) by_[key(ObjectKind::Container, d.id)] = &d;
    for (const auto& d : plan.sandboxes) by_[key(ObjectKind::Sandbox, d.id)] = &d;
    for (const auto& d : plan.images) by_[key(ObjectKind::Image, d.id)] = &d;
  }
  const Decision* find(ObjectKind kind, const std::string& id) const {
    const auto it = by_.find(key(kind, id));
    return it == by_.end() ? nullptr : it->second;
  }

 private:
  static std::string key(ObjectKind kind, const std::string& id) { return std::string(to_string(kind)) + "/" + id; }
  std::map<std::string, const Decision*> by_;
};

// One line of a run's list: a removal (done, or on a dry run planned or a reserve), with
// the decision that chose it.
struct Line {
  Removal removal;
  const Decision* decision;
  bool if_needed;
};

// What a run lists: its removals, then on a dry run the plan's reserves, which the real run
// takes while re-measuring still shows pressure: the worst case.
std::vector<Line> run_lines(const GcOutcome& run) {
  const DecisionIndex index(run.plan);
  std::vector<Line> out;
  for (const auto& r : run.report.removed) {
    const Decision* d = index.find(r.kind, r.id);
    out.push_back({.removal = r, .decision = d, .if_needed = d && d->reserve});
  }
  if (!run.report.dry_run) return out;
  for (const auto& d : run.plan.images)
    if (d.reserve)
      out.push_back({.removal = {.kind = ObjectKind::Image, .id = d.id, .name = d.name, .size = d.size,
                                 .phase = Phase::Threshold, .reason = d.reason},
                     .decision = &d,
                     .if_needed = true});
  return out;
}

json decision_fields(const Decision* d) {
  if (!d) return {{"code", nullptr}, {"rule", nullptr}};
  return {{"code", to_string(d->code)}, {"rule", d->rule.empty() ? json(nullptr) : json(d->rule)}};
}

json gc_counts_json(const RunReport& r, std::size_t if_needed) {
  return {{"containersRemoved", r.count(ObjectKind::Container)},
          {"sandboxesRemoved", r.count(ObjectKind::Sandbox)},
          {"imagesRemoved", r.count(ObjectKind::Image)},
          {"imagesIfNeeded", if_needed},
          {"skipped", r.skipped.size()},
          {"failures", r.failures.size()}};
}

// The objects of a run: removed (with the reserves on a dry run), skipped, failed, and what
// the plan kept and why.
void gc_objects_json(const GcOutcome& run, const std::vector<Line>& lines, json& j) {
  j["removed"] = json::array();
  j["skipped"] = json::array();
  j["failures"] = json::array();
  j["kept"] = json::array();
  std::set<std::string> listed;
  for (const auto& l : lines) {
    const Removal& r = l.removal;
    json e = {{"kind", to_string(r.kind)}, {"id", r.id},         {"name", r.name},
              {"size", r.size},            {"phase", to_string(r.phase)},
              {"decision", l.if_needed ? "remove-if-needed" : "remove"}, {"reason", r.reason}};
    e.update(decision_fields(l.decision));
    j["removed"].push_back(std::move(e));
    listed.insert(std::string(to_string(r.kind)) + "/" + r.id);
  }
  for (const auto& r : run.report.skipped)
    j["skipped"].push_back(
        {{"kind", to_string(r.kind)}, {"id", r.id}, {"name", r.name}, {"code", to_string(r.code)}, {"reason", r.reason}});
  for (const auto& r : run.report.failures)
    j["failures"].push_back({{"kind", to_string(r.kind)}, {"id", r.id}, {"message", r.message}});
  struct Decisions {
    ObjectKind kind;
    const std::vector<Decision>* list;
  };
  const Decisions lists[] = {{.kind = ObjectKind::Container, .list = &run.plan.containers},
                             {.kind = ObjectKind::Sandbox, .list = &run.plan.sandboxes},
                             {.kind = ObjectKind::Image, .list = &run.plan.images}};
  for (const auto& [kind, list] : lists)
    for (const auto& d : *list) {
      if (d.remove || listed.contains(std::string(to_string(kind)) + "/" + d.id)) continue;
      json e = {{"kind", to_string(kind)}, {"id", d.id}, {"name", d.name}, {"reason", d.reason}};
      e.update(decision_fields(&d));
      if (kind == ObjectKind::Image) e["nextGc"] = to_string(next_gc(d));
      j["kept"].push_back(std::move(e));
    }
}

std::size_t count_if_needed(const std::vector<Line>& lines) {
  return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [](const Line& l) { return l.if_needed; }));
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

std::string compact_age(Seconds s) {
  if (s < 0) s = 0;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m", s / 60);
  if (s < 86400) return fmt::format("{}h", s / 3600);
  return fmt::format("{}d", s / 86400);
}

std::string short_reason(const Decision& d, Seconds now) {
  const std::string code(to_string(d.code));
  const std::string unused = "unused " + compact_age(now - d.last_used);
  switch (d.code) {
    case ReasonCode::Lru:
    case ReasonCode::InodePressure:
    case ReasonCode::NotNeeded: return d.lru_rank ? fmt::format("lru#{} {}", d.lru_rank, unused) : code;
    case ReasonCode::MaxUnusedAge: return "max-unused-age " + unused;
    case ReasonCode::MaxImages: return fmt::format("max-images lru#{}", d.lru_rank);
    case ReasonCode::Keep:
    case ReasonCode::Prepull:
    case ReasonCode::KeepNewest:
    case ReasonCode::WithSandbox:
    case ReasonCode::HoldsContainer: return d.rule.empty() ? code : code + ":" + d.rule;
    case ReasonCode::Exited:
    case ReasonCode::NotReady: return code + " " + compact_age(now - d.first_seen);
    default: return code;
  }
}

std::string situation_text(const Plan& plan, const Policy& policy, const FilesystemUsage& usage) {
  std::string out;
  if (!usage.mountpoint.empty()) out = fmt::format("image filesystem {}: {}\n", usage.mountpoint, usage_text(usage));
  std::string state;
  if (plan.over_high)
    state = fmt::format("at or above high {}: {} to free to reach low {}", policy.high.text, human_bytes(plan.bytes_to_free),
                        policy.low.text);
  if (plan.inode_pressure)
    state += fmt::format("{}inodes at or above inodesHigh {}%", state.empty() ? "" : "; ", policy.inodes_high);
  if (state.empty()) state = fmt::format("below high {}: nothing to free for space", policy.high.text);
  std::uint64_t planned_bytes = 0;
  std::size_t planned = 0;
  for (const auto& d : plan.images)
    if (d.remove) ++planned, planned_bytes += d.size;
  out += fmt::format("{}; next gc: {} image{} to remove ({}), {} more if needed ({})", state, planned, planned == 1 ? "" : "s",
                     human_bytes(planned_bytes), plan.reserves(), human_bytes(plan.reserve_bytes()));
  return out;
}

std::string render_gc_json(const GcOutcome& run) {
  const RunReport& r = run.report;
  const std::vector<Line> lines = run_lines(run);
  json j = {{"schemaVersion", kJsonSchemaVersion},
            {"command", "gc"},
            {"dryRun", r.dry_run},
            {"runtime", r.runtime},
            {"startedAt", time_text(r.started_at)},
            {"durationSeconds", r.duration_seconds},
            {"filesystem", {{"mountpoint", r.before.mountpoint}, {"before", usage_json(r.before)}, {"after", usage_json(r.after)}}},
            {"bytesFreed", r.bytes_freed()},
            {"plan", plan_json(run.plan, run.policy)},
            {"counts", gc_counts_json(r, count_if_needed(lines))},
            {"imagesBefore", r.images_before},
            {"stoppedAtLow", r.stopped_at_low},
            {"shortfalls", shortfalls_json(r.shortfalls)},
            {"warnings", r.warnings}};
  // Unknown (the runtime was lost before the images left could be counted): absent, not 0.
  if (r.images_after) j["imagesAfter"] = *r.images_after;
  if (!r.outage.empty()) j["runtimeOutage"] = r.outage;
  if (!r.errors.empty()) j["errors"] = r.errors;
  gc_objects_json(run, lines, j);
  return dump(j);
}

namespace {

Table gc_table(const GcOutcome& run, const std::vector<Line>& lines, const Layout& layout) {
  const bool dry = run.report.dry_run;
  const Seconds now = run.report.started_at;
  Table t{.columns = {{.header = "ACTION"},
                      {.header = "KIND", .drop = 2},
                      {.header = "ID", .drop = 3},
                      {.header = "NAME", .shrinks = true, .min_width = 20, .keep = Keep::End},
                      {.header = "SIZE", .right = true, .drop = 1},
                      {.header = "REASON", .shrinks = true, .min_width = 17}}};
  if (layout.wide) t.columns.push_back({.header = "DETAIL"});
  auto row = [&](std::string action, ObjectKind kind, const std::string& id, const std::string& name, std::string size,
                 std::string reason, const std::string& detail) {
    std::vector<std::string> cells = {std::move(action), std::string(to_string(kind)), short_id(id), name, std::move(size),
                                      std::move(reason)};
    if (layout.wide) cells.push_back(detail);
    t.rows.push_back(std::move(cells));
  };
  for (const auto& l : lines) {
    const Removal& r = l.removal;
    const std::string action = std::string(dry ? "remove" : "removed") + (l.if_needed ? "-if-needed" : "");
    row(action, r.kind, r.id, r.name, r.kind == ObjectKind::Image ? human_bytes(r.size) : "",
        l.decision ? short_reason(*l.decision, now) : std::string(to_string(r.phase)), r.reason);
  }
  for (const auto& s : run.report.skipped) row("skipped", s.kind, s.id, s.name, "", std::string(to_string(s.code)), s.reason);
  return t;
}

}  // namespace

std::string render_gc_text(const GcOutcome& run, const Layout& layout) {
  const RunReport& report = run.report;
  std::string out = fmt::format("{} {}\n", report.dry_run ? "would collect on" : "collected on", report.runtime);
  out += situation_text(run.plan, run.policy, report.before) + "\n";
  const std::vector<Line> lines = run_lines(run);
  if (lines.empty() && report.skipped.empty()) out += report.dry_run ? "nothing to remove\n" : "nothing removed\n";
  else out += render_table(gc_table(run, lines, layout), layout.wide ? 0 : layout.width);
  for (const auto& r : report.failures)
    out += fmt::format("failed: {}{}: {}\n", to_string(r.kind), r.id.empty() ? "" : " " + short_id(r.id), r.message);
  if (!report.outage.empty()) out += "RUNTIME LOST: " + report.outage + "\n";
  for (const auto& e : report.errors) out += "ERROR: " + e + "\n";
  for (const auto& s : report.shortfalls) out += "shortfall: " + s.message + "\n";
  for (const auto& w : report.warnings) out += "warning: " + w + "\n";
  if (!report.dry_run) out += fmt::format("after: {}\n", usage_text(report.after));
  return out;
}

LogEntry gc_log_entry(const GcOutcome& run) {
  const RunReport& r = run.report;
  const bool dry = r.dry_run;
  const auto n_containers = r.count(ObjectKind::Container);
  const auto n_sandboxes = r.count(ObjectKind::Sandbox);
  const auto n_images = r.count(ObjectKind::Image);
  const std::size_t if_needed = count_if_needed(run_lines(run));
  std::string message = fmt::format(
      "gc{}: {} {} containers, {} sandboxes, {} images{} ({} -> {} images); {}; {} skipped, {} failed{}",
      dry ? " (dry run)" : "", dry ? "would remove" : "removed", n_containers, n_sandboxes, n_images,
      if_needed == 0 ? "" : dry ? fmt::format(" and {} more if needed", if_needed) : fmt::format(" ({} of them if needed)", if_needed),
      r.images_before,
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
                     {"NODEIMG_IMAGES_IF_NEEDED", std::to_string(if_needed)},
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

ImagesView images_view(const Inventory& inventory, const Plan& plan, const Policy& policy, std::string runtime, Seconds now) {
  std::map<std::string, std::size_t> order;  // the plan's order: removals first (LRU), then the rest
  for (std::size_t i = 0; i < plan.images.size(); ++i) order.try_emplace(plan.images[i].id, i);
  ImagesView view{.runtime = std::move(runtime), .usage = inventory.usage, .now = now, .plan = &plan, .policy = &policy, .rows = {}};
  const auto users = containers_using(inventory.images, inventory.containers);
  std::set<std::string> seen;  // an id the runtime lists twice is one image, as the plan counts it
  for (std::size_t i = 0; i < inventory.images.size(); ++i) {
    if (!seen.insert(inventory.images[i].id).second) continue;
    ImageRow row{.image = &inventory.images[i], .decision = &plan.images.at(order.at(inventory.images[i].id)), .users = {}};
    for (const auto* c : users[i]) row.users.push_back(describe_container(*c));
    view.rows.push_back(std::move(row));
  }
  std::stable_sort(view.rows.begin(), view.rows.end(),
                   [&](const ImageRow& a, const ImageRow& b) { return order.at(a.image->id) < order.at(b.image->id); });
  return view;
}

std::string render_images_json(const ImagesView& view) {
  json out = {{"schemaVersion", kJsonSchemaVersion},
              {"command", "images"},
              {"runtime", view.runtime},
              {"filesystem", {{"mountpoint", view.usage.mountpoint}, {"usage", usage_json(view.usage)}}},
              {"plan", plan_json(*view.plan, *view.policy)},
              {"shortfalls", shortfalls_json(view.plan->shortfalls)},
              {"images", json::array()}};
  for (const auto& r : view.rows) {
    const Decision& d = *r.decision;
    json e = {{"id", r.image->id},
              {"tags", r.image->tags},
              {"digests", r.image->digests},
              {"size", r.image->size},
              {"firstSeen", time_text(d.first_seen)},
              {"lastUsed", time_text(d.last_used)},
              {"inUseBy", r.users},
              {"pinned", r.image->pinned},
              {"nextGc", to_string(next_gc(d))},
              {"lruRank", d.lru_rank == 0 ? json(nullptr) : json(d.lru_rank)},
              {"phase", phase_text(d.phase)},
              {"reason", d.reason}};
    e.update(decision_fields(&d));
    out["images"].push_back(std::move(e));
  }
  return dump(out);
}

std::string render_images_csv(const ImagesView& view) {
  std::string out = "id,tags,digests,size,first_seen,last_used,in_use_by,pinned,next_gc,code,rule,reason\n";
  for (const auto& r : view.rows)
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_quote(r.image->id),
                       csv_quote(fmt::format("{}", fmt::join(r.image->tags, " "))),
                       csv_quote(fmt::format("{}", fmt::join(r.image->digests, " "))), r.image->size,
                       time_text(r.decision->first_seen), time_text(r.decision->last_used),
                       csv_quote(fmt::format("{}", fmt::join(r.users, " "))), r.image->pinned ? "true" : "false",
                       to_string(next_gc(*r.decision)), to_string(r.decision->code), csv_quote(r.decision->rule),
                       csv_quote(r.decision->reason));
  return out;
}

namespace {

// Column widths: at 80 columns an images row keeps REFERENCE (20, cut at the front so the
// tag stays), SIZE, FIRST SEEN, NEXT GC and a REASON of 17 ("lru#12 unused 40d"); the id and
// last use come back from 88 columns on.

// The reference a row shows: the first tag (or digest, or "<none>"), and how many more.
std::string row_reference(const Image& image, bool wide) {
  std::vector<std::string> refs = image.tags;
  refs.insert(refs.end(), image.digests.begin(), image.digests.end());
  if (refs.empty()) return "<none>";
  if (wide) return fmt::format("{}", fmt::join(refs, ","));
  const std::string first = image.tags.empty() ? refs.front() : image.tags.front();
  return image.tags.size() > 1 ? fmt::format("{} (+{})", first, image.tags.size() - 1) : first;
}

Table images_table(const ImagesView& view, const Layout& layout) {
  const bool wide = layout.wide;
  Table t{.columns = {{.header = "IMAGE ID", .drop = 3},
                      {.header = "REFERENCE", .shrinks = true, .min_width = 20, .keep = Keep::End},
                      {.header = "SIZE", .right = true, .drop = 1},
                      {.header = "FIRST SEEN", .right = true, .drop = 2},
                      {.header = "LAST USED", .right = true, .drop = 4},
                      {.header = "NEXT GC"},
                      {.header = "REASON", .shrinks = true, .min_width = 17}}};
  if (wide) {
    t.columns.insert(t.columns.begin() + 5, Column{.header = "IN USE BY"});
    t.columns.push_back({.header = "DETAIL"});
  }
  for (const auto& r : view.rows) {
    const Decision& d = *r.decision;
    auto when = [&](Seconds at) { return wide ? time_text(at) : compact_age(view.now - at) + " ago"; };
    std::vector<std::string> cells = {short_id(r.image->id), row_reference(*r.image, wide), human_bytes(r.image->size),
                                      when(d.first_seen), when(d.last_used)};
    if (wide) cells.push_back(fmt::format("{}", fmt::join(r.users, ",")));
    cells.push_back(std::string(to_string(next_gc(d))));
    cells.push_back(short_reason(d, view.now));
    if (wide) cells.push_back(d.reason);
    t.rows.push_back(std::move(cells));
  }
  return t;
}

}  // namespace

std::string render_images_text(const ImagesView& view, const Layout& layout) {
  std::string out = fmt::format("{} images on {}\n", view.rows.size(), view.runtime);
  out += situation_text(*view.plan, *view.policy, view.usage) + "\n";
  if (!view.rows.empty()) out += render_table(images_table(view, layout), layout.wide ? 0 : layout.width);
  for (const auto& s : view.plan->shortfalls) out += "shortfall: " + s.message + "\n";
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
  json out = {{"schemaVersion", kJsonSchemaVersion}, {"command", "prepull"}, {"present", c.present}, {"pulled", c.pulled}, {"failed", c.failed}, {"images", json::array()}};
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
