// What `nodeimg gc`, `images` and `prepull` print and log, as pure functions of their
// results (core/gc/render): text, JSON, CSV and the journal fields.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/gc/planner.hpp"
#include "core/gc/render.hpp"

namespace nodeimg::gc {
namespace {

using nlohmann::json;

constexpr Seconds kNow = 1'764'000'000;
constexpr std::uint64_t kGiB = 1ULL << 30;

std::string id_of(char c) { return "sha256:" + std::string(64, c); }

FilesystemUsage disk(std::uint64_t available) {
  return {.mountpoint = "/var/lib/containerd", .size_bytes = 100 * kGiB, .available_bytes = available, .inodes = 1000,
          .inodes_free = 900};
}

// A run that removed one image and a container, skipped one image, failed on another.
struct Fixture {
  Policy policy;
  Plan plan;
  RunReport report{.dry_run = false,
                   .runtime = "containerd 1.6.20 (cri unix:///run/containerd/containerd.sock)",
                   .started_at = kNow,
                   .duration_seconds = 1.5,
                   .before = disk(20 * kGiB),
                   .after = disk(25 * kGiB),
                   .images_before = 4,
                   .images_after = 2};
  Fixture() {
    report.removed = {{.kind = ObjectKind::Image, .id = id_of('a'), .name = "reg.test/old:1", .size = 5 * kGiB,
                       .phase = Phase::Threshold, .reason = "least recently used"},
                      {.kind = ObjectKind::Container, .id = "c0ffee", .name = "job", .phase = Phase::ExitedContainer,
                       .reason = "exited, created 2h0m ago"}};
    report.skipped = {{.kind = ObjectKind::Image, .id = id_of('b'), .name = "reg.test/late:1", .reason = "came into use"}};
    report.failures = {{.kind = ObjectKind::Image, .id = id_of('c'), .message = "remove image: Internal: boom"}};
    report.shortfalls = {{.kind = Shortfall::Kind::MaxImages, .message = "maxImages 1: 2 images would remain"}};
    report.warnings = {"re-measure the image filesystem after a batch of removals: EIO"};
    plan.images = {Decision{.id = id_of('d'), .name = "reg.test/kept:1", .reason = "pinned by the runtime"}};
    plan.images_after = 2;
  }
  GcOutcome outcome() const { return {.report = report, .plan = plan, .policy = policy}; }
};

TEST(RenderGc, JsonCarriesCountsObjectsShortfallsAndWarnings) {
  const Fixture f;
  const json j = json::parse(render_gc_json(f.outcome()));
  EXPECT_EQ(j["command"], "gc");
  EXPECT_EQ(j["startedAt"], "2025-11-24T16:00:00Z");
  EXPECT_EQ(j["filesystem"]["mountpoint"], "/var/lib/containerd");
  EXPECT_EQ(j["bytesFreed"], 5 * kGiB);
  EXPECT_EQ(j["counts"]["imagesRemoved"], 1);
  EXPECT_EQ(j["counts"]["containersRemoved"], 1);
  EXPECT_EQ(j["counts"]["skipped"], 1);
  EXPECT_EQ(j["counts"]["failures"], 1);
  EXPECT_EQ(j["shortfalls"], json::array({"maxImages 1: 2 images would remain"}));
  EXPECT_EQ(j["warnings"].size(), 1u);
  EXPECT_EQ(j["removed"][0]["phase"], "threshold");
  EXPECT_EQ(j["kept"][0]["reason"], "pinned by the runtime");
  EXPECT_EQ(j["plan"]["high"], "75%");
}

TEST(RenderGc, TextSaysWhatWasDoneLineByLine) {
  const Fixture f;
  const std::string text = render_gc_text(f.outcome());
  EXPECT_NE(text.find("collected on containerd 1.6.20"), std::string::npos) << text;
  EXPECT_NE(text.find("  removed image     aaaaaaaaaaaa reg.test/old:1"), std::string::npos) << text;
  EXPECT_NE(text.find("5.0 GiB  [threshold] least recently used"), std::string::npos) << text;
  EXPECT_NE(text.find("  skipped image     bbbbbbbbbbbb reg.test/late:1"), std::string::npos) << text;
  EXPECT_NE(text.find("  FAILED  image     remove image: Internal: boom"), std::string::npos) << text;
  EXPECT_NE(text.find("  shortfall: maxImages 1"), std::string::npos) << text;
  EXPECT_NE(text.find("  warning: re-measure"), std::string::npos) << text;
  EXPECT_NE(text.find("after: 75.0% used (25.0 GiB free of 100.0 GiB)"), std::string::npos) << text;
}

TEST(RenderGc, DryRunTextSaysWouldAndHasNoAfter) {
  Fixture f;
  f.report.dry_run = true;
  const std::string text = render_gc_text(f.outcome());
  EXPECT_NE(text.find("would collect on"), std::string::npos) << text;
  EXPECT_NE(text.find("  would remove image"), std::string::npos) << text;
  EXPECT_EQ(text.find("after:"), std::string::npos) << text;
}

TEST(RenderGc, LogEntryIsAnErrorWhenSomethingFailedAndCarriesTheFields) {
  Fixture f;
  LogEntry e = gc_log_entry(f.outcome());
  EXPECT_TRUE(e.failed);
  EXPECT_EQ(e.message,
            "gc: removed 1 containers, 0 sandboxes, 1 images (4 -> 2 images); freed 5.0 GiB (disk 80.0% -> 75.0% used); "
            "1 skipped, 1 failed; shortfall: maxImages 1: 2 images would remain");
  std::map<std::string, std::string> fields;
  for (const auto& [name, value] : e.fields) fields[name] = value;
  EXPECT_EQ(fields["NODEIMG_COMMAND"], "gc");
  EXPECT_EQ(fields["NODEIMG_DRY_RUN"], "0");
  EXPECT_EQ(fields["NODEIMG_IMAGES_REMOVED"], "1");
  EXPECT_EQ(fields["NODEIMG_BYTES_FREED"], std::to_string(5 * kGiB));
  EXPECT_EQ(fields["NODEIMG_USED_PERCENT_BEFORE"], "80.0");
  EXPECT_EQ(fields["NODEIMG_SHORTFALL"], "1");
  f.report.failures.clear();
  EXPECT_FALSE(gc_log_entry(f.outcome()).failed);
}

TEST(RenderImages, RowsFollowThePlanAndCsvQuotesEveryTextField) {
  Inventory inv;
  inv.usage = disk(50 * kGiB);
  inv.images = {{.id = id_of('a'), .tags = {"reg.test/used:1"}, .size = kGiB},
                {.id = id_of('b'), .tags = {"reg.test/b:2", "reg.test/say \"hi\":1"}, .size = 2 * kGiB}};
  inv.containers = {{.id = "c1", .name = "web", .image = "reg.test/used:1", .state = ContainerState::Running}};
  Policy policy;
  policy.min_age = 0;
  policy.max_images = 1;
  const Plan plan = plan_collection(inv, {}, policy, kNow);
  const ImagesView view = images_view(inv, plan, "fake 1 (cri unix:///x)", kNow);
  ASSERT_EQ(view.rows.size(), 2u);
  EXPECT_EQ(view.rows[0].image->id, id_of('b')) << "the removal comes first";
  EXPECT_EQ(view.rows[1].users, std::vector<std::string>{"web (running)"});

  const std::string csv = render_images_csv(view);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "id,tags,digests,size,first_seen,last_used,in_use_by,pinned,next_gc,reason");
  EXPECT_NE(csv.find(",\"reg.test/b:2 reg.test/say \"\"hi\"\":1\","), std::string::npos) << csv;
  EXPECT_NE(csv.find(",2025-11-24T16:00:00Z,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",false,remove,"), std::string::npos) << csv;

  const json j = json::parse(render_images_json(view));
  EXPECT_EQ(j["images"][1]["inUseBy"], json::array({"web (running)"}));
  EXPECT_EQ(j["images"][0]["nextGc"], "remove");
  EXPECT_EQ(j["images"][0]["phase"], "max-images");
  EXPECT_EQ(j["images"][1]["phase"], "");

  const std::string text = render_images_text(view);
  EXPECT_NE(text.find("2 images on fake 1 (cri unix:///x)"), std::string::npos) << text;
  EXPECT_NE(text.find("reg.test/b:2 (+1)"), std::string::npos) << text;
  EXPECT_NE(text.find("in use"), std::string::npos) << text;
}

TEST(RenderPrepull, PresentPulledAndFailedAreCountedAndAFailureFails) {
  const std::vector<Image> images = {{.id = id_of('a'), .tags = {"docker.io/library/busybox:1.36"}}};
  auto items = prepull_items({"busybox:1.36", "reg.test/new:1", "reg.test/broken:1"}, images);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].status, PrepullItem::Status::Present);
  EXPECT_EQ(items[0].detail, id_of('a'));
  EXPECT_EQ(items[1].status, PrepullItem::Status::Pending);
  items[1].status = PrepullItem::Status::Pulled;
  items[1].detail = id_of('b');
  items[2].status = PrepullItem::Status::Failed;
  items[2].detail = "pull: not found";

  const json j = json::parse(render_prepull_json(items));
  EXPECT_EQ(j["present"], 1);
  EXPECT_EQ(j["pulled"], 1);
  EXPECT_EQ(j["failed"], 1);
  EXPECT_EQ(j["images"][2]["error"], "pull: not found");
  EXPECT_EQ(j["images"][1]["id"], id_of('b'));
  EXPECT_EQ(render_prepull_text(items).substr(0, 22), "present  busybox:1.36 ");
  const LogEntry e = prepull_log_entry(items);
  EXPECT_TRUE(e.failed);
  EXPECT_EQ(e.message, "prepull: 3 images: 1 present, 1 pulled, 1 failed");
  items.pop_back();
  EXPECT_FALSE(prepull_log_entry(items).failed);
}

TEST(RenderPieces, ShortIdsAndCsvQuoting) {
  EXPECT_EQ(short_id(id_of('f')), "ffffffffffff");
  EXPECT_EQ(short_id("c0ffee"), "c0ffee");
  EXPECT_EQ(csv_quote("a\"b,c"), "\"a\"\"b,c\"");
}

}  // namespace
}  // namespace nodeimg::gc
