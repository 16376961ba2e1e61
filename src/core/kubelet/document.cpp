#include "core/kubelet/document.hpp"

#include <algorithm>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/kubelet/settings.hpp"
#include "core/common/text.hpp"

namespace nodeimg::kubelet {

std::string_view to_string(DocumentFormat f) { return f == DocumentFormat::kJson ? "JSON" : "YAML"; }

const Entry* Document::last(std::string_view key) const {
  const Entry* found = nullptr;
  for (const auto& e : entries)
    if (e.key == key) found = &e;
  return found;
}

namespace {

// Plain-scalar resolution as kubelet's YAML decoder (go-yaml v2, YAML 1.1) does it.
Json resolve_plain(const std::string& s) {
  static const std::set<std::string> nulls = {"", "~", "null", "Null", "NULL"};
  static const std::set<std::string> trues = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"};
  static const std::set<std::string> falses = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"};
  static const std::regex integer(R"([-+]?(0|[1-9][0-9]*))");
  static const std::regex number(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (nulls.contains(s)) return nullptr;
  if (trues.contains(s)) return true;
  if (falses.contains(s)) return false;
  if (std::regex_match(s, integer)) {
    try {
      return std::stoll(s);
    } catch (const std::out_of_range&) {
      return s;
    }
  }
  if (std::regex_match(s, number)) return std::stod(s);
  return s;
}

Json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return node.Scalar();
      return resolve_plain(node.Scalar());
    case YAML::NodeType::Sequence: {
      Json arr = Json::array();
      for (const auto& item : node) arr.push_back(to_json(item));
      return arr;
    }
    case YAML::NodeType::Map: {
      Json obj = Json::object();
      for (const auto& kv : node) obj[kv.first.Scalar()] = to_json(kv.second);
      return obj;
    }
  }
  return nullptr;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

// End of a quoted scalar starting at `begin`, or npos when it does not close on its line.
std::size_t quoted_end(std::string_view t, std::size_t begin) {
  const char q = t[begin];
  for (std::size_t i = begin + 1; i < t.size(); ++i) {
    if (t[i] == '\n' || t[i] == '\r') return std::string_view::npos;
    if (q == '"' && t[i] == '\\') {
      ++i;
      continue;
    }
    if (t[i] == q) {
      if (q == '\'' && i + 1 < t.size() && t[i + 1] == '\'') {
        ++i;
        continue;
      }
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// End of a plain scalar: the end of the line, a comment, or (in flow style) a delimiter.
std::size_t plain_end(std::string_view t, std::size_t begin, bool flow) {
  std::size_t i = begin;
  while (i < t.size() && t[i] != '\n' && t[i] != '\r') {
    if (t[i] == '#' && i > begin && is_space(t[i - 1])) break;
    if (flow && (t[i] == ',' || t[i] == '}' || t[i] == ']')) break;
    ++i;
  }
  while (i > begin && is_space(t[i - 1])) --i;
  return i;
}

std::string yaml_error(const std::string& path, const YAML::Exception& e) {
  return fmt::format("{}: not valid YAML: line {}, column {}: {}", path, e.mark.line + 1,
                     e.mark.column + 1, e.msg);
}

}  // namespace

Result<Document> parse_document(std::string path, std::string text) {
  Document doc;
  doc.path = std::move(path);
  doc.text = std::move(text);
  const std::string_view t = doc.text;

  auto first = t.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return fail(fmt::format("{}: the file is empty", doc.path));
  if (t[first] == '{') {
    // JSON is decoded strictly; YAML flow style that is not JSON falls through to YAML.
    try {
      auto parsed = Json::parse(t);
      if (!parsed.is_object()) return fail(fmt::format("{}: not a JSON object", doc.path));
      doc.format = DocumentFormat::kJson;
    } catch (const Json::parse_error& e) {
      bool looks_like_json = t.find("\"apiVersion\"") != std::string_view::npos ||
                             t.find("\"kind\"") != std::string_view::npos;
      if (looks_like_json) return fail(fmt::format("{}: not valid JSON: {}", doc.path, e.what()));
    }
  }

  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(doc.text);
  } catch (const YAML::Exception& e) {
    return fail(yaml_error(doc.path, e));
  }
  if (docs.empty() || docs[0].IsNull()) return fail(fmt::format("{}: the file holds no document", doc.path));
  if (docs.size() > 1)
    return fail(fmt::format("{}: the file holds {} YAML documents; kubelet reads one", doc.path,
                            docs.size()));
  const YAML::Node& root = docs[0];
  if (!root.IsMap()) return fail(fmt::format("{}: the top level is not a mapping", doc.path));
  doc.flow = root.Style() == YAML::EmitterStyle::Flow;

  for (auto it = root.begin(); it != root.end(); ++it) {
    const YAML::Node& k = it->first;
    const YAML::Node& v = it->second;
    if (!k.IsScalar())
      return fail(fmt::format("{}: line {}: a top-level key is not a scalar", doc.path, k.Mark().line + 1));
    Entry e;
    e.key = k.Scalar();
    e.line = static_cast<std::size_t>(k.Mark().line) + 1;
    e.key_begin = static_cast<std::size_t>(k.Mark().pos);
    if (e.key_begin < t.size() && (t[e.key_begin] == '"' || t[e.key_begin] == '\'')) {
      e.key_end = quoted_end(t, e.key_begin);
      if (e.key_end == std::string_view::npos)
        return fail(fmt::format("{}: line {}: multi-line key", doc.path, e.line));
    } else {
      e.key_end = e.key_begin;
      while (e.key_end < t.size() && t[e.key_end] != ':' && t[e.key_end] != '\n') ++e.key_end;
      while (e.key_end > e.key_begin && is_space(t[e.key_end - 1])) --e.key_end;
    }
    e.value = to_json(v);

    // Locate the value's bytes: after the key, optional blanks, ':' and blanks.
    std::size_t colon = e.key_end;
    while (colon < t.size() && is_space(t[colon])) ++colon;
    if (colon < t.size() && t[colon] == ':') {
      std::size_t vb = colon + 1;
      while (vb < t.size() && is_space(t[vb])) ++vb;
      const bool empty = vb >= t.size() || t[vb] == '\n' || t[vb] == '\r' || t[vb] == '#' ||
                         (doc.flow && (t[vb] == ',' || t[vb] == '}'));
      if (v.IsNull() && empty && v.Tag().empty()) {
        // `key:` with nothing after it: the value is inserted right after the colon.
        e.value_begin = e.value_end = colon + 1;
        e.editable = true;
      } else if (v.IsScalar() && vb == static_cast<std::size_t>(v.Mark().pos)) {
        e.value_begin = vb;
        if (t[vb] == '"' || t[vb] == '\'') {
          e.quote = t[vb];
          e.value_end = quoted_end(t, vb);
          e.editable = e.value_end != std::string_view::npos;
          if (!e.editable) e.value_end = vb;
        } else {
          e.value_end = plain_end(t, vb, doc.flow);
          // Anything clever (tags, anchors, folded lines) fails this check and is left alone.
          e.editable = t.substr(vb, e.value_end - vb) == v.Scalar();
        }
      } else {
        e.value_begin = e.value_end = static_cast<std::size_t>(std::max(0, v.Mark().pos));
      }
    }
    doc.data[e.key] = e.value;
    doc.entries.push_back(std::move(e));
  }
  return doc;
}

Result<void> require_kubelet_configuration(const Document& doc) {
  const auto* kind = doc.last("kind");
  if (!kind || kind->value != "KubeletConfiguration")
    return fail(fmt::format("{}: not a KubeletConfiguration (kind is {})", doc.path,
                            kind ? kind->value.dump() : "missing"));
  const auto* api = doc.last("apiVersion");
  if (!api || !api->value.is_string() ||
      !text::starts_with(api->value.get<std::string>(), "kubelet.config.k8s.io/"))
    return fail(fmt::format("{}: not a KubeletConfiguration (apiVersion is {})", doc.path,
                            api ? api->value.dump() : "missing"));
  return {};
}

namespace {

std::string render_value(const Document& doc, const Json& value, char original_quote) {
  if (doc.format == DocumentFormat::kJson) return value.dump();
  if (!value.is_string()) return value.dump();
  const std::string s = value.get<std::string>();
  if (original_quote == '\'') return "'" + s + "'";
  // A string that would read back as something else ("0", "true") must be quoted.
  if (original_quote == '"' || !resolve_plain(s).is_string()) return Json(s).dump();
  return s;
}

std::string render_key(const Document& doc, const std::string& key, const Entry& like) {
  if (doc.format == DocumentFormat::kJson || like.quote == '"' ||
      (like.key_begin < doc.text.size() && doc.text[like.key_begin] == '"'))
    return Json(key).dump();
  return key;
}

struct Splice {
  std::size_t begin, end;
  std::string replacement;
};

}  // namespace

Result<std::string> set_values(const Document& doc, const std::vector<std::pair<std::string, Json>>& values) {
  const std::string_view t = doc.text;
  std::vector<Splice> splices;
  std::vector<std::pair<std::string, Json>> missing;
  for (const auto& [key, value] : values) {
    bool found = false;
    for (const auto& e : doc.entries) {
      if (e.key != key) continue;
      found = true;
      if (!e.editable)
        return fail(fmt::format("{}: line {}: the value of {} is not a single-line scalar; "
                                "nodeimg will not rewrite it (edit it by hand)",
                                doc.path, e.line, key));
      std::string r = render_value(doc, value, e.quote);
      if (e.value_begin == e.value_end) r = " " + r;  // `key:` had no value
      splices.push_back({e.value_begin, e.value_end, std::move(r)});
    }
    if (!found) missing.emplace_back(key, value);
  }

  if (!missing.empty()) {
    const Entry* kind = doc.last("kind");
    if (!kind || !kind->editable)
      return fail(fmt::format("{}: no single-line `kind` entry to add keys after", doc.path));
    const std::string eol(text::line_ending(t));
    // The kind key's indentation, copied byte for byte.
    const std::size_t line_begin = text::line_start(t, text::line_of(t, kind->key_begin));
    std::string indent(t.substr(line_begin, kind->key_begin - line_begin));
    if (indent.find_first_not_of(" \t") != std::string::npos) indent.clear();
    std::string insert;
    std::size_t at;
    if (doc.flow) {
      // After kind's value: `, "key": value` on a new line when entries are one per line.
      std::size_t prev = kind->key_begin;
      while (prev > 0 && (is_space(t[prev - 1]) || t[prev - 1] == '\n' || t[prev - 1] == '\r')) --prev;
      const bool one_per_line = t.substr(prev, kind->key_begin - prev).find('\n') != std::string_view::npos;
      const std::string sep(t.substr(kind->key_end, kind->value_begin - kind->key_end));
      for (const auto& [key, value] : missing)
        insert += "," + (one_per_line ? eol + indent : std::string(" ")) + render_key(doc, key, *kind) +
                  sep + render_value(doc, value, 0);
      at = kind->value_end;
    } else {
      // On the lines right after kind's line.
      std::size_t nl = t.find('\n', kind->value_end);
      std::vector<std::string> lines;
      for (const auto& [key, value] : missing)
        lines.push_back(indent + render_key(doc, key, *kind) + ": " + render_value(doc, value, 0));
      if (nl == std::string_view::npos) {
        at = t.size();
        for (const auto& l : lines) insert += eol + l;  // the file keeps its missing final newline
      } else {
        at = nl + 1;
        for (const auto& l : lines) insert += l + eol;
      }
    }
    splices.push_back({at, at, std::move(insert)});
  }

  std::sort(splices.begin(), splices.end(), [](const Splice& a, const Splice& b) { return a.begin > b.begin; });
  std::string out = doc.text;
  for (const auto& s : splices) out.replace(s.begin, s.end - s.begin, s.replacement);
  return out;
}

Result<Document> verify_edit(const Document& before, const std::string& new_text,
                             const std::vector<std::pair<std::string, Json>>& values) {
  auto after = parse_document(before.path, new_text);
  if (!after) return fail(fmt::format("internal error: the edited file would not parse ({}); nothing was written",
                                       after.error().message));
  auto bug = [&](const std::string& why) {
    return fail(fmt::format("internal error: the edit of {} would change more than the managed keys ({}); "
                            "nothing was written",
                            before.path, why));
  };
  if (after->format != before.format) return bug("format changed");
  auto desired = [&](const std::string& key) -> const Json* {
    for (const auto& [k, v] : values)
      if (k == key) return &v;
    return nullptr;
  };
  std::vector<const Entry*> kept;
  std::set<std::string> existed;
  for (const auto& e : before.entries) existed.insert(e.key);
  std::map<std::string, int> added;
  for (const auto& e : after->entries) {
    if (!existed.contains(e.key)) {
      const Json* want = desired(e.key);
      if (!want) return bug("new key " + e.key);
      if (e.value != *want) return bug("added " + e.key + " = " + e.value.dump());
      if (++added[e.key] > 1) return bug("duplicate " + e.key);
      continue;
    }
    kept.push_back(&e);
  }
  if (kept.size() != before.entries.size()) return bug("entries added or removed");
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const Entry& a = before.entries[i];
    const Entry& b = *kept[i];
    if (a.key != b.key) return bug("order changed at " + a.key);
    if (const Json* want = desired(a.key)) {
      if (b.value != *want) return bug(a.key + " is " + b.value.dump() + ", not " + want->dump());
    } else if (a.value != b.value) {
      return bug(a.key + " changed");
    }
  }
  for (const auto& [k, v] : values)
    if (!existed.contains(k) && !added.contains(k)) return bug(k + " was not added");
  return after;
}

std::string render_dropin(std::string_view api_version, const std::vector<std::pair<std::string, Json>>& values) {
  std::string out =
      "# Written by nodeimg (nodeimg kubelet apply). Do not edit: change\n"
      "# /etc/nodeimg/config.yaml and run `nodeimg kubelet apply` instead.\n";
  out += fmt::format("apiVersion: {}\nkind: KubeletConfiguration\n", api_version);
  Document shape;  // plain YAML rendering
  for (const auto& [k, v] : values) out += k + ": " + render_value(shape, v, 0) + "\n";
  return out;
}

}  // namespace nodeimg::kubelet
