#include "core/kubelet/document.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <yaml.h>

#include "core/common/indentation.hpp"
#include "core/kubelet/settings.hpp"
#include "core/kubelet/yaml11.hpp"
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

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// A top-level key and the first event of its value, as the YAML parser reported them.
struct TopLevelPair {
  std::string key{};
  std::size_t key_pos = 0, key_line = 0;
  std::size_t value_pos = 0;
  bool value_is_scalar = false;  // a scalar (not null, not a collection)
  bool value_is_null = false;
  std::string value_text{};
  std::uint64_t fingerprint = 0;
  std::size_t next_key_pos = std::string::npos;
};

constexpr std::uint64_t kFnvBasis = 14695981039346656037ULL;

void fnv_mix(std::uint64_t& hash, std::string_view bytes) {
  for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ULL;  // FNV-1a
  hash = (hash ^ 0xff) * 1099511628211ULL;
}

// The fingerprint of a value built in full (equal values, equal fingerprints).
std::uint64_t value_fingerprint(const Json& v) {
  std::uint64_t hash = kFnvBasis;
  fnv_mix(hash, v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return hash;
}

// The keys nodeimg reads: its managed settings, the header and the health endpoint.
bool reads_key(const std::string& key) {
  return key == "apiVersion" || key == "kind" || key == "healthzPort" || key == "healthzBindAddress" ||
         find_setting(key) != nullptr;
}

// ParseValues::Needed: the top-level pairs nodeimg does not read, folded in order into one
// fingerprint (key and value of each), so that an edit that touches any of them is seen.
struct Unread {
  std::size_t count = 0;
  std::uint64_t hash = kFnvBasis;
  void add(std::string_view key, std::uint64_t value_fingerprint) {
    ++count;
    fnv_mix(hash, key);
    fnv_mix(hash, std::string_view(reinterpret_cast<const char*>(&value_fingerprint), sizeof value_fingerprint));
  }
};

// A position as libyaml reports it. In libyaml 0.2.5 `index` counts characters, not bytes
// ("é" advances it by one), so positions in the text go through ByteOffsets.
struct YamlMark {
  std::size_t index = 0;
  std::size_t line = 0, column = 0;  // 0-based
};

YamlMark mark_of(const yaml_mark_t& m) { return {.index = m.index, .line = m.line, .column = m.column}; }

// The byte offsets of libyaml's character indexes in the UTF-8 text it parsed. Lookups
// come in (nearly) text order and each walks from the previous one, so all of them
// together cost one pass over the text.
class ByteOffsets {
 public:
  explicit ByteOffsets(std::string_view text) : text_(text) {}
  std::size_t at(std::size_t index) {
    while (chars_ < index && bytes_ < text_.size()) {
      ++bytes_;
      while (bytes_ < text_.size() && continuation(text_[bytes_])) ++bytes_;
      ++chars_;
    }
    while (chars_ > index && bytes_ > 0) {
      --bytes_;
      while (bytes_ > 0 && continuation(text_[bytes_])) --bytes_;
      --chars_;
    }
    return bytes_;
  }

 private:
  static bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
  std::string_view text_;
  std::size_t chars_ = 0, bytes_ = 0;
};

std::string_view as_text(const yaml_char_t* s) { return s ? reinterpret_cast<const char*>(s) : std::string_view(); }

// Deeper nesting is refused: the values nodeimg builds are compared and fingerprinted
// recursively. yaml-cpp 0.7, which read these files before, stopped at about 500 too
// (kubelet's go-yaml v2 at 10000).
constexpr std::size_t kMaxDepth = 500;

// Builds the document's JSON value from libyaml's events (no node tree: memory stays
// proportional to the data kept) and records every construct nodeimg refuses to model,
// because go-yaml v2 resolves it differently than a plain reading would (anchors and
// aliases, merge keys, explicit tags).
class JsonBuilder final {
 public:
  // `text` is what libyaml parses; its first byte is at `offset` in the file. keep_all =
  // false: only the keys kubelet's managed settings, kind, apiVersion and healthz need are
  // built as JSON; the others are reduced to a fingerprint of their events, so a large
  // file costs memory proportional to what nodeimg reads.
  JsonBuilder(std::string_view text, std::size_t offset, bool keep_all)
      : bytes_(text), offset_(offset), keep_all_(keep_all) {}
  Json root{};
  std::vector<TopLevelPair> pairs{};  // with keep_all false, only the pairs nodeimg reads
  Unread unread{};
  std::optional<std::string> refusal;  // "a merge key (<<) at line 7"
  // What libyaml accepts but kubelet's parser refuses: "line 3, column 5: CAUSE".
  std::optional<std::string> invalid;
  bool top_is_map = false;
  bool top_is_flow = false;

  // Takes one node event (scalar, alias, start or end of a collection); false when the
  // nesting is too deep to go on (then `refusal` says so).
  bool on_event(const yaml_event_t& e) {
    const YamlMark m = mark_of(e.start_mark);
    switch (e.type) {
      case YAML_SCALAR_EVENT: scalar(e, m); return true;
      case YAML_ALIAS_EVENT: alias(m); return true;
      case YAML_SEQUENCE_START_EVENT:
        return start(m, e.data.sequence_start.tag, e.data.sequence_start.anchor, false,
                     e.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE);
      case YAML_MAPPING_START_EVENT:
        return start(m, e.data.mapping_start.tag, e.data.mapping_start.anchor, true,
                     e.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE);
      case YAML_SEQUENCE_END_EVENT: end("]"); return true;
      case YAML_MAPPING_END_EVENT: end("}"); return true;
      default: return true;
    }
  }

 private:
  struct Frame {
    Json value{};
    bool is_map = false;
    std::optional<std::string> key{};
    YamlMark start;
  };
  ByteOffsets bytes_;
  std::size_t offset_{};
  bool keep_all_;
  std::vector<Frame> stack_{};
  bool skipping_ = false;       // the current top-level value is fingerprinted, not built
  std::size_t skip_depth_ = 0;  // collections open inside it
  std::size_t flow_depth_ = 0;  // flow collections open (only flow ones nest in a flow one)
  std::uint64_t hash_ = 0;

  std::size_t position(const YamlMark& m) { return offset_ + bytes_.at(m.index); }

  void scalar(const yaml_event_t& e, const YamlMark& m) {
    const auto& s = e.data.scalar;
    const std::string_view v(reinterpret_cast<const char*>(s.value), s.length);
    const std::string_view tag = as_text(s.tag);
    if (s.anchor) refuse("an anchor (&name)", m);
    if (!tag.empty() && tag != "!") refuse(fmt::format("an explicit tag ({})", tag), m);
    // go-yaml v2 takes `<<` as a merge key when libyaml calls it implicit: plain, or
    // tagged with the non-specific `!`.
    if (s.plain_implicit && v == "<<" && expecting_key()) refuse("a merge key (<<)", m);
    // Untagged plain scalars resolve as YAML 1.1 (`~`, `null`, empty: null); quoted ones
    // and `!`-tagged ones are strings, as in go-yaml v2.
    const bool plain = tag.empty() && s.style == YAML_PLAIN_SCALAR_STYLE;
    // libyaml 0.2.5 lets a plain scalar in a flow collection hold `?` (`[a?b]`); go-yaml v2,
    // ported from an older libyaml, ends the scalar there and refuses the file.
    if (flow_depth_ > 0 && s.style == YAML_PLAIN_SCALAR_STYLE && v.find('?') != std::string_view::npos && !invalid)
      invalid = fmt::format("line {}, column {}: a '?' inside a plain scalar in a flow collection (kubelet's YAML "
                            "parser, go-yaml v2, ends the scalar there and refuses the file); quote the value",
                            m.line + 1, m.column + 1);
    if (skipping_) return skip_scalar(plain ? "?" : "!", v);
    Json value = plain ? resolve_plain_scalar(v) : Json(std::string(v));
    const bool null = value.is_null();
    add(std::move(value), m, null ? std::string_view() : v, null);
  }
  void alias(const YamlMark& m) {
    refuse("an alias (*name)", m);
    if (skipping_) return skip_scalar("*", "");
    add(Json(nullptr), m, "", true);  // a stand-in, so the structure stays whole
  }
  bool start(const YamlMark& m, const yaml_char_t* tag_text, const yaml_char_t* anchor, bool is_map, bool flow) {
    const std::string_view tag = as_text(tag_text);
    if (stack_.empty() && is_map) top_is_map = true, top_is_flow = flow;
    if (anchor) refuse("an anchor (&name)", m);
    if (!tag.empty() && tag != "!") refuse(fmt::format("an explicit tag ({})", tag), m);
    if (stack_.size() + skip_depth_ >= kMaxDepth) {
      refusal = fmt::format("nesting deeper than {} levels at line {}", kMaxDepth, m.line + 1);
      return false;
    }
    if (flow || flow_depth_ > 0) ++flow_depth_;
    if (skipping_) {
      ++skip_depth_;
      mix(is_map ? "{" : "[");
      return true;
    }
    if (stack_.size() == 1 && stack_[0].is_map && stack_[0].key) note_value(m, "", false, false);
    stack_.push_back({is_map ? Json::object() : Json::array(), is_map, std::nullopt, m});
    return true;
  }
  void end(std::string_view bracket) {
    if (flow_depth_ > 0) --flow_depth_;
    if (skipping_ && skip_depth_ > 0) {
      mix(bracket);
      if (--skip_depth_ == 0) finish_skip();
      return;
    }
    close();
  }

  void mix(std::string_view bytes) { fnv_mix(hash_, bytes); }
  void finish_skip() {
    if (!pairs.empty()) {
      unread.add(pairs.back().key, hash_);
      pairs.pop_back();
    }
    stack_.back().key.reset();
    skipping_ = false;
  }
  void skip_scalar(std::string_view style, std::string_view text) {
    mix(style);
    mix(text);
    if (skip_depth_ == 0) finish_skip();
  }

  bool expecting_key() const { return !stack_.empty() && stack_.back().is_map && !stack_.back().key; }
  void refuse(const std::string& what, const YamlMark& m) {
    if (!refusal) refusal = fmt::format("{} at line {}", what, m.line + 1);
  }
  void close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (stack_.empty()) {
      root = std::move(f.value);
      return;
    }
    store(std::move(f.value));
  }
  void note_value(const YamlMark& m, std::string_view text, bool null, bool scalar) {
    if (pairs.empty()) return;  // only after a refused key (see store)
    auto& p = pairs.back();
    p.value_pos = position(m);
    p.value_is_null = null;
    p.value_is_scalar = scalar;
    p.value_text = std::string(text);
  }
  // A scalar value (or a key): `text` is the scalar's parsed text, empty for null.
  void add(Json v, const YamlMark& m, std::string_view text, bool null) {
    if (stack_.empty()) {
      root = std::move(v);
      return;
    }
    Frame& f = stack_.back();
    if (f.is_map && !f.key) {
      // sigs.k8s.io/yaml turns every key into a string.
      f.key = v.is_string() ? v.get<std::string>() : v.is_null() ? std::string("null") : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      if (stack_.size() == 1) {
        const std::size_t pos = position(m);
        if (!pairs.empty() && pairs.back().next_key_pos == std::string::npos) pairs.back().next_key_pos = pos;
        pairs.push_back({.key = *f.key, .key_pos = pos, .key_line = m.line + 1});
        skipping_ = !keep_all_ && !reads_key(*f.key);
        hash_ = kFnvBasis;
      }
      return;
    }
    if (stack_.size() == 1 && f.is_map) note_value(m, text, null, !null);
    store(std::move(v));
  }
  void store(Json v) {
    Frame& f = stack_.back();
    if (f.is_map && !f.key) {
      // A mapping or sequence used as a key (`? [a]`): sigs.k8s.io/yaml refuses it, and so
      // does nodeimg (found by tests/fuzz: it used to index an empty pair list).
      refuse("a mapping or sequence used as a key", f.start);
      f.key = std::string("?");
      return;
    }
    if (stack_.size() == 1 && f.is_map && !pairs.empty()) {
      pairs.back().fingerprint = value_fingerprint(v);
    }
    if (f.is_map) {
      f.value[*f.key] = std::move(v);  // a duplicate key: the last one wins, as in kubelet
      f.key.reset();
    } else {
      f.value.push_back(std::move(v));
    }
  }
};

