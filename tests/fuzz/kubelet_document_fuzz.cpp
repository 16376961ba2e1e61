// The kubelet YAML/JSON patcher. Invariant: for any input, either parsing or editing
// refuses it (an error value, never a crash), or the edit that the product would write
// (set_values accepted and verify_edit passed) re-parses, as an independent parse, to the
// same data except the managed keys, which hold exactly the values asked for.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/kubelet/document.hpp"
#include "fuzz_support.hpp"

using nodeimg::fuzz::require;
namespace kubelet = nodeimg::kubelet;

namespace {

// The values nodeimg manages, varied by the input's last byte (the whole input is the
// file, so fixture files seed the corpus as they are) so that adding a key,
// changing one and changing several are all reached.
kubelet::Values managed_values(std::uint8_t selector) {
  kubelet::Values values;
  values.push_back({.name = "nodeStatusMaxImages", .value = kubelet::Json(static_cast<int>(selector % 4) * 50 - 1)});
  if (selector & 0x10) values.push_back({.name = "imageGCHighThresholdPercent", .value = kubelet::Json(85)});
  if (selector & 0x20) values.push_back({.name = "imageGCLowThresholdPercent", .value = kubelet::Json(80)});
  if (selector & 0x40) values.push_back({.name = "imageMinimumGCAge", .value = kubelet::Json("2m0s")});
  return values;
}

void check_edit(const kubelet::Document& before, const std::string& after,
                const kubelet::Values& values) {
  auto reparsed = kubelet::parse_document("fuzz", after);
  require(reparsed.has_value(), "an accepted edit re-parses");
  kubelet::Json expected = before.data;
  for (const auto& [key, value] : values) expected[key] = value;
  require(reparsed->data == expected, "an accepted edit changes only the managed keys, to the values asked for");
  require(reparsed->format == before.format, "an accepted edit keeps the file's format");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto values = managed_values(data[size - 1]);
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto doc = kubelet::parse_document("fuzz", text);
  if (!doc) return 0;
  (void)kubelet::require_kubelet_configuration(*doc);
  auto edited = kubelet::set_values(*doc, values);
  if (!edited) return 0;
  if (!kubelet::verify_edit(*doc, *edited, values)) return 0;  // refused: nothing written
  check_edit(*doc, *edited, values);
  // Editing again with the same values changes nothing (apply is idempotent).
  auto again_doc = kubelet::parse_document("fuzz", *edited);
  auto again = kubelet::set_values(*again_doc, values);
  require(again.has_value() && *again == *edited, "a second edit with the same values is a no-op");
  return 0;
}
