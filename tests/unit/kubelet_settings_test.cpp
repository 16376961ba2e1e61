#include <gtest/gtest.h>

#include "core/kubelet/settings.hpp"

namespace nodeimg::kubelet {
namespace {

const SettingSpec& spec(std::string_view name) { return *find_setting(name); }

TEST(Settings, NodeStatusMaxImagesAcceptsMinusOneAndUp) {
  EXPECT_TRUE(normalize_value(spec("nodeStatusMaxImages"), -1));
  EXPECT_TRUE(normalize_value(spec("nodeStatusMaxImages"), 0));
  auto bad = normalize_value(spec("nodeStatusMaxImages"), -2);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("between -1 and"), std::string::npos);
  EXPECT_FALSE(normalize_value(spec("nodeStatusMaxImages"), "10"));
}

TEST(Settings, PercentagesAreBounded) {
  EXPECT_TRUE(normalize_value(spec("imageGCHighThresholdPercent"), 100));
  EXPECT_FALSE(normalize_value(spec("imageGCHighThresholdPercent"), 101));
  EXPECT_FALSE(normalize_value(spec("imageGCLowThresholdPercent"), -1));
}

TEST(Settings, DurationsCompareByValue) {
  EXPECT_TRUE(values_equal(spec("imageMinimumGCAge"), "2m", "120s"));
  EXPECT_TRUE(values_equal(spec("imageMinimumGCAge"), "2m0s", "2m"));
  EXPECT_FALSE(values_equal(spec("imageMinimumGCAge"), "2m", "3m"));
  EXPECT_FALSE(normalize_value(spec("imageMinimumGCAge"), "-1s"));
  EXPECT_FALSE(normalize_value(spec("imageMinimumGCAge"), 5));
}

TEST(Settings, FlagValuesParseLikePflag) {
  EXPECT_EQ(parse_flag_value(spec("nodeStatusMaxImages"), "25").value(), 25);
  EXPECT_EQ(parse_flag_value(spec("serializeImagePulls"), "F").value(), false);
  EXPECT_FALSE(parse_flag_value(spec("nodeStatusMaxImages"), "25x"));
  EXPECT_FALSE(parse_flag_value(spec("serializeImagePulls"), "maybe"));
}

TEST(Settings, CrossFieldValidationFollowsKubelet) {
  EXPECT_TRUE(validate_combination({}));
  EXPECT_FALSE(validate_combination({{"imageGCLowThresholdPercent", 85}}));  // low == default high
  EXPECT_TRUE(validate_combination({{"imageGCLowThresholdPercent", 60}, {"imageGCHighThresholdPercent", 70}}));
  EXPECT_FALSE(validate_combination({{"imageMaximumGCAge", "1m"}}));  // below the 2m minimum age
  EXPECT_TRUE(validate_combination({{"imageMaximumGCAge", "720h"}}));
  EXPECT_FALSE(validate_combination({{"maxParallelImagePulls", 5}}));  // serialized pulls by default
  EXPECT_TRUE(validate_combination({{"maxParallelImagePulls", 5}, {"serializeImagePulls", false}}));
}

}  // namespace
}  // namespace nodeimg::kubelet
