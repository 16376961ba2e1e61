#include <gtest/gtest.h>

#include "core/app_config.hpp"

namespace nodeimg {
namespace {

using namespace std::chrono_literals;

TEST(AppConfig, EmptyGivesDefaults) {
  auto c = parse_app_config("", "/etc/nodeimg/config.yaml");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kubelet.max_images_mode, KubeletConfig::MaxImages::Value);
  EXPECT_EQ(c->kubelet.max_images, -1);
  EXPECT_TRUE(c->kubelet.restart);
  EXPECT_EQ(c->kubelet.restart_timeout, 2min);
  EXPECT_EQ(c->kubelet.settle, 10s);
}

TEST(AppConfig, FullKubeletSection) {
  auto c = parse_app_config(R"(kubelet:
  nodeStatusMaxImages: auto
  settings:
    imageGCHighThresholdPercent: 90
    imageMinimumGCAge: 5m
    serializeImagePulls: false
  configFile: /srv/kubelet.yaml
  dropInDir: none
  unit: kubelet.service
  restart: false
  healthz: http://127.0.0.1:10248/healthz
  restartTimeout: 30s
  settle: 0s
)",
                            "/c.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->kubelet.max_images_mode, KubeletConfig::MaxImages::Auto);
  ASSERT_EQ(c->kubelet.settings.size(), 3u);
  EXPECT_EQ(c->kubelet.settings[0].second, 90);
  EXPECT_EQ(c->kubelet.settings[2].second, false);
  EXPECT_EQ(c->kubelet.config_file, "/srv/kubelet.yaml");
  EXPECT_EQ(c->kubelet.dropin_dir, "none");
  EXPECT_FALSE(c->kubelet.restart);
  EXPECT_EQ(c->kubelet.restart_timeout, 30s);
  EXPECT_EQ(c->kubelet.settle, 0s);
}

struct Bad {
  std::string name;
  std::string text;
  std::string message;  // exact prefix: file, line and key
};

class BadConfig : public ::testing::TestWithParam<Bad> {};

TEST_P(BadConfig, NamesFileLineAndKey) {
  auto c = parse_app_config(GetParam().text, "/etc/nodeimg/config.yaml");
  ASSERT_FALSE(c);
  EXPECT_TRUE(c.error().message.starts_with(GetParam().message)) << c.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfig,
    ::testing::Values(
        Bad{"unknown_top", "kubelet: {}\ngcc: 1\n", "/etc/nodeimg/config.yaml:2: gcc: unknown key"},
        Bad{"unknown_kubelet_key", "kubelet:\n  restart: true\n  nodeStatusMaxImage: 3\n",
            "/etc/nodeimg/config.yaml:3: kubelet.nodeStatusMaxImage: unknown key"},
        Bad{"below_minus_one", "kubelet:\n  nodeStatusMaxImages: -2\n",
            "/etc/nodeimg/config.yaml:2: kubelet.nodeStatusMaxImages: must be >= -1"},
        Bad{"not_a_number", "kubelet:\n  nodeStatusMaxImages: lots\n",
            "/etc/nodeimg/config.yaml:2: kubelet.nodeStatusMaxImages: must be an integer >= -1 or \"auto\""},
        Bad{"wrong_bool", "kubelet:\n  restart: sometimes\n", "/etc/nodeimg/config.yaml:2: kubelet.restart: must be true or false"},
        Bad{"bad_duration", "kubelet:\n  settle: 10\n", "/etc/nodeimg/config.yaml:2: kubelet.settle: invalid duration"},
        Bad{"zero_timeout", "kubelet:\n  restartTimeout: 0s\n", "/etc/nodeimg/config.yaml:2: kubelet.restartTimeout: must be greater than 0"},
        Bad{"unknown_setting", "kubelet:\n  settings:\n    maxPods: 5\n",
            "/etc/nodeimg/config.yaml:3: kubelet.settings.maxPods: unknown setting"},
        Bad{"setting_out_of_range", "kubelet:\n  settings:\n    imageGCHighThresholdPercent: 120\n",
            "/etc/nodeimg/config.yaml:3: kubelet.settings.imageGCHighThresholdPercent: imageGCHighThresholdPercent must be between 0 and 100"},
        Bad{"relative_path", "kubelet:\n  configFile: kubelet.yaml\n", "/etc/nodeimg/config.yaml:2: kubelet.configFile: must be auto or an absolute path"},
        Bad{"bad_unit", "kubelet:\n  unit: kubelet\n", "/etc/nodeimg/config.yaml:2: kubelet.unit: must be \"auto\" or a unit name"},
        Bad{"invalid_yaml", "kubelet: [\n", "/etc/nodeimg/config.yaml:2: not valid YAML"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(AppConfig, AutoMaxImagesIsAThirdOfTheDiskInGB) {
  EXPECT_EQ(auto_max_images(1'000'000'000'000ULL), 334);  // 1 TB -> ceil(333.3)
  EXPECT_EQ(auto_max_images(30'000'000'000ULL), 10);
  EXPECT_EQ(auto_max_images(1), 1);
}

}  // namespace
}  // namespace nodeimg
