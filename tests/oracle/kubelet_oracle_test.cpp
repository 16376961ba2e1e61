// Property test: on generated layouts (flags in ExecStart, Environment= or an
// EnvironmentFile, with pflag spellings; YAML or JSON config files with YAML 1.1
// spellings; drop-ins with kubelet's sort order), nodeimg's effective value equals what
// kubelet's own libraries read (tests/oracle/kubelet_oracle.go); and after apply either
// kubelet reads the desired value or nodeimg refused and nothing changed. The same check
// runs over single kubelet files: the repository's fixtures, the fuzz regressions and, from
// scripts/test-fuzz, the corpus the kubelet_document fuzzer just grew.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "core/kubelet/apply_record.hpp"
#include "core/kubelet/plan.hpp"
#include "support/memory_tree.hpp"
#include "support/process.hpp"

namespace nodeimg::kubelet {
namespace {

namespace fs = std::filesystem;
using testing::MemoryTree;

// Where the generated flags live: the test reads them back itself after apply.
enum class FlagHome { ExecStart, Environment, EnvironmentFile };

struct Layout {
  MemoryTree tree;
  FlagHome home = FlagHome::ExecStart;
  long long desired = -1;
  std::string description;
};

const char* kUnit = "/etc/systemd/system/kubelet.service";
const char* kEnvFile = "/etc/default/kubelet";
const std::string kHead = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";

template <class T>
const T& pick(std::mt19937& rng, const std::vector<T>& v) {
  return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
}

// A YAML line for nodeStatusMaxImages, or nothing.
std::string yaml_value(std::mt19937& rng) {
  return pick<std::string>(rng, {"", "", "nodeStatusMaxImages: 30\n", "nodeStatusMaxImages: 010\n",
                                 "nodeStatusMaxImages: 0x1e\n", "nodeStatusMaxImages: 1_0\n", "nodeStatusMaxImages: +5\n",
                                 "nodeStatusMaxImages: 5.0\n", "nodeStatusMaxImages: ~\n", "nodeStatusMaxImages:\n",
                                 "nodeStatusMaxImages: -1   # no cap\n", "nodeStatusMaxImages: 1e2\n",
                                 "nodeStatusMaxImages: 7\nnodeStatusMaxImages: 8\n"});
}

std::string config_text(std::mt19937& rng) {
  if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
    const std::string v = pick<std::string>(rng, {"", ", \"nodeStatusMaxImages\": 12", ", \"nodeStatusMaxImages\": -1",
                                                  ", \"nodeStatusMaxImages\": 5.0"});
    return "{\"apiVersion\": \"kubelet.config.k8s.io/v1beta1\", \"kind\": \"KubeletConfiguration\"" + v + "}\n";
  }
  std::string text = std::string(std::uniform_int_distribution<int>(0, 4)(rng) == 0 ? "\xEF\xBB\xBF" : "") +
                     "# generated\n" + kHead + "maxPods: 110\n" + yaml_value(rng);
  return text;
}

std::vector<std::string> flag_words(std::mt19937& rng, bool config, bool dir) {
  std::vector<std::string> words;
  if (config) words.push_back(pick<std::string>(rng, {"--config=/etc/k/config.yaml", "--config=/etc/k//./config.yaml"}));
  if (dir) words.push_back(pick<std::string>(rng, {"--config-dir=/etc/k/conf.d", "--config-dir=/etc/k/conf.d/"}));
  words.push_back("--v=2");
  const std::string flag = pick<std::string>(rng, {"", "", "--node-status-max-images=", "--node_status_max_images=",
                                                   "--node-status-max-images="});
  if (!flag.empty()) words.push_back(flag + pick<std::string>(rng, {"25", "0x10", "010", "-1", "1_000"}));
  std::shuffle(words.begin(), words.end(), rng);
  return words;
}

std::string joined(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

Layout generate(unsigned seed) {
  std::mt19937 rng(seed);
  Layout l;
  const bool config = std::uniform_int_distribution<int>(0, 4)(rng) != 0;
  const bool dir = std::uniform_int_distribution<int>(0, 2)(rng) != 0 || !config;
  const auto words = flag_words(rng, config, dir);
  l.home = static_cast<FlagHome>(std::uniform_int_distribution<int>(0, 2)(rng));
  std::string unit = "[Service]\n";
  if (l.home == FlagHome::ExecStart) unit += "ExecStart=/usr/bin/kubelet " + joined(words) + "\n";
  if (l.home == FlagHome::Environment) unit += "Environment=\"ARGS=" + joined(words) + "\"\nExecStart=/usr/bin/kubelet $ARGS\n";
  if (l.home == FlagHome::EnvironmentFile) {
    unit += "EnvironmentFile=-/etc/default/%N\nExecStart=/usr/bin/kubelet $ARGS\n";
    l.tree.files[kEnvFile] = "ARGS=\"" + joined(words) + "\"\n";
  }
  l.tree.files[kUnit] = unit;
  if (config) l.tree.files["/etc/k/config.yaml"] = config_text(rng);
  if (dir) {
    l.tree.files["/etc/k/conf.d/00-base.conf"] = kHead;
    const int n = std::uniform_int_distribution<int>(0, 3)(rng);
    for (int i = 0; i < n; ++i)
      l.tree.files["/etc/k/conf.d/" + pick<std::string>(rng, {"10-a.conf", "50-b.conf", "Z.conf", "zz.conf", "~x.conf",
                                                              "99-nodeimg.conf", "sub/10-deep.conf"})] =
          kHead + yaml_value(rng);
  }
  l.desired = pick<long long>(rng, {-1, 0, 7, 300});
  l.description = fmt::format("seed {}: desired {}\n", seed, l.desired);
  for (const auto& [p, c] : l.tree.files) l.description += "--- " + p + "\n" + c;
  return l;
}

// The argv kubelet gets, read back by the test's own simple reading of the three homes
// it generates (quotes stripped, split at blanks) — not nodeimg's unit parser.
std::vector<std::string> argv_of(const MemoryTree& tree, FlagHome home) {
  std::string line;
  auto find_line = [&](const std::string& text, const std::string& prefix) {
    std::istringstream in(text);
    std::string l, found;
    while (std::getline(in, l))
      if (l.starts_with(prefix)) found = l.substr(prefix.size());
    return found;
  };
  if (home == FlagHome::ExecStart) {
    // nodeimg may have written an override: the last ExecStart of the unit and its drop-ins.
    line = find_line(tree.files.at(kUnit), "ExecStart=/usr/bin/kubelet ");
  } else if (home == FlagHome::Environment) {
    line = find_line(tree.files.at(kUnit), "Environment=\"ARGS=");
  } else {
    line = find_line(tree.files.at(kEnvFile), "ARGS=\"");
  }
  std::vector<std::string> argv;
  std::string word;
  for (char c : line) {
    if (c == '"' || c == '\'') continue;
    if (c == ' ') {
      if (!word.empty()) argv.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) argv.push_back(word);
  return argv;
}

// The tree as it is once the plan's changes are written (a change without `after` deletes).
MemoryTree with_changes(const MemoryTree& tree, const std::vector<FileChange>& changes) {
  MemoryTree after = tree;
  for (const auto& c : changes) {
    if (c.after) after.files[c.path] = *c.after;
    else after.files.erase(c.path);
  }
  return after;
}

// Runs the Go oracle on the tree's files.
nlohmann::json oracle(const MemoryTree& tree, const std::vector<std::string>& argv) {
  char tmpl[] = "/tmp/nodeimg-oracle-XXXXXX";
  if (!::mkdtemp(tmpl)) return {{"error", "mkdtemp"}};
  const fs::path root = tmpl;
  for (const auto& [p, c] : tree.files) {
    fs::create_directories((root / p.substr(1)).parent_path());
    std::ofstream(root / p.substr(1), std::ios::binary) << c;
  }
  std::vector<std::string> cmd = {NODEIMG_KUBELET_ORACLE, "-root", root.string(), "--"};
  cmd.insert(cmd.end(), argv.begin(), argv.end());
  auto r = testing::run(cmd);
  fs::remove_all(root);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  return j.is_discarded() ? nlohmann::json{{"error", r.out + r.err}} : j;
}

TEST(KubeletOracle, ReadsTheBasicsAsKubeletDoes) {
  MemoryTree tree;
  tree.files["/etc/k/config.yaml"] = kHead + "nodeStatusMaxImages: 010\n";
  EXPECT_EQ(oracle(tree, {"--config=/etc/k/config.yaml"})["nodeStatusMaxImages"], 8);
  EXPECT_EQ(oracle(tree, {"--config=/etc/k/config.yaml", "--node_status_max_images=0x10"})["nodeStatusMaxImages"], 16);
  tree.files["/etc/k/config.yaml"] = "{\"apiVersion\": \"kubelet.config.k8s.io/v1beta1\", \"kind\": \"KubeletConfiguration\", \"nodeStatusMaxImages\": 5.0}";
  EXPECT_TRUE(oracle(tree, {"--config=/etc/k/config.yaml"}).contains("error"));
}

TEST(KubeletOracle, GeneratedLayoutsAgreeWithKubeletBeforeAndAfterApply) {
  int agreed = 0, refused = 0, kubelet_rejects = 0, applied = 0;
  for (unsigned seed = 1; seed <= 200; ++seed) {
    Layout l = generate(seed);
    const auto argv = argv_of(l.tree, l.home);
    const auto before = oracle(l.tree, argv);
    auto sources = discover(l.tree, {});
    ASSERT_TRUE(sources) << sources.error().message << "\n" << l.description;
    const Values desired = {{"nodeStatusMaxImages", l.desired}};
    auto p = plan(l.tree, {}, *sources, desired);
    if (before.contains("error")) {
      // kubelet would not start: nodeimg must not claim a value either.
      EXPECT_FALSE(p && p->refusal.empty() && !p->changes.empty()) << before << "\n" << l.description;
      ++kubelet_rejects;
      continue;
    }
    if (!p) {
      // nodeimg declined to model this layout (it writes nothing); say which, for review.
      if (refused++ < 5) std::cout << "refused: " << p.error().message << "\n";
      continue;
    }
    ASSERT_EQ(p->settings[0].effective, before["nodeStatusMaxImages"]) << p->settings[0].source_detail << "\n" << l.description;
    ++agreed;
    if (!p->refusal.empty()) {
      EXPECT_TRUE(p->changes.empty());
      ++refused;
      continue;
    }
    const MemoryTree after = with_changes(l.tree, p->changes);
    // An override drop-in replaces ExecStart: read the argv from it.
    std::vector<std::string> argv_after = argv_of(after, l.home);
    for (const auto& c : p->changes)
      if (c.after && c.path.find("kubelet.service.d/") != std::string::npos) {
        MemoryTree only;
        only.files[kUnit] = *c.after;
        argv_after = argv_of(only, FlagHome::ExecStart);
      }
    const auto result = oracle(after, argv_after);
    ASSERT_EQ(result.value("nodeStatusMaxImages", nlohmann::json()), l.desired) << result << "\n" << l.description;
    ++applied;
  }
  std::cout << fmt::format("oracle property: {} layouts agreed with kubelet, {} applied and verified, {} refused, "
                           "{} rejected by kubelet itself\n",
                           agreed, applied, refused, kubelet_rejects);
  EXPECT_GT(applied, 50);
}

// The kubelet files to check one at a time: every YAML/JSON fixture, the kubelet_document
// fuzz regressions, and every file in the directories NODEIMG_ORACLE_CORPUS names
// (colon-separated; scripts/test-fuzz sets it to the fuzzer's corpus).
std::vector<fs::path> corpus_files() {
  std::vector<fs::path> files;
  auto add_dir = [&](const fs::path& dir, bool kubelet_files_only) {
    if (!fs::is_directory(dir)) return;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      const auto ext = e.path().extension();
      if (!kubelet_files_only || ext == ".yaml" || ext == ".json") files.push_back(e.path());
    }
  };
  add_dir(fs::path(NODEIMG_SOURCE_DIR) / "tests/fixtures", true);
  add_dir(fs::path(NODEIMG_SOURCE_DIR) / "tests/fuzz/regressions/kubelet_document", false);
  if (const char* extra = std::getenv("NODEIMG_ORACLE_CORPUS")) {
    std::string dirs = extra;
    for (std::size_t at = 0; at <= dirs.size();) {
      const auto colon = std::min(dirs.find(':', at), dirs.size());
      if (colon > at) add_dir(dirs.substr(at, colon - at), false);
      at = colon + 1;
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Each file as the kubelet config file of a plain unit: the value nodeimg claims is the one
// kubelet's own libraries read, or nodeimg refuses; kubelet refusing the file means nodeimg
// must not apply; and after apply kubelet reads the desired value.
TEST(KubeletOracle, SingleConfigFilesAgreeWithKubelet) {
  const auto files = corpus_files();
  ASSERT_GT(files.size(), 20u) << "the fixtures alone hold more kubelet files than that";
  int agreed = 0, applied = 0, refused = 0, kubelet_rejects = 0;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    MemoryTree tree;
    tree.files[kUnit] = "[Service]\nExecStart=/usr/bin/kubelet --config=/etc/k/config.yaml\n";
    tree.files["/etc/k/config.yaml"] = content;
    const std::vector<std::string> argv = {"--config=/etc/k/config.yaml"};
    const long long desired = static_cast<long long>(content.size() % 3) * 40 + 7;
    const std::string what = file.string() + "\n--- content\n" + content.substr(0, 2000);
    const auto before = oracle(tree, argv);
    auto sources = discover(tree, {});
    auto p = sources ? plan(tree, {}, *sources, {{"nodeStatusMaxImages", desired}}) : Result<Plan>(std::unexpected(sources.error()));
    if (before.contains("error")) {
      EXPECT_FALSE(p && p->refusal.empty() && !p->changes.empty()) << before << "\n" << what;
      ++kubelet_rejects;
      continue;
    }
    if (!p) {
      ++refused;
      continue;
    }
    ASSERT_EQ(p->settings[0].effective, before["nodeStatusMaxImages"]) << p->settings[0].source_detail << "\n" << what;
    ++agreed;
    if (!p->refusal.empty() || p->changes.empty()) continue;
    const MemoryTree after = with_changes(tree, p->changes);
    const auto result = oracle(after, argv);
    ASSERT_EQ(result.value("nodeStatusMaxImages", nlohmann::json()), desired) << result << "\n" << what;
    ++applied;
  }
  std::cout << fmt::format("oracle on single files: {} files, {} agreed with kubelet, {} applied and verified, "
                           "{} refused by nodeimg, {} rejected by kubelet itself\n",
                           files.size(), agreed, applied, refused, kubelet_rejects);
  EXPECT_GT(applied, 10);
}

}  // namespace
}  // namespace nodeimg::kubelet
