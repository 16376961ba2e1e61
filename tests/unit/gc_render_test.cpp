// What `nodeimg gc`, `images` and `prepull` print and log, as pure functions of their
// results (core/gc/render): text, JSON, CSV and the journal fields.
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/files.hpp"
#include <nlohmann/json.hpp>

#include "core/gc/planner.hpp"
#include "core/gc/render.hpp"
#include "core/gc/table.hpp"

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
    plan.images = {Decision{.id = id_of('d'), .name = "reg.test/kept:1", .reason = "pinned by the runtime",
                            .code = ReasonCode::Pinned}};
    plan.images_after = 2;
  }
  GcOutcome outcome() const { return {.report = report, .plan = plan, .policy = policy}; }
};

TEST(RenderGc, JsonCarriesCountsObjectsShortfallsAndWarnings) {
  const Fixture f;
  const json j = json::parse(render_gc_json(f.outcome()));
  EXPECT_EQ(j["schemaVersion"], 1);
  EXPECT_EQ(j["command"], "gc");
  EXPECT_EQ(j["startedAt"], "2025-11-24T16:00:00Z");
  EXPECT_EQ(j["filesystem"]["mountpoint"], "/var/lib/containerd");
  EXPECT_EQ(j["bytesFreed"], 5 * kGiB);
  EXPECT_EQ(j["counts"]["imagesRemoved"], 1);
  EXPECT_EQ(j["counts"]["containersRemoved"], 1);
  EXPECT_EQ(j["counts"]["skipped"], 1);
  EXPECT_EQ(j["counts"]["failures"], 1);
  EXPECT_EQ(j["shortfalls"][0]["message"], "maxImages 1: 2 images would remain");
  EXPECT_EQ(j["shortfalls"][0]["kind"], "max-images");
  EXPECT_EQ(j["warnings"].size(), 1u);
  EXPECT_EQ(j["removed"][0]["phase"], "threshold");
  EXPECT_EQ(j["kept"][0]["reason"], "pinned by the runtime");
  EXPECT_EQ(j["kept"][0]["code"], "pinned");
  EXPECT_EQ(j["kept"][0]["nextGc"], "protected");
  EXPECT_EQ(j["plan"]["high"], "75%");
}

TEST(RenderGc, TextSaysWhatWasDoneLineByLine) {
  const Fixture f;
  const std::string text = render_gc_text(f.outcome());
  EXPECT_NE(text.find("collected on containerd 1.6.20"), std::string::npos) << text;
  EXPECT_NE(text.find("removed  image      aaaaaaaaaaaa  reg.test/old:1"), std::string::npos) << text;
  EXPECT_NE(text.find("5.0 GiB  threshold"), std::string::npos) << "no decision in the plan: the phase\n" << text;
  EXPECT_NE(text.find("skipped  image      bbbbbbbbbbbb  reg.test/late:1"), std::string::npos) << text;
  EXPECT_NE(text.find("\nfailed: image cccccccccccc: remove image: Internal: boom\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nshortfall: maxImages 1"), std::string::npos) << text;
  EXPECT_NE(text.find("\nwarning: re-measure"), std::string::npos) << text;
  EXPECT_NE(text.find("after: 75.0% used (25.0 GiB free of 100.0 GiB)"), std::string::npos) << text;
}