// libyaml's own words for a parse error, located in `text` (what it parsed).
std::string yaml_error(const std::string& path, std::string_view text, const yaml_parser_t& parser) {
  if (const auto tab = tab_in_indentation(text))
    return fmt::format("{}: not valid YAML: line {}, column {}: tabs are not allowed for indentation (kubelet refuses "
                       "them too); indent with spaces",
                       path, tab->line, tab->column);
  std::size_t line = parser.problem_mark.line + 1, column = parser.problem_mark.column + 1;
  std::string cause = parser.problem ? parser.problem : parser.error == YAML_MEMORY_ERROR ? "out of memory" : "error";
  if (parser.error == YAML_READER_ERROR) {
    // The reader reports a byte offset instead of a mark.
    const std::string_view before = text.substr(0, std::min(parser.problem_offset, text.size()));
    const std::size_t nl = before.rfind('\n');
    line = static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n')) + 1;
    column = before.size() - (nl == std::string_view::npos ? 0 : nl + 1) + 1;
    if (parser.problem_value != -1) cause += fmt::format(" (byte 0x{:02x})", parser.problem_value);
  }
  if (parser.context)
    cause += fmt::format(" ({} that starts at line {}, column {})", parser.context, parser.context_mark.line + 1,
                         parser.context_mark.column + 1);
  return fmt::format("{}: not valid YAML: line {}, column {}: {}", path, line, column, cause);
}

