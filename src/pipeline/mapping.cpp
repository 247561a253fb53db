#include "pipeline/mapping.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "pipeline/mapping_yaml.h"
#include "sources/factory.h"
#include "sources/mongo_source.h"

namespace di {
namespace {

using OJ = nlohmann::ordered_json;

// Collects problems of a document, each with its place.
class Problems {
 public:
  void Add(const std::string& where, const std::string& what) {
    list_.push_back(where + ": " + what);
  }
  bool empty() const { return list_.empty(); }
  std::string Joined(const std::string& head) const {
    std::string s = head;
    for (const auto& p : list_) s += "\n  " + p;
    return s;
  }

 private:
  std::vector<std::string> list_;
};

void OnlyFields(const OJ& obj, const std::string& where, const std::set<std::string>& allowed,
                Problems& p) {
  for (const auto& [k, v] : obj.items())
    if (!allowed.count(k)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      p.Add(where + "." + k, "unknown field; expected one of " + list);
    }
}

std::string Str(const OJ& obj, const std::string& field, const std::string& where, Problems& p,
                bool required) {
  if (!obj.contains(field)) {
    if (required) p.Add(where + "." + field, "missing (required)");
    return "";
  }
  const OJ& v = obj[field];
  if (!v.is_string() || v.get<std::string>().empty()) {
    p.Add(where + "." + field, "must be a non-empty string");
    return "";
  }
  return v.get<std::string>();
}

bool Bool(const OJ& obj, const std::string& field, const std::string& where, Problems& p,
          bool fallback) {
  if (!obj.contains(field)) return fallback;
  if (!obj[field].is_boolean()) {
    p.Add(where + "." + field, "must be true or false");
    return fallback;
  }
  return obj[field].get<bool>();
}

// {"attribute": "column"} with exactly `count` entries (max when count_max).
std::vector<std::pair<std::string, std::string>> Pairs(const OJ& obj, const std::string& field,
                                                       const std::string& where, Problems& p) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!obj.contains(field)) {
    p.Add(where + "." + field, "missing (required)");
    return out;
  }
  const OJ& m = obj[field];
  if (!m.is_object() || m.size() != 1) {
    p.Add(where + "." + field, "must be an object with one entry, {\"attribute\": \"column\"}");
    return out;
  }
  for (const auto& [k, v] : m.items()) {
    if (!v.is_string() || v.get<std::string>().empty() || k.empty())
      p.Add(where + "." + field + "." + k, "must name a column (a non-empty string)");
    else
      out.emplace_back(k, v.get<std::string>());
  }
  return out;
}

std::optional<aws::KeyAttribute> IndexKey(const OJ& obj, const std::string& field,
                                          const std::string& where, Problems& p, bool required) {
  std::string name = Str(obj, field, where, p, required);
  if (name.empty()) return std::nullopt;
  return aws::KeyAttribute{name, ""};
}

