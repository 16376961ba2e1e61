// The surgical patcher: one value changed or one key added, every other byte kept.
#include <gtest/gtest.h>

#include "core/kubelet/document.hpp"

namespace nodeimg::kubelet {
namespace {

const std::string kHead = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";

std::string set(const std::string& text, const kubelet::Values& values) {
  auto doc = parse_document("/test.yaml", text);
  EXPECT_TRUE(doc) << doc.error().message;
  if (!doc) return "<parse error>";
  auto out = set_values(*doc, values);
  EXPECT_TRUE(out) << out.error().message;
  if (!out) return "<edit error>";
  auto verified = verify_edit(*doc, *out, values);
  EXPECT_TRUE(verified) << verified.error().message;
  return *out;
}

struct EditCase {
  std::string name;
  std::string before;
  kubelet::Values values;
  std::string after;
};
void PrintTo(const EditCase& c, std::ostream* os) { *os << c.name << ": " << ::testing::PrintToString(c.before); }

class SurgicalEdit : public ::testing::TestWithParam<EditCase> {};

TEST_P(SurgicalEdit, ChangesOnlyTheManagedBytes) {
  EXPECT_EQ(set(GetParam().before, GetParam().values), GetParam().after);
}

void expect_same_document(const Document& got, const Document& want) {
  EXPECT_EQ(got.text, want.text);
  EXPECT_EQ(got.format, want.format);
  EXPECT_EQ(got.flow, want.flow);
  EXPECT_EQ(got.data, want.data);
  EXPECT_EQ(got.unread_count, want.unread_count);
  EXPECT_EQ(got.unread_fingerprint, want.unread_fingerprint);
  ASSERT_EQ(got.entries.size(), want.entries.size());
  for (std::size_t i = 0; i < got.entries.size(); ++i) {
    const Entry& a = got.entries[i];
    const Entry& b = want.entries[i];
    SCOPED_TRACE(b.key);
    EXPECT_EQ(a.key, b.key);
    EXPECT_EQ(a.key_begin, b.key_begin);
    EXPECT_EQ(a.key_end, b.key_end);
    EXPECT_EQ(a.value_begin, b.value_begin);
    EXPECT_EQ(a.value_end, b.value_end);
    EXPECT_EQ(a.line, b.line);
    EXPECT_EQ(a.quote, b.quote);
    EXPECT_EQ(a.editable, b.editable);
    EXPECT_EQ(a.value, b.value);
    EXPECT_EQ(a.fingerprint, b.fingerprint);
    EXPECT_EQ(a.next_key, b.next_key);
  }
}

// edit_document re-reads only the entries it changed (block-style YAML) or the whole
// edited text: either way it must return exactly what a full parse of the edit gives.
TEST_P(SurgicalEdit, EditDocumentIsTheFullParseOfTheEdit) {
  for (const auto mode : {ParseValues::All, ParseValues::Needed}) {
    SCOPED_TRACE(mode == ParseValues::All ? "all values" : "needed values");
    auto doc = parse_document("/test.yaml", GetParam().before, mode);
    ASSERT_TRUE(doc) << doc.error().message;
    auto edited = edit_document(*doc, GetParam().values);
    ASSERT_TRUE(edited) << edited.error().message;
    auto full = parse_document("/test.yaml", GetParam().after, mode);
    ASSERT_TRUE(full) << full.error().message;
    expect_same_document(*edited, *full);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SurgicalEdit,
    ::testing::Values(
        EditCase{"replace_plain", kHead + "nodeStatusMaxImages: 50\n", {{"nodeStatusMaxImages", -1}},
                 kHead + "nodeStatusMaxImages: -1\n"},
        EditCase{"keeps_comments_and_spacing",
                 "# top\n" + kHead + "nodeStatusMaxImages:    50    # the cap\n# tail\n", {{"nodeStatusMaxImages", 200}},
                 "# top\n" + kHead + "nodeStatusMaxImages:    200    # the cap\n# tail\n"},
        EditCase{"adds_after_kind", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration # k\nmaxPods: 10\n",
                 {{"nodeStatusMaxImages", -1}},
                 "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration # k\nnodeStatusMaxImages: -1\nmaxPods: 10\n"},
        EditCase{"crlf_kept", "apiVersion: kubelet.config.k8s.io/v1beta1\r\nkind: KubeletConfiguration\r\nmaxPods: 10\r\n",
                 {{"nodeStatusMaxImages", -1}},
                 "apiVersion: kubelet.config.k8s.io/v1beta1\r\nkind: KubeletConfiguration\r\nnodeStatusMaxImages: -1\r\nmaxPods: 10\r\n"},
        EditCase{"crlf_replace", "apiVersion: kubelet.config.k8s.io/v1beta1\r\nkind: KubeletConfiguration\r\nnodeStatusMaxImages: 5\r\n",
                 {{"nodeStatusMaxImages", 6}},
                 "apiVersion: kubelet.config.k8s.io/v1beta1\r\nkind: KubeletConfiguration\r\nnodeStatusMaxImages: 6\r\n"},
        EditCase{"no_final_newline_kind_last", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration",
                 {{"nodeStatusMaxImages", -1}},
                 "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nnodeStatusMaxImages: -1"},
        EditCase{"no_final_newline_replace", kHead + "nodeStatusMaxImages: 1", {{"nodeStatusMaxImages", 2}},
                 kHead + "nodeStatusMaxImages: 2"},
        EditCase{"yaml_1_1_directive_and_quoted_question_mark", "%YAML 1.1\n---\n" + kHead + "x: [\"a?b\", ?c]\nnodeStatusMaxImages: 1\n",
                 {{"nodeStatusMaxImages", -1}}, "%YAML 1.1\n---\n" + kHead + "x: [\"a?b\", ?c]\nnodeStatusMaxImages: -1\n"},
        EditCase{"document_markers", "---\n" + kHead + "nodeStatusMaxImages: 1\n...\n", {{"nodeStatusMaxImages", -1}},
                 "---\n" + kHead + "nodeStatusMaxImages: -1\n...\n"},
        EditCase{"duplicates_all_set", kHead + "nodeStatusMaxImages: 1\nmaxPods: 3\nnodeStatusMaxImages: 2\n",
                 {{"nodeStatusMaxImages", 9}}, kHead + "nodeStatusMaxImages: 9\nmaxPods: 3\nnodeStatusMaxImages: 9\n"},
        EditCase{"double_quoted_duration", kHead + "imageMinimumGCAge: \"2m\"\n", {{"imageMinimumGCAge", "10m"}},
                 kHead + "imageMinimumGCAge: \"10m\"\n"},
        EditCase{"single_quoted_duration", kHead + "imageMinimumGCAge: '2m'\n", {{"imageMinimumGCAge", "10m"}},
                 kHead + "imageMinimumGCAge: '10m'\n"},
        EditCase{"duration_that_looks_like_a_number_is_quoted", kHead, {{"imageMaximumGCAge", "0"}},
                 kHead + "imageMaximumGCAge: \"0\"\n"},
        EditCase{"empty_value_filled", kHead + "nodeStatusMaxImages:\nmaxPods: 3\n", {{"nodeStatusMaxImages", 4}},
                 kHead + "nodeStatusMaxImages: 4\nmaxPods: 3\n"},
        EditCase{"boolean", kHead + "serializeImagePulls: true\n", {{"serializeImagePulls", false}},
                 kHead + "serializeImagePulls: false\n"},
        EditCase{"indented_document", "  apiVersion: kubelet.config.k8s.io/v1beta1\n  kind: KubeletConfiguration\n",
                 {{"nodeStatusMaxImages", 1}},
                 "  apiVersion: kubelet.config.k8s.io/v1beta1\n  kind: KubeletConfiguration\n  nodeStatusMaxImages: 1\n"},
        EditCase{"json_two_spaces", "{\n  \"apiVersion\": \"kubelet.config.k8s.io/v1beta1\",\n  \"kind\": \"KubeletConfiguration\"\n}\n",
                 {{"nodeStatusMaxImages", -1}},
                 "{\n  \"apiVersion\": \"kubelet.config.k8s.io/v1beta1\",\n  \"kind\": \"KubeletConfiguration\",\n  \"nodeStatusMaxImages\": -1\n}\n"},
        EditCase{"json_tabs_crlf", "{\r\n\t\"kind\": \"KubeletConfiguration\",\r\n\t\"apiVersion\": \"kubelet.config.k8s.io/v1beta1\"\r\n}",
                 {{"nodeStatusMaxImages", -1}},
                 "{\r\n\t\"kind\": \"KubeletConfiguration\",\r\n\t\"nodeStatusMaxImages\": -1,\r\n\t\"apiVersion\": \"kubelet.config.k8s.io/v1beta1\"\r\n}"},
        EditCase{"json_compact", "{\"apiVersion\":\"kubelet.config.k8s.io/v1beta1\",\"kind\":\"KubeletConfiguration\",\"nodeStatusMaxImages\":50}",
                 {{"nodeStatusMaxImages", -1}, {"imageMinimumGCAge", "3m"}},
                 "{\"apiVersion\":\"kubelet.config.k8s.io/v1beta1\",\"kind\":\"KubeletConfiguration\", \"imageMinimumGCAge\":\"3m\",\"nodeStatusMaxImages\":-1}"},
        EditCase{"bom_and_edited_first_entry", "\xEF\xBB\xBFnodeStatusMaxImages: 1\n" + kHead,
                 {{"nodeStatusMaxImages", 2}}, "\xEF\xBB\xBFnodeStatusMaxImages: 2\n" + kHead},
        // libyaml counts characters, the text is edited by bytes: multi-byte UTF-8 before
        // and around the edited values, behind a BOM.
        EditCase{"utf8_around_the_edits",
                 "\xEF\xBB\xBF# caf\xC3\xA9\n\xD0\xBA\xD0\xBB\xD1\x8E\xD1\x87: \"\xE2\x82\xAC\"\n" + kHead +
                     "nodeLabels: {zon\xC3\xA9: 'gr\xC3\xB6\xC3\x9F" "e'}\nnodeStatusMaxImages: 1 # \xC3\xBC\n"
                     "imageMinimumGCAge: \"2m\"\n",
                 {{"nodeStatusMaxImages", 2}, {"imageMinimumGCAge", "5m"}, {"imageGCHighThresholdPercent", 85}},
                 "\xEF\xBB\xBF# caf\xC3\xA9\n\xD0\xBA\xD0\xBB\xD1\x8E\xD1\x87: \"\xE2\x82\xAC\"\n" + kHead +
                     "imageGCHighThresholdPercent: 85\nnodeLabels: {zon\xC3\xA9: 'gr\xC3\xB6\xC3\x9F" "e'}\n"
                     "nodeStatusMaxImages: 2 # \xC3\xBC\nimageMinimumGCAge: \"5m\"\n"},
        EditCase{"nested_neighbours", kHead + "a:\n  b: [1, 2]\n  c: x  # note\nnodeStatusMaxImages: 1\nd:\n- e\n- f\n",
                 {{"nodeStatusMaxImages", 20}},
                 kHead + "a:\n  b: [1, 2]\n  c: x  # note\nnodeStatusMaxImages: 20\nd:\n- e\n- f\n"},
        EditCase{"block_scalar_neighbours", kHead + "x: |\n  text\n  more\nnodeStatusMaxImages: 1\ny: >\n  folded\n",
                 {{"nodeStatusMaxImages", 3}}, kHead + "x: |\n  text\n  more\nnodeStatusMaxImages: 3\ny: >\n  folded\n"},
        EditCase{"comment_lines_after_the_value", kHead + "nodeStatusMaxImages: 1\n# c\n\n  # indented\nmaxPods: 3\n",
                 {{"nodeStatusMaxImages", 4}}, kHead + "nodeStatusMaxImages: 4\n# c\n\n  # indented\nmaxPods: 3\n"},
        EditCase{"added_and_replaced_among_others",
                 "a: 1\n" + kHead + "b: {c: 2}\nnodeStatusMaxImages: \"5\"\ne: 3\nimageGCHighThresholdPercent: 80 # hi\n",
                 {{"nodeStatusMaxImages", 6}, {"imageMinimumGCAge", "3m"}, {"imageGCHighThresholdPercent", 85}},
                 "a: 1\n" + kHead + "imageMinimumGCAge: 3m\nb: {c: 2}\nnodeStatusMaxImages: 6\ne: 3\n"
                 "imageGCHighThresholdPercent: 85 # hi\n"},
        EditCase{"kind_last_with_comments_after", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n# end\n",
                 {{"nodeStatusMaxImages", -1}},
                 "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nnodeStatusMaxImages: -1\n# end\n"},
        EditCase{"json_string_number_becomes_number",
                 "{\"apiVersion\": \"kubelet.config.k8s.io/v1beta1\", \"kind\": \"KubeletConfiguration\", \"nodeStatusMaxImages\": \"50\"}",
                 {{"nodeStatusMaxImages", 7}},
                 "{\"apiVersion\": \"kubelet.config.k8s.io/v1beta1\", \"kind\": \"KubeletConfiguration\", \"nodeStatusMaxImages\": 7}"}),
    [](const auto& param_info) { return param_info.param.name; });

struct BadCase {
  std::string name;
  std::string text;
  std::string message;  // a fragment the error must contain
};
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name << ": " << ::testing::PrintToString(c.text); }

class RefusedInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(RefusedInput, IsAClearError) {
  auto doc = parse_document("/etc/k.yaml", GetParam().text);
  Result<void> outcome = doc ? require_kubelet_configuration(*doc) : Result<void>(std::unexpected(doc.error()));
  if (outcome && doc) {
    auto edited = set_values(*doc, {{"nodeStatusMaxImages", -1}});
    outcome = edited ? Result<void>{} : Result<void>(std::unexpected(edited.error()));
  }
  ASSERT_FALSE(outcome) << "accepted: " << GetParam().text;
  EXPECT_NE(outcome.error().message.find(GetParam().message), std::string::npos) << outcome.error().message;
  EXPECT_NE(outcome.error().message.find("/etc/k.yaml"), std::string::npos) << outcome.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RefusedInput,
    ::testing::Values(
        BadCase{"invalid_yaml", kHead + "maxPods: [1, 2\n", "not valid YAML: line"},
        BadCase{"invalid_json", "{\"kind\": \"KubeletConfiguration\", \"apiVersion\": 1,}", "not valid JSON"},
        BadCase{"empty", "  \n", "empty"},
        BadCase{"not_a_mapping", "- a\n- b\n", "not a mapping"},
        BadCase{"wrong_kind", "apiVersion: v1\nkind: ConfigMap\n", "not a KubeletConfiguration"},
        BadCase{"wrong_api_version", "apiVersion: v1\nkind: KubeletConfiguration\n", "apiVersion"},
        BadCase{"no_kind", "apiVersion: kubelet.config.k8s.io/v1beta1\nmaxPods: 3\n", "kind is missing"},
        BadCase{"two_documents", kHead + "---\n" + kHead, "more than one YAML document"},
        BadCase{"non_scalar_value", kHead + "nodeStatusMaxImages:\n  - 1\n", "not a single-line scalar"},
        BadCase{"multi_line_scalar", kHead + "nodeStatusMaxImages: \"5\n  0\"\n", "not a single-line scalar"},
        BadCase{"tagged_scalar", kHead + "nodeStatusMaxImages: !!int 5\n", "explicit tag"},
        // libyaml's words, placed where it stopped and where the construct began.
        BadCase{"unclosed_flow_sequence", kHead + "maxPods: [1, 2\n",
                "not valid YAML: line 4, column 1: did not find expected ',' or ']' (while parsing a flow sequence "
                "that starts at line 3, column 10)"},
        BadCase{"invalid_utf8", kHead + "maxPods: \xFF\n", "not valid YAML: line 3, column 10: invalid leading UTF-8 octet"},
        BadCase{"utf16", std::string("\xFF\xFE", 2) + "a\0:\0 \x31\0", "not valid YAML: line 1, column 1"},
        BadCase{"tab_indentation", kHead + "a:\n\tb: 1\n", "line 4, column 1: tabs are not allowed for indentation"},
        BadCase{"anchor_on_a_collection", kHead + "x: &a {b: 1}\n", "an anchor (&name) at line 3"},
        BadCase{"alias", kHead + "x: 5\nnodeStatusMaxImages: *x\n", "an alias (*name) at line 4"},
        BadCase{"merge_key", kHead + "<<: {nodeStatusMaxImages: 5}\n", "a merge key (<<) at line 3"},
        // go-yaml v2 takes `! <<` as a merge key too (libyaml calls it implicit).
        BadCase{"merge_key_non_specific_tag", kHead + "! <<: {nodeStatusMaxImages: 5}\n", "a merge key (<<)"},
        BadCase{"tagged_collection", kHead + "x: !!map {b: 1}\n", "an explicit tag (tag:yaml.org,2002:map)"},
        BadCase{"collection_as_key", kHead + "? [a]\n: 1\n", "a mapping or sequence used as a key"},
        BadCase{"too_deep", kHead + "x: " + std::string(600, '[') + std::string(600, ']') + "\n", "nesting deeper than 500"},
        BadCase{"no_document", "# only a comment\n", "holds no document"},
        // kubelet reads the first document only, whatever follows it.
        BadCase{"text_after_document_end", kHead + "...\nmaxPods: 1\n",
                "more than one YAML document (or text after the end of the first)"},
        BadCase{"broken_second_document", kHead + "---\n[\n", "more than one YAML document"},
        // What libyaml 0.2.5 accepts and kubelet's go-yaml v2 refuses.
        BadCase{"question_mark_in_flow_plain_scalar", kHead + "x: [a?b]\n",
                "not valid YAML: line 3, column 5: a '?' inside a plain scalar in a flow collection"},
        BadCase{"yaml_1_2_directive", "%YAML 1.2\n---\n" + kHead,
                "not valid YAML: line 1, column 1: found incompatible YAML document"},
        // kubelet's decoder reads a file that starts with `{` as JSON: YAML flow style fails.
        BadCase{"yaml_flow_style", "{apiVersion: kubelet.config.k8s.io/v1beta1, kind: KubeletConfiguration, maxPods: 5}\n",
                "kubelet reads a file that starts with { as JSON"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(DocumentData, DuplicateKeysReadAsKubeletDoesLastWins) {
  auto doc = parse_document("/x", kHead + "nodeStatusMaxImages: 1\nnodeStatusMaxImages: 2\n");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->data["nodeStatusMaxImages"], 2);
  EXPECT_EQ(doc->last("nodeStatusMaxImages")->line, 4u);
}

TEST(DocumentData, ScalarsResolveLikeKubeletsDecoder) {
  auto doc = parse_document("/x", kHead + "a: yes\nb: '5'\nc: 5\nd: 1.5\ne: ~\nf: text\n");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->data["a"], true);
  EXPECT_EQ(doc->data["b"], "5");
  EXPECT_EQ(doc->data["c"], 5);
  EXPECT_EQ(doc->data["d"], 1.5);
  EXPECT_TRUE(doc->data["e"].is_null());
  EXPECT_EQ(doc->data["f"], "text");
}

TEST(DocumentData, NullsAreYaml11PlainNullsOnly) {
  auto doc = parse_document("/x", kHead + "a: ~\nb: null\nc:\nd: \"null\"\ne: ! null\nf: !\ng: 'NULL'\nh: Null\n");
  ASSERT_TRUE(doc) << doc.error().message;
  for (const char* key : {"a", "b", "c", "h"}) EXPECT_TRUE(doc->data[key].is_null()) << key;
  EXPECT_EQ(doc->data["d"], "null");
  EXPECT_EQ(doc->data["e"], "null");  // the non-specific tag `!` makes a string
  EXPECT_EQ(doc->data["f"], "");
  EXPECT_EQ(doc->data["g"], "NULL");
}

// Positions are bytes of the file (the BOM included), although libyaml counts characters.
TEST(DocumentPositions, AreBytesWithMultiByteText) {
  const std::string text = "\xEF\xBB\xBF\xC3\xA9t\xC3\xA9: \xC3\xBC\n" + kHead + "nodeStatusMaxImages: 'x\xE2\x82\xAC' # \xC3\xA0\n";
  for (const auto mode : {ParseValues::All, ParseValues::Needed}) {
    auto doc = parse_document("/x", text, mode);
    ASSERT_TRUE(doc) << doc.error().message;
    const Entry* e = doc->last("nodeStatusMaxImages");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->key_begin, text.find("nodeStatusMaxImages"));
    EXPECT_EQ(e->value_begin, text.find("'x"));
    EXPECT_EQ(e->value_end, text.find(" #"));
    EXPECT_EQ(e->quote, '\'');
    EXPECT_TRUE(e->editable);
    EXPECT_EQ(e->line, 4u);
    EXPECT_EQ(e->value, "x\xE2\x82\xAC");
    EXPECT_EQ(doc->last("kind")->next_key, e->key_begin);
  }
  auto doc = parse_document("/x", text);
  ASSERT_TRUE(doc);
  const Entry& first = doc->entries.front();
  EXPECT_EQ(first.key, "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(first.key_begin, 3u);
  EXPECT_EQ(first.key_end, 8u);
  EXPECT_EQ(first.value_begin, 10u);
  EXPECT_EQ(first.value_end, 12u);
  EXPECT_TRUE(first.editable);
  EXPECT_EQ(first.line, 1u);
}

TEST(VerifyEdit, CatchesAnEditThatTouchedAnotherKey) {
  auto doc = parse_document("/x", kHead + "maxPods: 3\nnodeStatusMaxImages: 1\n");
  ASSERT_TRUE(doc);
  auto bad = verify_edit(*doc, kHead + "maxPods: 4\nnodeStatusMaxImages: -1\n", {{"nodeStatusMaxImages", -1}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("maxPods changed"), std::string::npos);
}

TEST(VerifyEdit, CatchesADuplicateAdded) {
  auto doc = parse_document("/x", kHead);
  ASSERT_TRUE(doc);
  auto bad = verify_edit(*doc, kHead + "nodeStatusMaxImages: -1\nnodeStatusMaxImages: -1\n", {{"nodeStatusMaxImages", -1}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("duplicate"), std::string::npos);
}

// With ParseValues::Needed only the keys nodeimg reads are entries; the others are one
// fingerprint, which still sees any change to them.
TEST(VerifyEdit, SeesAChangeToKeysItDoesNotRead) {
  const std::string before = kHead + "maxPods: 3\nnodeStatusMaxImages: 1\nnested:\n  a: [1]\n";
  auto doc = parse_document("/x", before, ParseValues::Needed);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->entries.size(), 3u);
  EXPECT_EQ(doc->unread_count, 2u);
  EXPECT_FALSE(doc->data.contains("maxPods"));
  const kubelet::Values values = {{"nodeStatusMaxImages", -1}};
  for (const std::string& bad_text : {kHead + "maxPods: 4\nnodeStatusMaxImages: -1\nnested:\n  a: [1]\n",
                                      kHead + "maxPods: 3\nnodeStatusMaxImages: -1\nnested:\n  a: [2]\n",
                                      kHead + "nested:\n  a: [1]\nnodeStatusMaxImages: -1\nmaxPods: 3\n",
                                      kHead + "maxPods: 3\nnodeStatusMaxImages: -1\n"}) {
    auto bad = verify_edit(*doc, bad_text, values);
    ASSERT_FALSE(bad) << bad_text;
    EXPECT_NE(bad.error().message.find("keys nodeimg does not read changed"), std::string::npos) << bad.error().message;
  }
  EXPECT_TRUE(verify_edit(*doc, kHead + "maxPods: 3\nnodeStatusMaxImages: -1\nnested:\n  a: [1]\n", values));
}

TEST(DocumentData, JsonNeededValuesAreTheDecodersLastDuplicate) {
  const std::string text =
      "{\"apiVersion\": \"kubelet.config.k8s.io/v1beta1\", \"kind\": \"KubeletConfiguration\", \"big\": {\"a\": [1, \"}\"]},\n"
      " \"node\\u0053tatusMaxImages\": 1, \"nodeStatusMaxImages\": 2.0}";
  auto doc = parse_document("/x.json", text, ParseValues::Needed);
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->format, DocumentFormat::kJson);
  EXPECT_FALSE(doc->data.contains("big"));
  EXPECT_EQ(doc->unread_count, 1u);
  EXPECT_TRUE(doc->data["nodeStatusMaxImages"].is_number_float());  // 2.0: kubelet refuses it for an int
  ASSERT_EQ(doc->entries.size(), 4u);
  EXPECT_EQ(doc->entries[2].key, "nodeStatusMaxImages");
  EXPECT_EQ(doc->entries[2].line, 2u);
  EXPECT_EQ(doc->last("nodeStatusMaxImages")->value_end, text.size() - 1);
  auto all = parse_document("/x.json", text, ParseValues::All);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->data["big"]["a"][1], "}");
  EXPECT_EQ(all->entries.size(), 5u);
}

TEST(VerifyEdit, CatchesAWrongValue) {
  auto doc = parse_document("/x", kHead + "nodeStatusMaxImages: 1\n");
  ASSERT_TRUE(doc);
  EXPECT_FALSE(verify_edit(*doc, kHead + "nodeStatusMaxImages: 2\n", {{"nodeStatusMaxImages", -1}}));
}

TEST(DropIn, RendersApiVersionKindAndValues) {
  EXPECT_EQ(render_dropin("kubelet.config.k8s.io/v1beta1", {{"nodeStatusMaxImages", -1}, {"imageMaximumGCAge", "0"}}),
            "# Written by nodeimg (nodeimg kubelet apply). Do not edit: change\n"
            "# /etc/nodeimg/config.yaml and run `nodeimg kubelet apply` instead.\n"
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
            "nodeStatusMaxImages: -1\nimageMaximumGCAge: \"0\"\n");
}

}  // namespace
}  // namespace nodeimg::kubelet