// Accepts or refuses JSON exactly as Json::parse does, without building anything.
class JsonValidator final : public nlohmann::json_sax<Json> {
 public:
  std::string error{};
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = e.what();
    return false;
  }
};

bool json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// One past the closing quote of the JSON string that starts at `i`.
std::size_t json_string_end(std::string_view t, std::size_t i) {
  for (++i; i < t.size(); ++i) {
    if (t[i] == '\\') ++i;
    else if (t[i] == '"') return i + 1;
  }
  return t.size();
}

// One past the JSON value that starts at `i` (the text is known to be valid JSON).
std::size_t json_value_end(std::string_view t, std::size_t i) {
  if (t[i] == '"') return json_string_end(t, i);
  if (t[i] != '{' && t[i] != '[') {
    while (i < t.size() && !json_space(t[i]) && t[i] != ',' && t[i] != '}' && t[i] != ']') ++i;
    return i;
  }
  std::size_t depth = 0;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '"') i = json_string_end(t, i) - 1;
    else if (c == '{' || c == '[') ++depth;
    else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
  }
  return t.size();
}

// The top-level pairs of a valid JSON object, found by walking its bytes once. With
// keep_all false, only the pairs nodeimg reads are returned (and their values decoded into
// doc.data); the others are folded into `unread`.
std::vector<TopLevelPair> json_pairs(Document& doc, std::size_t open, bool keep_all, Unread& unread) {
  const std::string_view t = doc.text;
  std::vector<TopLevelPair> pairs{};
  std::size_t line = 1, counted = 0;
  auto line_at = [&](std::size_t pos) {
    line += static_cast<std::size_t>(std::count(t.begin() + static_cast<std::ptrdiff_t>(counted),
                                                t.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
    counted = pos;
    return line;
  };
  auto skip_space = [&](std::size_t i) {
    while (i < t.size() && json_space(t[i])) ++i;
    return i;
  };
  std::size_t i = skip_space(open + 1);
  while (i < t.size() && t[i] == '"') {
    const std::size_t key_end = json_string_end(t, i);
    const std::string_view raw_key = t.substr(i, key_end - i);
    std::string key = raw_key.find('\\') == std::string_view::npos ? std::string(raw_key.substr(1, raw_key.size() - 2))
                                                                     : Json::parse(raw_key).get<std::string>();
    TopLevelPair p{.key = std::move(key), .key_pos = i, .key_line = line_at(i)};
    if (!pairs.empty() && pairs.back().next_key_pos == std::string::npos) pairs.back().next_key_pos = i;
    const std::size_t value = skip_space(skip_space(key_end) + 1);  // past the colon
    const std::size_t value_end = json_value_end(t, value);
    const std::string_view bytes = t.substr(value, value_end - value);
    p.value_pos = value;
    p.value_is_null = bytes == "null";
    p.value_is_scalar = !p.value_is_null && bytes[0] != '{' && bytes[0] != '[';
    if (p.value_is_scalar && bytes[0] != '"') p.value_text = std::string(bytes);
    p.fingerprint = kFnvBasis;
    fnv_mix(p.fingerprint, bytes);
    if (keep_all || reads_key(p.key)) {
      if (!keep_all) doc.data[p.key] = Json::parse(bytes);  // a duplicate key: the last one wins
      pairs.push_back(std::move(p));
    } else {
      unread.add(p.key, p.fingerprint);
    }
    i = skip_space(value_end);
    if (i < t.size() && t[i] == ',') i = skip_space(i + 1);
  }
  return pairs;
}

// kubelet's decoder takes a file whose first non-blank byte is `{` as JSON (no BOM
// allowed in front), decoded strictly; the whole file is validated, but only the values
// nodeimg reads are built unless keep_all.
Result<std::vector<TopLevelPair>> read_json(Document& doc, std::size_t open, bool keep_all) {
  auto invalid = [&](const std::string& why) {
    return fail(fmt::format("{}: not valid JSON (kubelet reads a file that starts with {{ as JSON): {}", doc.path, why));
  };
  doc.format = DocumentFormat::kJson;
  doc.flow = true;
  if (keep_all) {
    try {
      doc.data = Json::parse(doc.text);
    } catch (const Json::parse_error& e) {
      return invalid(e.what());
    }
    if (!doc.data.is_object()) return fail(fmt::format("{}: not a JSON object", doc.path));
  } else {
    JsonValidator validator;
    if (!Json::sax_parse(doc.text, &validator)) return invalid(validator.error);
  }
  Unread unread{};
  auto pairs = json_pairs(doc, open, keep_all, unread);
  doc.unread_count = unread.count;
  doc.unread_fingerprint = unread.hash;
  return pairs;
}

// libyaml's parser over one UTF-8 text (a file without its BOM, or a region of one).
class YamlParser {
 public:
  explicit YamlParser(std::string_view text) : ok_(yaml_parser_initialize(&parser_) != 0) {
    if (!ok_) return;
    // Named, not guessed: a text that is not UTF-8 is refused rather than decoded.
    yaml_parser_set_encoding(&parser_, YAML_UTF8_ENCODING);
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  }
  ~YamlParser() {
    if (ok_) yaml_parser_delete(&parser_);
  }
  YamlParser(const YamlParser&) = delete;
  YamlParser& operator=(const YamlParser&) = delete;
  bool ok() const { return ok_; }
  yaml_parser_t& get() { return parser_; }

 private:
  yaml_parser_t parser_{};
  bool ok_;
};

// One event, freed as soon as it has been handled.
struct YamlEvent {
  yaml_event_t event{};
  YamlEvent() = default;
  YamlEvent(const YamlEvent&) = delete;
  YamlEvent& operator=(const YamlEvent&) = delete;
  ~YamlEvent() { yaml_event_delete(&event); }  // a zeroed (failed) event holds nothing
};

// Runs libyaml's parser over `text` and hands every node event of its first document to
// the builder, freeing each at once (no node tree). Reads one event past that document.
Result<void> run_yaml(JsonBuilder& builder, std::string_view text, const std::string& path) {
  YamlParser parser(text);
  if (!parser.ok()) return fail(fmt::format("{}: out of memory while reading YAML", path));
  for (;;) {
    YamlEvent e;
    if (!yaml_parser_parse(&parser.get(), &e.event)) return fail(yaml_error(path, text, parser.get()));
    switch (e.event.type) {
      case YAML_STREAM_END_EVENT:
        return fail(fmt::format("{}: the file holds no document", path));
      case YAML_DOCUMENT_START_EVENT:
        if (const auto* v = e.event.data.document_start.version_directive; v && (v->major != 1 || v->minor != 1))
          return fail(fmt::format("{}: not valid YAML: line {}, column {}: found incompatible YAML document (kubelet's "
                                  "YAML parser, go-yaml v2, reads %YAML 1.1 only)",
                                  path, e.event.start_mark.line + 1, e.event.start_mark.column + 1));
        break;
      case YAML_DOCUMENT_END_EVENT: {
        // kubelet's decoder reads the first document and never looks further; whatever
        // follows (another document, or text that would not even parse), nodeimg does not
        // guess. One more event is enough: nothing after it is read.
        YamlEvent next;
        if (yaml_parser_parse(&parser.get(), &next.event) && next.event.type == YAML_STREAM_END_EVENT) return {};
        return fail(fmt::format("{}: the file holds more than one YAML document (or text after the end of the first); "
                                "kubelet reads the first one only and nodeimg refuses to guess (keep one document)",
                                path));
      }
      default:
        if (!builder.on_event(e.event)) return {};  // refused: builder.refusal says why
    }
  }
}

// Runs the YAML parser over the text; fills doc.data and returns the top-level pairs.
Result<std::vector<TopLevelPair>> read_events(Document& doc, bool keep_all) {
  // kubelet's decoder accepts a UTF-8 BOM; positions still count from the file's first byte.
  const std::size_t offset = doc.text.starts_with(kBom) ? kBom.size() : 0;
  const std::string_view text = std::string_view(doc.text).substr(offset);
  JsonBuilder builder(text, offset, keep_all);
  if (auto ran = run_yaml(builder, text, doc.path); !ran) return std::unexpected(ran.error());
  if (builder.invalid) return fail(fmt::format("{}: not valid YAML: {}", doc.path, *builder.invalid));
  if (builder.refusal)
    return fail(fmt::format("{}: {}: nodeimg does not model this YAML construct and will not claim what kubelet reads; "
                            "write the values out plainly",
                            doc.path, *builder.refusal));
  if (builder.root.is_null()) return fail(fmt::format("{}: the file holds no document", doc.path));
  if (!builder.top_is_map || !builder.root.is_object())
    return fail(fmt::format("{}: the top level is not a mapping", doc.path));
  doc.flow = builder.top_is_flow;
  doc.data = std::move(builder.root);
  doc.unread_count = builder.unread.count;
  doc.unread_fingerprint = builder.unread.hash;
  return std::move(builder.pairs);
}

// Where a top-level pair's bytes are, and whether its value can be replaced in place.
Entry locate_entry(const Document& doc, const TopLevelPair& p) {
  const std::string_view t = doc.text;
  Entry e;
  e.key = p.key;
  e.line = p.key_line;
  e.key_begin = p.key_pos;
  if (e.key_begin < t.size() && (t[e.key_begin] == '"' || t[e.key_begin] == '\'')) {
    e.key_end = quoted_end(t, e.key_begin);
    if (e.key_end == std::string_view::npos) e.key_end = e.key_begin;
  } else {
    e.key_end = e.key_begin;
    while (e.key_end < t.size() && t[e.key_end] != ':' && t[e.key_end] != '\n') ++e.key_end;
    while (e.key_end > e.key_begin && is_space(t[e.key_end - 1])) --e.key_end;
  }
  std::size_t colon = e.key_end;
  while (colon < t.size() && is_space(t[colon])) ++colon;
  if (colon >= t.size() || t[colon] != ':') return e;
  std::size_t vb = colon + 1;
  while (vb < t.size() && is_space(t[vb])) ++vb;
  const bool empty = vb >= t.size() || t[vb] == '\n' || t[vb] == '\r' || t[vb] == '#' ||
                     (doc.flow && (t[vb] == ',' || t[vb] == '}'));
  if (p.value_is_null && empty) {
    // `key:` with nothing after it: the value is inserted right after the colon.
    e.value_begin = e.value_end = colon + 1;
    e.editable = true;
  } else if ((p.value_is_scalar || p.value_is_null) && vb == p.value_pos) {
    e.value_begin = vb;
    if (t[vb] == '"' || t[vb] == '\'') {
      e.quote = t[vb];
      e.value_end = quoted_end(t, vb);
      e.editable = e.value_end != std::string_view::npos;
      if (!e.editable) e.value_end = vb;
    } else {
      e.value_end = plain_end(t, vb, doc.flow);
      // Folded or otherwise clever scalars fail this check and are left alone.
      e.editable = p.value_is_null || t.substr(vb, e.value_end - vb) == p.value_text;
    }
  } else {
    e.value_begin = e.value_end = p.value_pos;
  }
  return e;
}

}  // namespace

Result<Document> parse_document(std::string path, std::string text, ParseValues values) {
  Document doc;
  doc.values = values;
  doc.path = std::move(path);
  doc.text = std::move(text);
  const std::string_view t = doc.text;
  const auto first = t.find_first_not_of(" \t\r\n\v\f");
  if (first == std::string_view::npos) return fail(fmt::format("{}: the file is empty", doc.path));
  const bool all = values == ParseValues::All;
  auto pairs = t[first] == '{' ? read_json(doc, first, all) : read_events(doc, all);
  if (!pairs) return std::unexpected(pairs.error());
  doc.entries.reserve(pairs->size());
  // Every occurrence of a duplicate key reports the value kubelet keeps (the last). For
  // JSON the data is the JSON decoder's (5.0 stays a float, which kubelet refuses for an int).
  for (const auto& p : *pairs) {
    Entry e = locate_entry(doc, p);
    e.value = doc.data.contains(p.key) ? doc.data[p.key] : Json();
    e.fingerprint = p.fingerprint;
    e.next_key = p.next_key_pos;
    doc.entries.push_back(std::move(e));
  }
  return doc;
}

Result<void> require_kubelet_configuration(const Document& doc) {
  const auto* kind = doc.last("kind");
  if (!kind || kind->value != "KubeletConfiguration")
    return fail(fmt::format("{}: not a KubeletConfiguration (kind is {})", doc.path,
                            kind ? kind->value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : "missing"));
  const auto* api = doc.last("apiVersion");
  if (!api || !api->value.is_string() ||
      !text::starts_with(api->value.get<std::string>(), "kubelet.config.k8s.io/"))
    return fail(fmt::format("{}: not a KubeletConfiguration (apiVersion is {})", doc.path,
                            api ? api->value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : "missing"));
  return {};
}

namespace {

std::string render_value(const Document& doc, const Json& value, char original_quote) {
  if (doc.format == DocumentFormat::kJson) return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!value.is_string()) return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string s = value.get<std::string>();
  if (original_quote == '\'') return "'" + s + "'";
  // A string that would read back as something else ("0", "true") must be quoted.
  if (original_quote == '"' || !resolve_plain_scalar(s).is_string()) return Json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return s;
}

std::string render_key(const Document& doc, const std::string& key, const Entry& like) {
  if (doc.format == DocumentFormat::kJson || like.quote == '"' ||
      (like.key_begin < doc.text.size() && doc.text[like.key_begin] == '"'))
    return Json(key).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return key;
}

// One replacement of bytes [begin, end) of the text; `entry` is the top-level entry whose
// lines hold it (a changed value, or the keys added after kind).
struct Splice {
  std::size_t begin, end{};
  std::string replacement{};
  const Entry* entry = nullptr;
};

// The splices that set `values`, in text order.
Result<std::vector<Splice>> plan_splices(const Document& doc, const Values& values) {
  const std::string_view t = doc.text;
  std::vector<Splice> splices{};
  Values missing{};
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
      splices.push_back({e.value_begin, e.value_end, std::move(r), &e});
    }
    if (!found) missing.push_back({.name = key, .value = value});
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
    std::string insert{};
    std::size_t at{};
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
      std::vector<std::string> lines{};
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
    splices.push_back({at, at, std::move(insert), kind});
  }
  std::sort(splices.begin(), splices.end(), [](const Splice& a, const Splice& b) { return a.begin < b.begin; });
  return splices;
}

