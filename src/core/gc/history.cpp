#include "core/gc/history.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace nodeimg::gc {

namespace {

nlohmann::json totals_json(const RunTotals& t) {
  nlohmann::json j = {{"runs", {{"success", t.runs_success}, {"failure", t.runs_failure}}},
                      {"removed", {{"container", t.removed_containers}, {"sandbox", t.removed_sandboxes},
                                   {"image", t.removed_images}}},
                      {"freedBytes", t.freed_bytes}};
  if (t.last_run_finished_at > 0)
    j["lastRun"] = {{"finishedAt", t.last_run_finished_at}, {"success", t.last_run_success}};
  return j;
}

Result<Seconds> time_field(const nlohmann::json& entry, std::string_view id, const char* field) {
  auto it = entry.find(field);
  if (it == entry.end()) return fail(fmt::format("history: image {}: missing \"{}\"", id, field));
  if (!it->is_number_integer()) return fail(fmt::format("history: image {}: \"{}\" must be an integer (unix seconds), not {}", id, field, it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  const auto v = it->get<std::int64_t>();
  if (v < 0) return fail(fmt::format("history: image {}: \"{}\" must not be negative, not {}", id, field, v));
  return v;
}

// A counter at `path` (e.g. runs.success): absent is 0; anything but a non-negative integer is an error.
Result<std::uint64_t> counter(const nlohmann::json& totals, std::string_view group, std::string_view name) {
  const nlohmann::json* node = &totals;
  std::string path(name);
  if (!group.empty()) {
    const auto g = totals.find(group);
    if (g == totals.end()) return 0;
    if (!g->is_object()) return fail(fmt::format("history: totals.{} must be an object", group));
    node = &*g;
    path = fmt::format("{}.{}", group, name);
  }
  const auto v = node->find(name);
  if (v == node->end()) return 0;
  if (!v->is_number_unsigned()) return fail(fmt::format("history: totals.{} must be a non-negative integer, not {}", path, v->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  return v->get<std::uint64_t>();
}

Result<RunTotals> parse_totals(const nlohmann::json& j) {
  if (!j.is_object()) return fail("history: \"totals\" must be an object");
  RunTotals t;
  for (auto [group, name, slot] : {std::tuple{"runs", "success", &t.runs_success}, std::tuple{"runs", "failure", &t.runs_failure},
                                   std::tuple{"removed", "container", &t.removed_containers},
                                   std::tuple{"removed", "sandbox", &t.removed_sandboxes},
                                   std::tuple{"removed", "image", &t.removed_images}, std::tuple{"", "freedBytes", &t.freed_bytes}}) {
    auto v = counter(j, group, name);
    if (!v) return std::unexpected(v.error());
    *slot = *v;
  }
  if (const auto last = j.find("lastRun"); last != j.end()) {
    const auto at = last->is_object() ? last->find("finishedAt") : last->end();
    const auto ok = last->is_object() ? last->find("success") : last->end();
    if (!last->is_object() || at == last->end() || !at->is_number_unsigned() || ok == last->end() || !ok->is_boolean())
      return fail("history: totals.lastRun must be {\"finishedAt\": unix seconds, \"success\": true|false}");
    t.last_run_finished_at = at->get<Seconds>();
    t.last_run_success = ok->get<bool>();
  }
  return t;
}

}  // namespace

std::string serialize_state(const History& history, const RunTotals& totals, Seconds now) {
  nlohmann::json images = nlohmann::json::object();
  for (const auto& [id, h] : history) images[id] = {{"firstSeen", h.first_seen}, {"lastUsed", h.last_used}};
  nlohmann::json doc = {{"version", kHistoryVersion}, {"updatedAt", now}, {"images", std::move(images)},
                        {"totals", totals_json(totals)}};
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string serialize_history(const History& history, Seconds now) { return serialize_state(history, {}, now); }

Result<State> parse_state(std::string_view text) {
  const nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return fail("history: not valid JSON");
  if (!doc.is_object()) return fail("history: the top level must be an object");
  const auto version = doc.find("version");
  if (version == doc.end()) return fail("history: missing \"version\"");
  // Version 1 is version 2 without totals.
  if (!version->is_number_integer() || version->get<std::int64_t>() < 1 || version->get<std::int64_t>() > kHistoryVersion)
    return fail(fmt::format("history: unsupported version {} (this nodeimg reads versions 1 to {})", version->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), kHistoryVersion));
  const auto images = doc.find("images");
  if (images == doc.end()) return fail("history: missing \"images\"");
  if (!images->is_object()) return fail("history: \"images\" must be an object");
  State out;
  for (const auto& [id, entry] : images->items()) {
    if (id.empty()) return fail("history: an image with an empty id");
    if (!entry.is_object()) return fail(fmt::format("history: image {}: must be an object", id));
    auto first = time_field(entry, id, "firstSeen");
    if (!first) return std::unexpected(first.error());
    auto last = time_field(entry, id, "lastUsed");
    if (!last) return std::unexpected(last.error());
    out.history[id] = ImageHistory{*first, *last};
  }
  if (const auto totals = doc.find("totals"); totals != doc.end()) {
    auto t = parse_totals(*totals);
    if (!t) return std::unexpected(t.error());
    out.totals = *t;
  }
  return out;
}

Result<History> parse_history(std::string_view text) {
  auto s = parse_state(text);
  if (!s) return std::unexpected(s.error());
  return std::move(s->history);
}

}  // namespace nodeimg::gc
