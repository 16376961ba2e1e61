// Tables that fit the terminal (core/gc/table): display widths of UTF-8 text, cutting that
// keeps the telling end, and layouts that never exceed the width they are given.
#include <random>

#include <gtest/gtest.h>

#include "support/files.hpp"

#include "core/gc/table.hpp"

namespace nodeimg::gc {
namespace {

using testing::lines_of;

TEST(Table, DisplayWidthCountsCharactersNotBytes) {
  EXPECT_EQ(display_width("reg.test/app:1"), 14u);
  EXPECT_EQ(display_width("reg.test/café:ü"), 15u);            // two-byte characters, one column each
  EXPECT_EQ(display_width("reg.test/日本:1"), 15u);              // wide characters, two columns each
  EXPECT_EQ(display_width("e\xCC\x81"), 1u);                     // a combining accent takes no column
  EXPECT_EQ(display_width("bad\xFF\xC3"), 5u);                   // invalid bytes count one each
  EXPECT_EQ(display_width(""), 0u);
}

TEST(Table, CuttingKeepsTheTagEndAndNeverSplitsACharacter) {
  const std::string ref = "registry.example.com/team/" + std::string(160, 'x') + "/app:v1.2.3";
  const std::string cut = fit_text(ref, 24, Keep::End);
  EXPECT_EQ(display_width(cut), 24u);
  EXPECT_TRUE(cut.starts_with("…")) << cut;
  EXPECT_TRUE(cut.ends_with("/app:v1.2.3")) << cut;
  EXPECT_EQ(fit_text("lru#3 unused 23d", 8, Keep::Start), "lru#3 u…");
  EXPECT_EQ(fit_text("short", 10, Keep::Start), "short");
  // Cut through non-ASCII text: whole characters only, within the width.
  for (std::size_t w = 1; w < 12; ++w) {
    for (const Keep keep : {Keep::Start, Keep::End}) {
      const std::string s = fit_text("日本語のタグ:ü版", w, keep);
      EXPECT_LE(display_width(s), w) << s;
      EXPECT_EQ(display_width(s), display_width(std::string_view(s)));  // valid UTF-8: no replacement bytes
      for (unsigned char c : s) EXPECT_NE(c, 0xFF);
    }
  }
}

Table sample(std::size_t rows, std::size_t ref_length) {
  Table t{.columns = {{.header = "IMAGE ID", .drop = 3},
                      {.header = "REFERENCE", .shrinks = true, .min_width = 24, .keep = Keep::End},
                      {.header = "SIZE", .right = true, .drop = 1},
                      {.header = "NEXT GC"},
                      {.header = "REASON", .shrinks = true, .min_width = 12}}};
  for (std::size_t i = 0; i < rows; ++i)
    t.rows.push_back({"0123456789ab", "reg.test/" + std::string(ref_length, 'r') + ":" + std::to_string(i), "12.5 MiB",
                      i % 2 ? "remove-if-needed" : "protected", "keep:reg.test/very-long-pattern/*"});
  return t;
}

TEST(Table, EveryLineFitsTheWidthAndColumnsDropBeforeTheyBecomeUnreadable) {
  for (const std::size_t width : {40u, 60u, 80u, 100u, 120u, 200u})
    for (const std::size_t ref : {0u, 10u, 200u}) {
      const std::string text = render_table(sample(5, ref), width);
      for (const auto& line : lines_of(text)) EXPECT_LE(display_width(line), width) << width << ":\n" << text;
      for (const auto& line : lines_of(text)) EXPECT_FALSE(line.ends_with(" ")) << line;
    }
  const std::string at80 = render_table(sample(3, 200), 80);
  EXPECT_NE(at80.find("IMAGE ID"), std::string::npos) << "cutting the wide columns is enough at 80:\n" << at80;
  EXPECT_NE(at80.find(":2  "), std::string::npos) << "the tag end stays visible:\n" << at80;
  const std::string at70 = render_table(sample(3, 200), 70);
  EXPECT_EQ(at70.find("IMAGE ID"), std::string::npos) << "the first to go:\n" << at70;
  EXPECT_NE(at70.find("SIZE"), std::string::npos) << at70;
  const std::string at40 = render_table(sample(3, 200), 40);
  EXPECT_EQ(at40.find("SIZE"), std::string::npos) << at40;
  EXPECT_NE(at40.find("remove-if-needed"), std::string::npos) << "NEXT GC is never cut:\n" << at40;
}

TEST(Table, NoLimitShowsEverythingUncut) {
  const std::string text = render_table(sample(2, 200), 0);
  EXPECT_NE(text.find("reg.test/" + std::string(200, 'r') + ":1"), std::string::npos);
  EXPECT_NE(text.find("IMAGE ID"), std::string::npos);
  EXPECT_NE(text.find("keep:reg.test/very-long-pattern/*"), std::string::npos);
}

TEST(Table, EmptyTableIsItsHeaderAndColumnsLineUpWithWideCharacters) {
  EXPECT_EQ(render_table(sample(0, 0), 80), "IMAGE ID  REFERENCE  SIZE  NEXT GC  REASON\n");
  Table t{.columns = {{.header = "REF"}, {.header = "N", .right = true}}, .rows = {{"日本:1", "1"}, {"ab:1", "22"}}};
  EXPECT_EQ(render_table(t, 80), "REF      N\n日本:1   1\nab:1    22\n");
}

}  // namespace
}  // namespace nodeimg::gc