// `t` with the splices (in text order) applied, built in one pass.
std::string apply_splices(std::string_view t, const std::vector<Splice>& splices, std::size_t from = 0,
                          std::size_t to = std::string_view::npos) {
  to = std::min(to, t.size());
  std::string out{};
  std::size_t size = to - from;
  for (const auto& s : splices) size += s.replacement.size() - (s.end - s.begin);
  out.reserve(size);
  std::size_t at = from;
  for (const auto& s : splices) {
    out.append(t.substr(at, s.begin - at));
    out.append(s.replacement);
    at = s.end;
  }
  out.append(t.substr(at, to - at));
  return out;
}

// The checks verify_edit makes on a parsed edit: as data, only the keys in `values`
// differ, and they hold exactly those values.
Result<void> compare_edit(const Document& before, const Document& after, const Values& values) {
  auto bug = [&](const std::string& why) {
    return fail(fmt::format("internal error: the edit of {} would change more than the managed keys ({}); "
                            "nothing was written",
                            before.path, why));
  };
  auto dump = [](const Json& v) { return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); };
  if (after.format != before.format) return bug("format changed");
  if (after.unread_count != before.unread_count || after.unread_fingerprint != before.unread_fingerprint)
    return bug("keys nodeimg does not read changed");
  auto desired = [&](const std::string& key) -> const Json* {
    for (const auto& [k, v] : values)
      if (k == key) return &v;
    return nullptr;
  };
  std::vector<const Entry*> kept;
  std::set<std::string> existed{};
  for (const auto& e : before.entries) existed.insert(e.key);
  std::map<std::string, int> added{};
  for (const auto& e : after.entries) {
    if (!existed.contains(e.key)) {
      const Json* want = desired(e.key);
      if (!want) return bug("new key " + e.key);
      if (e.value != *want) return bug("added " + e.key + " = " + dump(e.value));
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
      if (b.value != *want) return bug(a.key + " is " + dump(b.value) + ", not " + want->dump());
    } else if (a.fingerprint != b.fingerprint) {
      return bug(a.key + " changed");
    }
  }
  for (const auto& [k, v] : values)
    if (!existed.contains(k) && !added.contains(k)) return bug(k + " was not added");
  return {};
}

