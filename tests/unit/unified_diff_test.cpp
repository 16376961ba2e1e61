#include <gtest/gtest.h>

#include "core/common/unified_diff.hpp"

namespace nodeimg {
namespace {

TEST(UnifiedDiff, EqualTextsGiveNothing) { EXPECT_EQ(unified_diff("/f", "a\nb\n", "a\nb\n"), ""); }

TEST(UnifiedDiff, OneLineChangedWithContext) {
  const std::string before = "1\n2\n3\n4\n5\n6\n7\n8\n";
  const std::string after = "1\n2\n3\n4\nfive\n6\n7\n8\n";
  EXPECT_EQ(unified_diff("/etc/x", before, after),
            "--- a/etc/x\n+++ b/etc/x\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST(UnifiedDiff, InsertionAndMissingFinalNewline) {
  EXPECT_EQ(unified_diff("/f", "a\nb", "a\nb\nc"),
            "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c\n\\ No newline at end of file\n");
}

TEST(UnifiedDiff, NewFileFromDevNull) {
  EXPECT_EQ(unified_diff("/d/99-nodeimg.conf", "", "x: 1\n", false),
            "--- /dev/null\n+++ b/d/99-nodeimg.conf\n@@ -0,0 +1,1 @@\n+x: 1\n");
}

TEST(UnifiedDiff, DistantChangesMakeTwoHunks) {
  std::string before, after;
  for (int i = 0; i < 20; ++i) {
    before += std::to_string(i) + "\n";
    after += (i == 2 || i == 17 ? "x" : std::to_string(i)) + "\n";
  }
  const std::string d = unified_diff("/f", before, after);
  EXPECT_NE(d.find("@@ -1,6 +1,6 @@"), std::string::npos) << d;
  EXPECT_NE(d.find("@@ -15,6 +15,6 @@"), std::string::npos) << d;
}

}  // namespace
}  // namespace nodeimg
