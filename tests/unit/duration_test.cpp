#include <gtest/gtest.h>

#include "core/common/duration.hpp"

namespace nodeimg {
namespace {

using namespace std::chrono_literals;

TEST(Duration, ParsesGoSyntax) {
  EXPECT_EQ(parse_duration("0").value(), 0ns);
  EXPECT_EQ(parse_duration("2m").value(), 2min);
  EXPECT_EQ(parse_duration("1h30m").value(), 90min);
  EXPECT_EQ(parse_duration("2m0s").value(), 2min);
  EXPECT_EQ(parse_duration("500ms").value(), 500ms);
  EXPECT_EQ(parse_duration("1.5s").value(), 1500ms);
  EXPECT_EQ(parse_duration("-3s").value(), -3s);
  EXPECT_EQ(parse_duration("10us").value(), 10us);
}

TEST(Duration, RejectsWhatGoRejects) {
  for (const char* bad : {"", "5", "m", "1x", "1h-2m", "abc", "1.s.5"}) {
    auto d = parse_duration(bad);
    EXPECT_FALSE(d) << bad;
    if (!d) {
      EXPECT_NE(d.error().message.find("invalid duration"), std::string::npos);
    }
  }
}

TEST(Duration, FormatsCanonically) {
  EXPECT_EQ(format_duration(0ns), "0s");
  EXPECT_EQ(format_duration(2min), "2m0s");
  EXPECT_EQ(format_duration(1h), "1h0m0s");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(300ms), "300ms");
  EXPECT_EQ(format_duration(-10s), "-10s");
}

}  // namespace
}  // namespace nodeimg