// The top-level pairs of `region` (bytes of the file from `offset`) parsed on its own as
// a block mapping, or nullopt when it does not parse cleanly that way.
std::optional<std::vector<TopLevelPair>> parse_region(std::string_view region, std::size_t offset) {
  JsonBuilder builder(region, offset, true);
  if (!run_yaml(builder, region, "")) return std::nullopt;
  if (builder.refusal || builder.invalid || !builder.top_is_map || builder.top_is_flow || !builder.root.is_object()) return std::nullopt;
  return std::move(builder.pairs);
}

bool same_place(const Entry& a, const Entry& b) {
  return a.key == b.key && a.key_begin == b.key_begin && a.key_end == b.key_end && a.value_begin == b.value_begin &&
         a.value_end == b.value_end && a.quote == b.quote && a.editable == b.editable;
}

// The lines of one top-level entry of a block-style file: from its key's line to the line
// of the next top-level key. nullopt unless the key and the next one each start their line.
struct Region {
  std::size_t begin = 0, end = 0;
};
std::optional<Region> entry_region(const Document& doc, const Entry& e) {
  const std::string_view t = doc.text;
  const std::size_t floor = t.starts_with(kBom) ? kBom.size() : 0;
  auto line_begin = [&](std::size_t pos) {
    while (pos > floor && t[pos - 1] != '\n') --pos;
    return pos;
  };
  auto indentation_only = [&](std::size_t from, std::size_t to) {
    return t.substr(from, to - from).find_first_not_of(' ') == std::string_view::npos;
  };
  Region r{.begin = line_begin(e.key_begin), .end = t.size()};
  if (!indentation_only(r.begin, e.key_begin)) return std::nullopt;
  if (e.next_key != std::string::npos) {
    r.end = line_begin(e.next_key);
    if (!indentation_only(r.end, e.next_key) || r.end <= e.value_end) return std::nullopt;
  }
  return r;
}