TEST(RenderGc, DryRunTextSaysWouldAndHasNoAfter) {
  Fixture f;
  f.report.dry_run = true;
  const std::string text = render_gc_text(f.outcome());
  EXPECT_NE(text.find("would collect on"), std::string::npos) << text;
  EXPECT_NE(text.find("\nremove   image"), std::string::npos) << text;
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
  const ImagesView view = images_view(inv, plan, policy, "fake 1 (cri unix:///x)", kNow);
  ASSERT_EQ(view.rows.size(), 2u);
  EXPECT_EQ(view.rows[0].image->id, id_of('b')) << "the removal comes first";
  EXPECT_EQ(view.rows[1].users, std::vector<std::string>{"web (running)"});

  const std::string csv = render_images_csv(view);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "id,tags,digests,size,first_seen,last_used,in_use_by,pinned,next_gc,code,rule,reason");
  EXPECT_NE(csv.find(",\"reg.test/b:2 reg.test/say \"\"hi\"\":1\","), std::string::npos) << csv;
  EXPECT_NE(csv.find(",2025-11-24T16:00:00Z,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",false,remove,max-images,\"\","), std::string::npos) << csv;
  EXPECT_NE(csv.find(",false,protected,in-use,\"web\","), std::string::npos) << csv;

  const json j = json::parse(render_images_json(view));
  EXPECT_EQ(j["images"][1]["inUseBy"], json::array({"web (running)"}));
  EXPECT_EQ(j["images"][0]["nextGc"], "remove");
  EXPECT_EQ(j["images"][0]["phase"], "max-images");
  EXPECT_EQ(j["images"][1]["phase"], "");
  EXPECT_EQ(j["images"][1]["nextGc"], "protected");
  EXPECT_EQ(j["images"][1]["code"], "in-use");
  EXPECT_EQ(j["images"][1]["rule"], "web");
  EXPECT_EQ(j["images"][0]["lruRank"], 1);
  EXPECT_EQ(j["schemaVersion"], 1);

  const std::string text = render_images_text(view);
  EXPECT_NE(text.find("2 images on fake 1 (cri unix:///x)"), std::string::npos) << text;
  EXPECT_NE(text.find("reg.test/b:2 (+1)"), std::string::npos) << text;
  EXPECT_NE(text.find("in-use"), std::string::npos) << text;
  EXPECT_NE(text.find("FIRST SEEN"), std::string::npos) << text;
  EXPECT_EQ(text.find(" AGE "), std::string::npos) << text;
}

// ---- golden tables: what an operator sees at 80 and 120 columns, and with -o wide ----

constexpr std::uint64_t kMiB = 1ULL << 20;

// A node as an operator meets it: over high, every kind of protection, planned removals and
// a reserve, a reference of 200 characters and a non-ASCII tag.
struct Node {
  Inventory inv;
  History history;
  Policy policy;
  Plan plan;
  Node() {
    const std::string long_ref = "registry.example.com/platform-team/" + std::string(150, 'x') + "/batch-worker:v1.2.3";
    auto image = [&](char c, std::vector<std::string> tags, std::uint64_t size, Seconds first_seen_ago, Seconds unused) {
      inv.images.push_back({.id = id_of(c), .tags = std::move(tags), .size = size});
      history[id_of(c)] = {.first_seen = kNow - first_seen_ago, .last_used = kNow - unused};
    };
    const Seconds day = 86400;
    image('a', {"docker.io/library/old:1"}, 600 * kMiB, 60 * day, 40 * day);
    image('b', {long_ref}, 500 * kMiB, 50 * day, 23 * day);
    image('c', {"reg.test/café:ü-1", "reg.test/cafe:1"}, 450 * kMiB, 30 * day, 10 * day);
    image('d', {"reg.test/app:2"}, 100 * kMiB, 20 * day, 2 * day);
    image('e', {"reg.test/pinned:1"}, 50 * kMiB, 90 * day, 90 * day);
    inv.images.back().pinned = true;
    image('f', {"registry.k8s.io/pause:3.9"}, kMiB, 90 * day, 90 * day);
    image('g', {"reg.test/web:1"}, 120 * kMiB, 9 * day, 9 * day);
    image('h', {"reg.test/keepme:1"}, 80 * kMiB, 70 * day, 70 * day);
    image('i', {"reg.test/prepulled:1"}, 90 * kMiB, 80 * day, 80 * day);
    image('j', {"reg.test/young:1"}, 70 * kMiB, 600, 600);
    inv.sandbox_images = {"registry.k8s.io/pause:3.9"};
    inv.containers = {{.id = "c0ffee01", .name = "web", .image = "reg.test/web:1", .state = ContainerState::Running,
                       .created_at = kNow - 9 * day},
                      {.id = "c0ffee02", .name = "job-1", .image = "docker.io/library/old:1", .state = ContainerState::Exited,
                       .created_at = kNow - 3 * 3600}};
    inv.usage = disk(2 * kGiB);
    inv.usage.size_bytes = 10 * kGiB;  // 80% used: over high 75%, 1.5 GiB to free to reach low 65%, which the
                                       // three least recently used images (1.5 GiB) cover by their sizes
    policy.keep = {*ReferencePattern::parse("reg.test/keepme:*")};
    policy.prepull = {"reg.test/prepulled:1"};
    plan = plan_collection(inv, history, policy, kNow);
  }
  RunReport dry_run() const {
    RunReport r{.dry_run = true, .runtime = "containerd 1.7.24 (cri unix:///run/containerd/containerd.sock)",
                .started_at = kNow, .before = inv.usage, .after = inv.usage, .images_before = inv.images.size()};
    for (const auto* list : {&plan.containers, &plan.sandboxes, &plan.images})
      for (const auto& d : *list)
        if (d.remove)
          r.removed.push_back({.kind = list == &plan.images ? ObjectKind::Image : ObjectKind::Container, .id = d.id,
                               .name = d.name, .size = d.size, .phase = *d.phase, .reason = d.reason});
    return r;
  }
};