DynamoTarget ParseTarget(const OJ& d, const std::string& where, Problems& p) {
  DynamoTarget t;
  if (!d.is_object()) {
    p.Add(where, "must be an object");
    return t;
  }
  OnlyFields(d, where, {"table", "key", "key_type", "indexes", "embed"}, p);
  t.table = Str(d, "table", where, p, true);
  auto key = Pairs(d, "key", where, p);
  if (!key.empty()) {
    t.key_attribute = key[0].first;
    t.key_column = key[0].second;
  }
  t.key_type = Str(d, "key_type", where, p, false);
  if (!t.key_type.empty() && t.key_type != "S" && t.key_type != "N" && t.key_type != "B")
    p.Add(where + ".key_type", "must be \"S\", \"N\" or \"B\"");
  if (d.contains("indexes")) {
    if (!d["indexes"].is_array()) p.Add(where + ".indexes", "must be a list");
    size_t i = 0;
    for (const auto& ix : d["indexes"].is_array() ? d["indexes"] : OJ::array()) {
      std::string w = where + ".indexes[" + std::to_string(i++) + "]";
      if (!ix.is_object()) {
        p.Add(w, "must be an object");
        continue;
      }
      OnlyFields(ix, w, {"name", "hash", "range"}, p);
      IndexDef def;
      def.name = Str(ix, "name", w, p, true);
      if (auto h = IndexKey(ix, "hash", w, p, true)) def.hash = *h;
      def.range = IndexKey(ix, "range", w, p, false);
      t.indexes.push_back(def);
    }
  }
  if (d.contains("embed")) {
    if (!d["embed"].is_array()) p.Add(where + ".embed", "must be a list");
    size_t i = 0;
    for (const auto& e : d["embed"].is_array() ? d["embed"] : OJ::array()) {
      std::string w = where + ".embed[" + std::to_string(i++) + "]";
      if (!e.is_object()) {
        p.Add(w, "must be an object");
        continue;
      }
      OnlyFields(e, w, {"table", "match", "as", "many"}, p);
      EmbedSpec spec;
      spec.table = Str(e, "table", w, p, true);
      spec.as = Str(e, "as", w, p, true);
      spec.many = Bool(e, "many", w, p, true);
      auto match = Pairs(e, "match", w, p);
      if (!match.empty()) {
        spec.child_column = match[0].first;
        spec.parent_column = match[0].second;
      }
      t.embed.push_back(spec);
    }
  }
  return t;
}

// The document as JSON, whichever format it is written in.
Result<OJ> ReadDocument(const std::string& text, const std::string& origin, MappingFormat format) {
  if (format == MappingFormat::kYaml) return YamlToJson(text, origin);
  try {
    return OJ::parse(text);
  } catch (const std::exception& e) {
    std::string hint = origin.ends_with(".json") ? "" : " (a YAML file must end in .yaml or .yml)";
    return InvalidArgument(origin + " is not valid JSON: " + e.what() + hint);
  }
}

bool IsIntegerOrDecimal(std::string t) {
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t.find("interval") != std::string::npos || t.find("point") != std::string::npos ||
      t.find("[]") != std::string::npos)
    return false;
  for (const char* w : {"int", "decimal", "numeric", "serial", "double", "float", "real"})
    if (t.find(w) != std::string::npos) return true;
  return false;
}