// Where the text moves: the splices before `pos` shift it by so many bytes and lines.
struct Shift {
  const std::vector<Splice>& splices;
  std::size_t bytes(std::size_t pos) const {
    for (const auto& s : splices)
      if (s.end <= pos) pos = pos + s.replacement.size() - (s.end - s.begin);
    return pos;
  }
  std::size_t lines(std::size_t pos) const {
    std::size_t n = 0;
    for (const auto& s : splices)
      if (s.end <= pos) n += static_cast<std::size_t>(std::count(s.replacement.begin(), s.replacement.end(), '\n'));
    return n;
  }
};

// The entries of one edited region of `after`: the region before the edit, parsed alone,
// must give exactly what the whole file gave for it (so its reading does not depend on the
// rest of the file); the edited region, parsed alone, gives its new entries. nullopt when
// that cannot be shown.
std::optional<std::vector<Entry>> reread_region(const Document& before, const Entry& e, const std::vector<Splice>& all,
                                                const Document& after, const Values& values) {
  const auto region = entry_region(before, e);
  if (!region) return std::nullopt;
  std::vector<Splice> mine{};
  for (const auto& s : all) {
    if (s.entry != &e) continue;
    if (s.begin < region->begin || s.end > region->end) return std::nullopt;
    mine.push_back(s);
  }
  const std::string_view t = before.text;
  const auto old_pairs = parse_region(t.substr(region->begin, region->end - region->begin), region->begin);
  if (!old_pairs || old_pairs->size() != 1 || old_pairs->front().key_line != 1 ||
      old_pairs->front().fingerprint != e.fingerprint || !same_place(e, locate_entry(before, old_pairs->front())))
    return std::nullopt;
  const Shift shift{all};
  const std::string region_text = apply_splices(t, mine, region->begin, region->end);
  const auto new_pairs = parse_region(region_text, shift.bytes(region->begin));
  if (!new_pairs || new_pairs->front().key != e.key) return std::nullopt;
  const std::size_t first_line = e.line + shift.lines(region->begin);
  std::vector<Entry> out{};
  std::set<std::string> added{};
  for (const auto& p : *new_pairs) {
    const auto asked = std::find_if(values.begin(), values.end(), [&](const SettingValue& v) { return v.name == p.key; });
    const bool managed = asked != values.end();
    if (&p != &new_pairs->front() && (!managed || !added.insert(p.key).second)) return std::nullopt;
    Entry n = locate_entry(after, p);
    n.line = first_line + p.key_line - 1;
    n.fingerprint = p.fingerprint;
    n.next_key = p.next_key_pos != std::string::npos ? p.next_key_pos
                 : e.next_key == std::string::npos  ? std::string::npos
                                                    : shift.bytes(e.next_key);
    n.value = managed ? asked->value : after.data.contains(p.key) ? after.data[p.key] : Json();
    if (managed && p.fingerprint != value_fingerprint(n.value)) return std::nullopt;
    out.push_back(std::move(n));
  }
  return out;
}