using testing::lines_of;

// Compares with tests/fixtures/golden/NAME; NODEIMG_UPDATE_GOLDEN=1 rewrites the file
// (review the diff before committing it).
void expect_golden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(NODEIMG_FIXTURES) + "/golden/" + name;
  if (std::getenv("NODEIMG_UPDATE_GOLDEN")) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  const std::string expected((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(actual, expected) << "differs from " << path << " (NODEIMG_UPDATE_GOLDEN=1 rewrites it)";
}

// Table lines fit; the header lines above a table (runtime, filesystem, situation) and the
// shortfall lines below are sentences, left whole for the terminal to wrap.
void expect_table_fits(const std::string& text, std::size_t width) {
  bool in_table = false;
  for (const auto& line : lines_of(text)) {
    in_table = in_table || line.starts_with("ACTION") || line.starts_with("REFERENCE") || line.starts_with("IMAGE ID");
    if (line.starts_with("shortfall:") || line.starts_with("warning:") || line.starts_with("failed:")) in_table = false;
    if (in_table) {
      EXPECT_LE(display_width(line), width) << line;
    }
  }
}

TEST(RenderGolden, ImagesAt80And120ColumnsAndWide) {
  const Node node;
  const ImagesView view = images_view(node.inv, node.plan, node.policy, "containerd 1.7.24 (cri unix:///run/containerd/containerd.sock)", kNow);
  for (const std::size_t width : {80u, 120u}) {
    const std::string text = render_images_text(view, {.width = width});
    expect_table_fits(text, width);
    expect_golden("images-" + std::to_string(width) + ".txt", text);
  }
  expect_golden("images-wide.txt", render_images_text(view, {.width = 80, .wide = true}));
}

TEST(RenderGolden, GcDryRunAt80And120ColumnsAndWide) {
  const Node node;
  const RunReport report = node.dry_run();
  const GcOutcome run{.report = report, .plan = node.plan, .policy = node.policy};
  for (const std::size_t width : {80u, 120u}) {
    const std::string text = render_gc_text(run, {.width = width});
    expect_table_fits(text, width);
    expect_golden("gc-dry-run-" + std::to_string(width) + ".txt", text);
  }
  expect_golden("gc-dry-run-wide.txt", render_gc_text(run, {.width = 80, .wide = true}));
}

TEST(RenderGolden, TheNodeHasEveryKindOfRow) {
  const Node node;
  std::set<std::string> codes, next;
  for (const auto& d : node.plan.images) codes.insert(std::string(to_string(d.code))), next.insert(std::string(to_string(next_gc(d))));
  EXPECT_EQ(codes, (std::set<std::string>{"lru", "pinned", "sandbox", "in-use", "keep", "prepull", "too-young"}));
  EXPECT_EQ(next, (std::set<std::string>{"remove", "remove-if-needed", "protected"}));
}

TEST(RenderGolden, ADryRunListsTheReservesMarkedAndTheSameAsImages) {
  const Node node;
  const RunReport report = node.dry_run();
  const json j = json::parse(render_gc_json({.report = report, .plan = node.plan, .policy = node.policy}));
  std::map<std::string, std::string> decision;
  for (const auto& e : j["removed"])
    if (e["kind"] == "image") decision[e["id"]] = e["decision"];
  EXPECT_EQ(decision, (std::map<std::string, std::string>{
                          {id_of('a'), "remove"}, {id_of('b'), "remove"}, {id_of('c'), "remove"}, {id_of('d'), "remove-if-needed"}}));
  EXPECT_EQ(j["counts"]["imagesRemoved"], 3);
  EXPECT_EQ(j["counts"]["imagesIfNeeded"], 1);
  EXPECT_EQ(j["plan"]["images"]["removeIfNeeded"], 1);
  EXPECT_EQ(j["plan"]["imagesAfterWorstCase"], j["plan"]["imagesAfter"].get<int>() - 1);
  for (const auto& k : j["kept"]) EXPECT_NE(k["id"], id_of('d')) << "a reserve is listed once, as remove-if-needed";
  const json images = json::parse(render_images_json(images_view(node.inv, node.plan, node.policy, "x", kNow)));
  for (const auto& e : images["images"]) {
    const std::string id = e["id"];
    EXPECT_EQ(e["nextGc"], decision.contains(id) ? decision[id] : "protected") << e.dump();
  }
  const LogEntry entry = gc_log_entry({.report = report, .plan = node.plan, .policy = node.policy});
  EXPECT_NE(entry.message.find("3 images and 1 more if needed"), std::string::npos) << entry.message;
}

TEST(RenderGolden, AttackZeroAndOneAnd500ImagesAndA40ColumnTerminal) {
  for (const std::size_t n : {0u, 1u, 500u}) {
    Inventory inv;
    inv.usage = disk(10 * kGiB);  // 90% used
    History history;
    for (std::size_t i = 0; i < n; ++i) {
      const std::string id = "sha256:" + std::string(58, 'e') + fmt::format("{:06}", i);
      inv.images.push_back({.id = id, .tags = {fmt::format("reg.test/ns-{}/日本-app:{}", i % 7, i)}, .size = (1 + i % 9) * kGiB});
      history[id] = {.first_seen = kNow - 86400 * 40, .last_used = kNow - static_cast<Seconds>(i) * 600};
    }
    const Policy policy;
    const Plan plan = plan_collection(inv, history, policy, kNow);
    const ImagesView view = images_view(inv, plan, policy, "fake 1 (cri unix:///x)", kNow);
    for (const std::size_t width : {40u, 80u, 120u}) {
      const std::string images = render_images_text(view, {.width = width});
      expect_table_fits(images, width);
      // runtime, filesystem, situation; the table; the shortfalls
      EXPECT_EQ(lines_of(images).size(), 3 + (n == 0 ? 0 : n + 1) + plan.shortfalls.size()) << images;
      RunReport report{.dry_run = true, .runtime = "fake", .started_at = kNow, .before = inv.usage};
      const std::string gc = render_gc_text({.report = report, .plan = plan, .policy = policy}, {.width = width});
      expect_table_fits(gc, width);
      if (n == 0) {
        EXPECT_NE(gc.find("\nnothing to remove\n"), std::string::npos) << gc;
      }
    }
  }
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