const ColumnInfo* FindColumn(const TableInfo& t, const std::string& name) {
  for (const auto& c : t.columns)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace

std::vector<std::string> DynamoTarget::IndexKeys() const {
  std::vector<std::string> out;
  for (const auto& ix : indexes) {
    out.push_back(ix.hash.name);
    if (ix.range) out.push_back(ix.range->name);
  }
  return out;
}

std::vector<TableMapping> CinemaMapping(const DynamoSettings& n) {
  using aws::KeyAttribute;
  auto mapped = [](Engine e, std::string table, DynamoTarget t) {
    return TableMapping(e, std::move(table), std::move(t));
  };
  auto plain = [](Engine e, std::string table) { return TableMapping(e, std::move(table)); };
  return {
      mapped(Engine::kMySql, "rooms",
             DynamoTarget{n.rooms_table,
                          "room_id",
                          "id",
                          "N",
                          {IndexDef{"screen_type-index", {"screen_type", "S"}, std::nullopt}},
                          {},
                          "room_seat_counts"}),
      plain(Engine::kMySql, "seats"),
      plain(Engine::kMySql, "schedules"),
      mapped(Engine::kPostgres, "users",
             DynamoTarget{n.users_table,
                          "user_id",
                          "id",
                          "N",
                          {IndexDef{"email-index", {"email", "S"}, std::nullopt}},
                          {},
                          ""}),
      mapped(Engine::kPostgres, "reservations",
             DynamoTarget{
                 n.reservations_table,
                 "reservation_id",
                 "id",
                 "N",
                 {IndexDef{"user_id-index", {"user_id", "N"}, KeyAttribute{"created_at", "S"}},
                  IndexDef{"movie_id-index", {"movie_id", "S"}, KeyAttribute{"created_at", "S"}}},
                 {{"reserved_seats", "reservation_id", "id", "seats", true},
                  {"payments", "reservation_id", "id", "payment", false}},
                 ""}),
      plain(Engine::kPostgres, "reserved_seats"),
      plain(Engine::kPostgres, "payments"),
      mapped(
          Engine::kMongo, "movies",
          DynamoTarget{n.movies_table,
                       "movie_id",
                       "_id",
                       "S",
                       {IndexDef{"genre-index", {"genre", "S"}, KeyAttribute{"release_date", "S"}}},
                       {},
                       "movie_genres"}),
      plain(Engine::kMongo, "genres"),
  };
}

MappingFormat MappingFormatOf(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".yaml" || ext == ".yml" ? MappingFormat::kYaml : MappingFormat::kJson;
}

Result<std::vector<TableMapping>> ParseMapping(const std::string& text, const std::string& origin,
                                               MappingFormat format) {
  ASSIGN_OR_RETURN(OJ doc, ReadDocument(text, origin, format));
  Problems p;
  std::vector<TableMapping> out;
  if (!doc.is_object() || !doc.contains("tables") || !doc["tables"].is_array()) {
    return InvalidArgument(
        origin + ": expected {\"tables\": [ ... ]} (see docs/dynamodb-mapping.md, Mapping file)");
  }
  OnlyFields(doc, "", {"tables"}, p);
  std::set<std::string> seen;
  size_t i = 0;
  for (const auto& t : doc["tables"]) {
    std::string w = "tables[" + std::to_string(i++) + "]";
    if (!t.is_object()) {
      p.Add(w, "must be an object");
      continue;
    }
    OnlyFields(t, w, {"source", "database", "table", "primary_key", "cursor", "backup", "dynamodb"},
               p);
    std::string source = Str(t, "source", w, p, true);
    auto engine = ParseEngine(source);
    if (!source.empty() && !engine.ok()) p.Add(w + ".source", engine.status().message());
    TableMapping m(engine.ok() ? *engine : Engine::kMySql, Str(t, "table", w, p, true));
    m.database = Str(t, "database", w, p, false);
    if (t.contains("primary_key")) {
      const OJ& pk = t["primary_key"];
      bool good = pk.is_array() && !pk.empty();
      for (const auto& c : good ? pk : OJ::array())
        if (!c.is_string() || c.get<std::string>().empty())
          good = false;
        else
          m.primary_key.push_back(c.get<std::string>());
      if (!good) p.Add(w + ".primary_key", "must be a non-empty list of column names");
    }
    if (t.contains("cursor")) {
      m.cursor = Str(t, "cursor", w, p, true);
      m.cursor_given = true;
    }
    m.backup = Bool(t, "backup", w, p, true);
    if (t.contains("dynamodb")) m.dynamodb = ParseTarget(t["dynamodb"], w + ".dynamodb", p);
    if (engine.ok() && !m.table.empty()) {
      std::string id = m.Name() + "@" + m.database;
      if (!seen.insert(id).second) p.Add(w, "table " + m.Name() + " is listed twice");
    }
    if (!m.backup && !m.dynamodb)
      p.Add(w, "neither backed up nor mapped to DynamoDB; set backup or dynamodb");
    out.push_back(std::move(m));
  }
  if (out.empty()) p.Add("tables", "is empty: list at least one table");
  if (!p.empty()) return InvalidArgument(p.Joined(origin + " has problems:"));
  return out;
}

Result<std::vector<TableMapping>> LoadMapping(const Config& config) {
  if (config.run.mapping_file.empty()) return CinemaMapping(config.dynamodb);
  std::ifstream in(config.run.mapping_file);
  if (!in)
    return InvalidArgument("MAPPING_FILE: cannot read '" + config.run.mapping_file +
                           "'; point it to a JSON or YAML mapping file or unset it for the cinema "
                           "mapping");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseMapping(ss.str(), "MAPPING_FILE " + config.run.mapping_file,
                      MappingFormatOf(config.run.mapping_file));
}

Result<TableInfo> DescribeMapped(Source& source, const TableMapping& m) {
  ASSIGN_OR_RETURN(TableInfo info, source.Describe(m.table, m.cursor));
  if (!m.primary_key.empty()) info.primary_key = m.primary_key;
  if (m.engine == Engine::kMongo && info.primary_key.empty()) info.primary_key = {"_id"};
  return info;
}

Status CheckMappingAgainstSources(const Config& config, const std::vector<TableMapping>& mapping) {
  Problems p;
  std::map<std::string, std::unique_ptr<Source>> open;  // engine@database -> source
  std::map<std::string, std::string> unreachable;
  auto source_for = [&](const TableMapping& m) -> Source* {
    std::string id = EngineName(m.engine) + "@" + m.database;
    if (unreachable.count(id)) return nullptr;
    if (!open.count(id)) {
      auto s = OpenSource(m.engine, config, m.database);
      if (!s.ok()) {
        unreachable[id] = s.status().message();
        p.Add(m.Name(), s.status().message());
        return nullptr;
      }
      open[id] = std::move(*s);
    }
    return open[id].get();
  };
  for (size_t i = 0; i < mapping.size(); ++i) {
    const TableMapping& m = mapping[i];
    std::string w = "tables[" + std::to_string(i) + "] (" + m.Name() + ")";
    Source* src = source_for(m);
    if (!src) continue;
    auto info = src->Describe(m.table, m.cursor);
    if (!info.ok()) {
      p.Add(w, info.status().message());
      continue;
    }
    bool sql = m.engine != Engine::kMongo;
    auto need_column = [&](const TableInfo& t, const std::string& col, const std::string& field) {
      if (sql && !FindColumn(t, col))
        p.Add(w + "." + field,
              "column '" + col + "' is not in " + EngineName(t.engine) + "." + t.name);
    };
    for (const auto& c : m.primary_key) need_column(*info, c, "primary_key");
    if (m.cursor_given) need_column(*info, m.cursor, "cursor");
    if (!m.dynamodb) continue;
    const DynamoTarget& d = *m.dynamodb;
    need_column(*info, d.key_column, "dynamodb.key");
    if (sql && m.primary_key.empty() && info->primary_key.empty())
      p.Add(w, "has no primary key; name one with primary_key to map it to DynamoDB");
    std::set<std::string> embedded;
    for (const auto& e : d.embed) {
      embedded.insert(e.as);
      auto child = src->Describe(e.table);
      if (!child.ok()) {
        p.Add(w + ".dynamodb.embed", child.status().message());
        continue;
      }
      need_column(*child, e.child_column, "dynamodb.embed.match");
      need_column(*info, e.parent_column, "dynamodb.embed.match");
    }
    for (const auto& ix : d.indexes)
      for (const auto* k : {&ix.hash, ix.range ? &*ix.range : nullptr})
        if (k && !embedded.count(k->name) && d.enrichment.empty())
          need_column(*info, k->name, "dynamodb.indexes." + ix.name);
  }
  if (!p.empty()) return InvalidArgument(p.Joined("the mapping does not match the databases:"));
  return Status::Ok();
}

std::string AttributeTypeFor(const std::string& source_type) {
  return IsIntegerOrDecimal(source_type) ? "N" : "S";
}

std::string KnownKeyType(const DynamoTarget& target, const TableInfo& table) {
  if (!target.key_type.empty() || table.engine == Engine::kMongo) return target.key_type;
  const ColumnInfo* c = FindColumn(table, target.key_column);
  return c ? AttributeTypeFor(c->source_type) : "";
}

std::string MongoKeyTypeFor(const std::map<std::string, int64_t>& types) {
  auto all_in = [&](std::initializer_list<const char*> names) {
    for (const auto& entry : types) {  // (clang 14 cannot capture a structured binding)
      const std::string& type = entry.first;
      if (entry.second > 0 && std::find_if(names.begin(), names.end(),
                                           [&](const char* x) { return type == x; }) == names.end())
        return false;
    }
    return !types.empty();
  };
  if (all_in({"int", "long", "double", "decimal"})) return "N";
  if (all_in({"binData"})) return "B";
  return "S";
}

namespace {

// The key type of a MongoDB collection the mapping leaves it out for: what its `_id`s are
// (MongoKeyTypeFor), said in `notes`.
Result<std::string> InferMongoKeyType(const Config& config, const TableMapping& m,
                                      std::vector<std::string>* notes) {
  constexpr int64_t kSample = 10000;
  const DynamoTarget& d = *m.dynamodb;
  MongoSettings s = config.mongo;
  if (!m.database.empty()) s.database = m.database;
  ASSIGN_OR_RETURN(FieldTypeCounts found, CountFieldTypes(s, m.table, d.key_column, kSample));
  const std::string type = MongoKeyTypeFor(found.counts);
  if (notes) {
    std::string seen;
    for (const auto& [t, n] : found.counts)
      seen += (seen.empty() ? "" : ", ") + t + " " + std::to_string(n);
    notes->push_back("DynamoDB table " + d.table + " key " + d.key_attribute + ": " + type +
                     ", from the types of " + m.Name() + "." + d.key_column + " in " +
                     (found.sampled ? "a sample of " : "") + std::to_string(found.documents) +
                     " documents (" + (seen.empty() ? "none" : seen) +
                     "); set key_type in the mapping to choose");
  }
  return type;
}

}  // namespace

Result<std::vector<aws::TableSpec>> DynamoTableSpecs(const Config& config,
                                                     const std::vector<TableMapping>& mapping,
                                                     std::vector<std::string>* notes) {
  std::vector<aws::TableSpec> out;
  for (const auto& m : mapping) {
    if (!m.dynamodb) continue;
    const DynamoTarget& d = *m.dynamodb;
    std::optional<TableInfo> info;
    auto type_of = [&](const std::string& type, const std::string& column) -> Result<std::string> {
      if (!type.empty()) return type;
      if (m.engine == Engine::kMongo) return std::string("S");
      if (!info) {
        ASSIGN_OR_RETURN(auto src, OpenSource(m.engine, config, m.database));
        ASSIGN_OR_RETURN(info, DescribeMapped(*src, m));
      }
      const ColumnInfo* c = FindColumn(*info, column);
      return c ? AttributeTypeFor(c->source_type) : std::string("S");
    };
    aws::TableSpec spec;
    spec.name = d.table;
    std::string kt = d.key_type;
    if (kt.empty() && m.engine == Engine::kMongo) {
      ASSIGN_OR_RETURN(kt, InferMongoKeyType(config, m, notes));
    }
    ASSIGN_OR_RETURN(kt, type_of(kt, d.key_column));
    spec.hash = {d.key_attribute, kt};
    for (const auto& ix : d.indexes) {
      aws::IndexSpec is;
      is.name = ix.name;
      ASSIGN_OR_RETURN(std::string ht, type_of(ix.hash.type, ix.hash.name));
      is.hash = {ix.hash.name, ht};
      if (ix.range) {
        ASSIGN_OR_RETURN(std::string rt, type_of(ix.range->type, ix.range->name));
        is.range = aws::KeyAttribute{ix.range->name, rt};
      }
      spec.global_indexes.push_back(is);
    }
    out.push_back(spec);
  }
  out.push_back({config.dynamodb.state_table, {"pk", "S"}, aws::KeyAttribute{"sk", "S"}, {}});
  return out;
}

}  // namespace di
