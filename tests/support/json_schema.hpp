#pragma once
// A validator for the subset of JSON Schema that docs/schema/*.json use: type (a name or a
// list of names), required, properties, additionalProperties (false or a schema), items,
// enum, const, minimum, and "$ref": "#/$defs/NAME". Anything else in a schema is an error,
// so a schema cannot silently say more than is checked. Returns every violation, each with
// its JSON pointer; empty means valid.
#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nodeimg::testing {

class SchemaValidator {
 public:
  explicit SchemaValidator(nlohmann::json schema) : root_(std::move(schema)) {}

  std::vector<std::string> validate(const nlohmann::json& doc) const {
    std::vector<std::string> errors;
    check(root_, doc, "", errors);
    return errors;
  }

 private:
  static bool has_type(const nlohmann::json& v, const std::string& type) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "integer") return v.is_number_integer();
    if (type == "number") return v.is_number();
    if (type == "boolean") return v.is_boolean();
    if (type == "null") return v.is_null();
    return false;
  }

  const nlohmann::json& resolve(const nlohmann::json& schema, std::vector<std::string>& errors, const std::string& at) const {
    const std::string ref = schema.at("$ref").get<std::string>();
    const std::string prefix = "#/$defs/";
    if (!ref.starts_with(prefix) || !root_.contains("$defs") || !root_["$defs"].contains(ref.substr(prefix.size()))) {
      errors.push_back(at + ": unresolved $ref " + ref);
      static const nlohmann::json empty = nlohmann::json::object();
      return empty;
    }
    return root_["$defs"][ref.substr(prefix.size())];
  }

  void check_type(const nlohmann::json& type, const nlohmann::json& v, const std::string& at,
                  std::vector<std::string>& errors) const {
    bool ok = false;
    for (const auto& t : type.is_array() ? type : nlohmann::json::array({type})) ok = ok || has_type(v, t.get<std::string>());
    if (!ok) errors.push_back(at + ": " + v.dump().substr(0, 80) + " is not of type " + type.dump());
  }

  void check_object(const nlohmann::json& s, const nlohmann::json& v, const std::string& at,
                    std::vector<std::string>& errors) const {
    if (s.contains("required"))
      for (const auto& r : s["required"])
        if (!v.contains(r.get<std::string>())) errors.push_back(at + ": required \"" + r.get<std::string>() + "\" is missing");
    const nlohmann::json props = s.value("properties", nlohmann::json::object());
    for (const auto& [key, value] : v.items()) {
      if (props.contains(key)) check(props[key], value, at + "/" + key, errors);
      else if (s.contains("additionalProperties")) {
        const auto& extra = s["additionalProperties"];
        if (extra.is_boolean() && !extra.get<bool>()) errors.push_back(at + ": \"" + key + "\" is not allowed");
        else if (extra.is_object()) check(extra, value, at + "/" + key, errors);
      }
    }
  }

  void check(const nlohmann::json& schema, const nlohmann::json& v, const std::string& at, std::vector<std::string>& errors) const {
    const nlohmann::json& s = schema.contains("$ref") ? resolve(schema, errors, at) : schema;
    static const std::vector<std::string> known = {"$schema", "$id", "$defs", "$ref", "title", "description", "type",
                                                   "required", "properties", "additionalProperties", "items", "enum",
                                                   "const", "minimum"};
    for (const auto& [key, value] : s.items())
      if (std::find(known.begin(), known.end(), key) == known.end()) errors.push_back(at + ": schema keyword \"" + key + "\" is not supported");
    if (s.contains("type")) check_type(s["type"], v, at, errors);
    if (s.contains("enum") && std::find(s["enum"].begin(), s["enum"].end(), v) == s["enum"].end())
      errors.push_back(at + ": " + v.dump() + " is not one of " + s["enum"].dump());
    if (s.contains("const") && s["const"] != v) errors.push_back(at + ": " + v.dump() + " is not " + s["const"].dump());
    if (s.contains("minimum") && v.is_number() && v.get<double>() < s["minimum"].get<double>())
      errors.push_back(at + ": " + v.dump() + " is below " + s["minimum"].dump());
    if (v.is_object()) check_object(s, v, at, errors);
    if (v.is_array() && s.contains("items"))
      for (std::size_t i = 0; i < v.size(); ++i) check(s["items"], v[i], at + "/" + std::to_string(i), errors);
  }

  nlohmann::json root_;
};

}  // namespace nodeimg::testing
