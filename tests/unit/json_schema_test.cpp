// docs/schema/*.json against the renderers' real documents, and the validator itself
// (tests/support/json_schema.hpp) against documents that must fail. The binary's own
// outputs are validated end to end in tests/e2e/json_output_test.cpp.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/gc/planner.hpp"
#include "core/gc/render.hpp"
#include "support/json_schema.hpp"

namespace nodeimg::gc {
namespace {

using nlohmann::json;
using testing::SchemaValidator;

constexpr Seconds kNow = 1'764'000'000;
constexpr std::uint64_t kGiB = 1ULL << 30;

json schema(const std::string& name) {
  std::ifstream in(std::string(NODEIMG_FIXTURES) + "/../../docs/schema/" + name + ".json");
  EXPECT_TRUE(in.good()) << name;
  return json::parse(in);
}

std::string joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) out += e + "\n";
  return out;
}

// A node with a removal, a reserve, protected images and a shortfall-free plan.
struct Node {
  Inventory inv;
  History history;
  Policy policy;
  Plan plan;
  Node() {
    for (int i = 0; i < 6; ++i) {
      const std::string id = "sha256:" + std::string(63, 'a') + std::to_string(i);
      inv.images.push_back({.id = id, .tags = {"reg.test/app:" + std::to_string(i)}, .size = 8 * kGiB, .pinned = i == 5});
      history[id] = {.first_seen = kNow - 90 * 86400, .last_used = kNow - (10 - i) * 86400};
    }
    inv.containers = {{.id = "c1", .name = "web", .image = "reg.test/app:4", .state = ContainerState::Running}};
    inv.usage = {.mountpoint = "/var/lib/containerd", .size_bytes = 100 * kGiB, .available_bytes = 20 * kGiB, .inodes = 10,
                 .inodes_free = 9};
    policy.keep = {*ReferencePattern::parse("reg.test/app:3")};
    plan = plan_collection(inv, history, policy, kNow);
  }
};

TEST(JsonSchema, ValidatorRejectsWhatTheSchemaForbids) {
  const SchemaValidator v(json::parse(R"({"type": "object", "required": ["a"], "additionalProperties": false,
    "properties": {"a": {"enum": ["x", "y"]}, "b": {"type": "array", "items": {"$ref": "#/$defs/n"}}},
    "$defs": {"n": {"type": "integer", "minimum": 0}}})"));
  EXPECT_TRUE(v.validate(json::parse(R"({"a": "x", "b": [0, 3]})")).empty());
  EXPECT_EQ(v.validate(json::parse(R"({"b": []})")).size(), 1u);           // required
  EXPECT_EQ(v.validate(json::parse(R"({"a": "z"})")).size(), 1u);          // enum
  EXPECT_EQ(v.validate(json::parse(R"({"a": "x", "c": 1})")).size(), 1u);  // additionalProperties
  EXPECT_EQ(v.validate(json::parse(R"({"a": "x", "b": [-1, "s"]})")).size(), 2u);  // minimum, type through $ref
  EXPECT_FALSE(SchemaValidator(json::parse(R"({"pattern": "x"})")).validate(json("s")).empty()) << "unknown keywords fail";
}

TEST(JsonSchema, EverySchemaIsWellFormedAndTheErrorDocumentMatchesItsOwn) {
  for (const auto* name : {"gc", "images", "prepull", "doctor", "kubelet-status", "kubelet-apply", "kubelet-revert", "error"}) {
    const json s = schema(name);
    EXPECT_EQ(s["properties"]["schemaVersion"]["const"], 1) << name;
    EXPECT_NE(std::find(s["required"].begin(), s["required"].end(), "schemaVersion"), s["required"].end()) << name;
  }
  const SchemaValidator error(schema("error"));
  EXPECT_TRUE(error.validate(json::parse(R"({"schemaVersion": 1, "error": "no runtime", "exitCode": 1})")).empty());
  EXPECT_FALSE(error.validate(json::parse(R"({"error": "no runtime", "exitCode": 1})")).empty());
}

TEST(JsonSchema, GcDocumentsOfADryRunAndARealRunMatchTheSchema) {
  const Node node;
  const SchemaValidator v(schema("gc"));
  RunReport dry{.dry_run = true, .runtime = "fake", .started_at = kNow, .before = node.inv.usage, .after = node.inv.usage,
                .images_before = 6, .shortfalls = node.plan.shortfalls};
  for (const auto& d : node.plan.images)
    if (d.remove) dry.removed.push_back({.id = d.id, .name = d.name, .size = d.size, .phase = *d.phase, .reason = d.reason});
  const json dry_doc = json::parse(render_gc_json({.report = dry, .plan = node.plan, .policy = node.policy}));
  EXPECT_EQ(joined(v.validate(dry_doc)), "") << dry_doc.dump(2);
  EXPECT_GT(dry_doc["counts"]["imagesIfNeeded"].get<int>(), 0) << "the node has reserves: " << dry_doc.dump(2);

  RunReport real = dry;
  real.dry_run = false;
  real.skipped = {{.id = "sha256:x", .name = "n", .reason = "came into use since the plan", .code = SkipCode::CameIntoUse}};
  real.failures = {{.id = "sha256:y", .message = "boom"}};
  real.removed.push_back({.kind = ObjectKind::Container, .id = "c0", .name = "job", .phase = Phase::ExitedContainer, .reason = "exited"});
  real.shortfalls = {{.kind = Shortfall::Kind::Low, .message = "low", .needed_bytes = 1, .protected_by = node.plan.protected_by},
                     {.kind = Shortfall::Kind::MaxImages, .message = "max", .remaining = 2}};
  const json real_doc = json::parse(render_gc_json({.report = real, .plan = node.plan, .policy = node.policy}));
  EXPECT_EQ(joined(v.validate(real_doc)), "") << real_doc.dump(2);
  json broken = real_doc;
  broken["kept"][0]["code"] = "because";
  EXPECT_FALSE(v.validate(broken).empty()) << "an unknown reason code is caught";
}

TEST(JsonSchema, ImagesAndPrepullDocumentsMatchTheirSchemas) {
  const Node node;
  const json images = json::parse(render_images_json(images_view(node.inv, node.plan, node.policy, "fake", kNow)));
  EXPECT_EQ(joined(SchemaValidator(schema("images")).validate(images)), "") << images.dump(2);
  auto items = prepull_items({"reg.test/app:1", "reg.test/new:1", "reg.test/broken:1"}, node.inv.images);
  items[2].status = PrepullItem::Status::Failed;
  items[2].detail = "pull: not found";
  const json prepull = json::parse(render_prepull_json(items));
  EXPECT_EQ(joined(SchemaValidator(schema("prepull")).validate(prepull)), "") << prepull.dump(2);
}

}  // namespace
}  // namespace nodeimg::gc