// Fills after.entries from `before` and the splices when every edited entry can be re-read
// on its own (block-style YAML, single-line values); false when the whole text must be
// parsed again.
bool reread_locally(const Document& before, const std::vector<Splice>& splices, Document& after, const Values& values) {
  if (before.format != DocumentFormat::kYaml || before.flow) return false;
  for (const auto& s : splices)
    if (s.begin != s.end && s.replacement.find_first_of("\r\n") != std::string::npos) return false;
  const Shift shift{splices};
  for (const auto& e : before.entries) {
    const bool edited = std::any_of(splices.begin(), splices.end(), [&](const Splice& s) { return s.entry == &e; });
    if (edited) {
      auto entries = reread_region(before, e, splices, after, values);
      if (!entries) return false;
      for (auto& n : *entries) after.entries.push_back(std::move(n));
      continue;
    }
    Entry n = e;
    n.key_begin = shift.bytes(e.key_begin);
    n.key_end = shift.bytes(e.key_end);
    n.value_begin = shift.bytes(e.value_begin);
    n.value_end = shift.bytes(e.value_end);
    if (e.next_key != std::string::npos) n.next_key = shift.bytes(e.next_key);
    n.line = e.line + shift.lines(e.key_begin);
    n.value = after.data.contains(e.key) ? after.data[e.key] : Json();
    after.entries.push_back(std::move(n));
  }
  return true;
}

}  // namespace

