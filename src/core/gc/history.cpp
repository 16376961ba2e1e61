#include "core/gc/history.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace nodeimg::gc {

std::string serialize_history(const History& history, Seconds now) {
  nlohmann::json images = nlohmann::json::object();
  for (const auto& [id, h] : history) images[id] = {{"firstSeen", h.first_seen}, {"lastUsed", h.last_used}};
  nlohmann::json doc = {{"version", kHistoryVersion}, {"updatedAt", now}, {"images", std::move(images)}};
  return doc.dump(2) + "\n";
}

namespace {

Result<Seconds> time_field(const nlohmann::json& entry, std::string_view id, const char* field) {
  auto it = entry.find(field);
  if (it == entry.end()) return fail(fmt::format("history: image {}: missing \"{}\"", id, field));
  if (!it->is_number_integer()) return fail(fmt::format("history: image {}: \"{}\" must be an integer (unix seconds), not {}", id, field, it->dump()));
  const auto v = it->get<std::int64_t>();
  if (v < 0) return fail(fmt::format("history: image {}: \"{}\" must not be negative, not {}", id, field, v));
  return v;
}

}  // namespace

Result<History> parse_history(std::string_view text) {
  const nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return fail("history: not valid JSON");
  if (!doc.is_object()) return fail("history: the top level must be an object");
  const auto version = doc.find("version");
  if (version == doc.end()) return fail("history: missing \"version\"");
  if (!version->is_number_integer() || version->get<std::int64_t>() != kHistoryVersion)
    return fail(fmt::format("history: unsupported version {} (this nodeimg reads version {})", version->dump(), kHistoryVersion));
  const auto images = doc.find("images");
  if (images == doc.end()) return fail("history: missing \"images\"");
  if (!images->is_object()) return fail("history: \"images\" must be an object");
  History out;
  for (const auto& [id, entry] : images->items()) {
    if (id.empty()) return fail("history: an image with an empty id");
    if (!entry.is_object()) return fail(fmt::format("history: image {}: must be an object", id));
    auto first = time_field(entry, id, "firstSeen");
    if (!first) return std::unexpected(first.error());
    auto last = time_field(entry, id, "lastUsed");
    if (!last) return std::unexpected(last.error());
    out[id] = ImageHistory{*first, *last};
  }
  return out;
}

}  // namespace nodeimg::gc
