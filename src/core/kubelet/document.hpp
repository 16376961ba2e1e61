#pragma once
// A KubeletConfiguration file (YAML or JSON) read as data *and* as text, so that one
// top-level value can be changed or one key added while every other byte stays as it
// was: comments, order, indentation, quoting, CRLF line endings, a missing final newline.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/common/error.hpp"
#include "core/kubelet/settings.hpp"

namespace nodeimg::kubelet {


enum class DocumentFormat { kYaml, kJson };
std::string_view to_string(DocumentFormat f);

// One top-level `key: value` pair as it appears in the text. Duplicate keys give several
// entries; kubelet's decoder keeps the last one.
struct Entry {
  std::string key;
  std::size_t key_begin = 0, key_end = 0;      // the key's bytes, quotes included
  std::size_t value_begin = 0, value_end = 0;  // the scalar's bytes, quotes included
  std::size_t line = 0;                        // 1-based, for messages
  char quote = 0;                              // '"', '\'' or 0 for a plain scalar
  bool editable = false;  // a single-line scalar whose bytes are exactly its value
  Json value;             // null when the document was parsed with ParseValues::Needed and nodeimg does not read the key
  std::uint64_t fingerprint = 0;  // of the value as parsed: equal values, equal fingerprints
  // The first byte of the next top-level key (npos for the last entry): the entry's own
  // lines end on the line before it.
  std::size_t next_key = std::string::npos;
};

// Which values parse_document builds: every one, or only those nodeimg reads (managed
// settings, kind, apiVersion, healthz). With Needed, `entries` holds only the keys nodeimg
// reads; the others are summed up in one fingerprint (keys, values and their order), so a
// large file costs memory proportional to what nodeimg reads.
enum class ParseValues { All, Needed };

struct Document {
  std::string path;  // for messages only
  std::string text;
  DocumentFormat format = DocumentFormat::kYaml;
  bool flow = false;  // `{...}` mapping: JSON, or YAML flow style
  std::vector<Entry> entries;
  ParseValues values = ParseValues::All;  // how it was parsed (an edit is re-read the same way)
  Json data = Json::object();  // the mapping as kubelet decodes it (last duplicate wins)
  // ParseValues::Needed: the top-level keys nodeimg does not read, in order, with their values.
  std::size_t unread_count = 0;
  std::uint64_t unread_fingerprint = 0;

  const Entry* last(std::string_view key) const;
};

// Parses a single-document mapping. Errors name the path, line and cause.
Result<Document> parse_document(std::string path, std::string text, ParseValues values = ParseValues::All);

// Requires `kind: KubeletConfiguration` and a kubelet.config.k8s.io apiVersion.
Result<void> require_kubelet_configuration(const Document& doc);

// Sets top-level `values` (field -> value): every existing occurrence of a key is changed
// in place; a key that is absent is added once, right after `kind`. Returns the new text.
Result<std::string> set_values(const Document& doc, const Values& values);

// The safety net run on every edit before anything is written: re-parses `new_text` and
// requires that, as data, only the keys in `values` differ from `before` and that they
// now hold exactly those values. Anything else is an internal error and nothing is written.
Result<Document> verify_edit(const Document& before, const std::string& new_text,
                             const Values& values);

// set_values and its check in one: the edited document, verified. An edit of a block-style
// YAML file is checked by re-reading only the top-level entries it touched (each parsed on
// its own, which must first give exactly what the whole file gave for it), so a large file
// is parsed once; any other edit is checked by verify_edit. Same errors as those two.
Result<Document> edit_document(const Document& doc, const Values& values);

// A drop-in file owned by nodeimg, holding `values`; its first line is nodeimg's marker.
std::string render_dropin(std::string_view api_version, const Values& values);

}  // namespace nodeimg::kubelet