Result<std::string> set_values(const Document& doc, const Values& values) {
  auto splices = plan_splices(doc, values);
  if (!splices) return std::unexpected(splices.error());
  return apply_splices(doc.text, *splices);
}

namespace {

// verify_edit, taking the edited text over (a large file is not held twice).
Result<Document> reparse_edit(const Document& before, std::string new_text, const Values& values) {
  auto after = parse_document(before.path, std::move(new_text), before.values);
  if (!after) return fail(fmt::format("internal error: the edited file would not parse ({}); nothing was written",
                                       after.error().message));
  if (auto ok = compare_edit(before, *after, values); !ok) return std::unexpected(ok.error());
  return after;
}

}  // namespace

Result<Document> verify_edit(const Document& before, const std::string& new_text,
                             const Values& values) {
  return reparse_edit(before, new_text, values);
}

Result<Document> edit_document(const Document& doc, const Values& values) {
  auto splices = plan_splices(doc, values);
  if (!splices) return std::unexpected(splices.error());
  Document after{.path = doc.path,
                 .text = apply_splices(doc.text, *splices),
                 .format = doc.format,
                 .flow = doc.flow,
                 .entries = {},
                 .values = doc.values,
                 .data = doc.data,
                 .unread_count = doc.unread_count,
                 .unread_fingerprint = doc.unread_fingerprint};
  for (const auto& [key, value] : values) after.data[key] = value;
  if (!reread_locally(doc, *splices, after, values)) return reparse_edit(doc, std::move(after.text), values);
  if (auto ok = compare_edit(doc, after, values); !ok) return std::unexpected(ok.error());
  return after;
}

std::string render_dropin(std::string_view api_version, const Values& values) {
  std::string out =
      "# Written by nodeimg (nodeimg kubelet apply). Do not edit: change\n"
      "# /etc/nodeimg/config.yaml and run `nodeimg kubelet apply` instead.\n";
  out += fmt::format("apiVersion: {}\nkind: KubeletConfiguration\n", api_version);
  Document shape;  // plain YAML rendering
  for (const auto& [k, v] : values) out += k + ": " + render_value(shape, v, 0) + "\n";
  return out;
}

}  // namespace nodeimg::kubelet
