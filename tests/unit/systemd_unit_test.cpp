#include <gtest/gtest.h>

#include "core/kubelet/systemd_unit.hpp"

namespace nodeimg::systemd {
namespace {

TEST(UnitFile, ParsesSectionsContinuationsAndComments) {
  auto d = parse_unit_file("/u", "[Unit]\n# c\nDescription=x\n[Service]\nExecStart=/bin/k \\\n  --a=1 \\\n  --b\n; c\n");
  ASSERT_TRUE(d);
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[1].section, "Service");
  EXPECT_EQ((*d)[1].key, "ExecStart");
  EXPECT_EQ((*d)[1].origin.line, 5u);
  EXPECT_NE((*d)[1].value.find("--b"), std::string::npos);
}

TEST(UnitFile, EnvironmentDirectiveSplitsQuotedAssignments) {
  Directive d{"Service", "Environment", "A=1 \"B=two words\" C", {"/u", 3}};
  auto a = parse_environment_directive(d);
  ASSERT_TRUE(a);
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[1].name, "B");
  EXPECT_EQ((*a)[1].value, "two words");
}

TEST(EnvironmentFile, QuotesCommentsAndContinuations) {
  auto a = parse_environment_file("/e", "# c\nA=\"x y\"\nB='z'\n\nC=one \\\ntwo\n");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ((*a)[0].value, "x y");
  EXPECT_EQ((*a)[1].value, "z");
  EXPECT_EQ((*a)[2].value, "one  two");
  EXPECT_EQ((*a)[2].origin.line, 5u);
}

TEST(CommandLine, DollarVarSplitsBracedVarDoesNot) {
  Environment env;
  env["ARGS"] = {"ARGS", "--a=1 --b=2", {"/env", 1}};
  env["ONE"] = {"ONE", "x y", {"/env", 2}};
  Directive exec{"Service", "ExecStart", "-/usr/bin/kubelet $ARGS ${ONE} --c=${ONE} $MISSING \"--d=e f\"", {"/u", 7}};
  auto w = expand_command_line(exec, env);
  ASSERT_TRUE(w);
  std::vector<std::string> texts;
  for (const auto& x : *w) texts.push_back(x.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"/usr/bin/kubelet", "--a=1", "--b=2", "x y", "--c=x y", "--d=e f"}));
  EXPECT_EQ((*w)[1].origin.file, "/env");
  EXPECT_EQ((*w)[1].variable, "ARGS");
  EXPECT_EQ((*w)[0].origin.line, 7u);
}

TEST(ReplaceFlag, EqualsFormChangesOnlyTheValue) {
  auto out = replace_flag_value("A=1\nOPTS=\"--v=2 --node-status-max-images=25 --x\"\n", 2, "node-status-max-images", "-1", false);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "A=1\nOPTS=\"--v=2 --node-status-max-images=-1 --x\"\n");
}

TEST(ReplaceFlag, SpaceFormAndContinuationLines) {
  auto out = replace_flag_value("OPTS=\"--a \\\n --node-status-max-images   7 \\\n --b\"\n", 1, "node-status-max-images", "9", false);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "OPTS=\"--a \\\n --node-status-max-images   9 \\\n --b\"\n");
}

TEST(ReplaceFlag, BareBooleanGetsAValue) {
  auto out = replace_flag_value("X=--serialize-image-pulls --v=2", 1, "serialize-image-pulls", "false", true);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "X=--serialize-image-pulls=false --v=2");
}

TEST(ReplaceFlag, DoesNotTouchLongerFlagNames) {
  auto out = replace_flag_value("X=--node-status-max-images-x=1", 1, "node-status-max-images", "2", false);
  EXPECT_FALSE(out);
}

TEST(ReplaceFlag, EveryOccurrenceOnTheLine) {
  auto out = replace_flag_value("X=--node-status-max-images=1 --node-status-max-images=2\n", 1, "node-status-max-images", "3", false);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "X=--node-status-max-images=3 --node-status-max-images=3\n");
}

}  // namespace
}  // namespace nodeimg::systemd
