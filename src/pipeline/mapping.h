// The mapping: which tables are read and where they go (docs/dynamodb-mapping.md, "Mapping file").
// The built-in cinema mapping is the default; MAPPING_FILE (JSON or YAML) replaces it. A file is
// checked twice: its shape when it is read (unknown fields, engines, wrong types), and its tables
// and columns against the databases before a job starts. Every problem is reported at once, each
// naming where it is ("tables[2].dynamodb.key").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aws/dynamodb_client.h"
#include "config/config.h"
#include "sources/source.h"

namespace di {

struct EmbedSpec {
  std::string table;          // child table of the same database
  std::string child_column;   // its column that points to the parent
  std::string parent_column;  // the parent's column it matches
  std::string as;             // attribute name in the item
  bool many = true;           // a list, or one map (NULL when none)
};

struct IndexDef {
  std::string name;
  aws::KeyAttribute hash;  // type "" = inferred from the source column
  std::optional<aws::KeyAttribute> range;
};

struct DynamoTarget {
  std::string table;
  std::string key_attribute;  // e.g. reservation_id
  std::string key_column;     // e.g. id (MongoDB: _id)
  // "S" | "N" | "B"; "" = setup infers it (the source column's type, or the types of a
  // MongoDB collection's keys) and the runs read it from the DynamoDB table.
  std::string key_type;
  std::vector<IndexDef> indexes;
  std::vector<EmbedSpec> embed;
  std::string enrichment;  // built-in only: "room_seat_counts", "movie_genres" or ""
  // Attributes used as index keys: never written as NULL (sparse indexes).
  std::vector<std::string> IndexKeys() const;
};

struct TableMapping {
  TableMapping() = default;
  TableMapping(Engine e, std::string t, std::optional<DynamoTarget> d = std::nullopt)
      : engine(e), table(std::move(t)), dynamodb(std::move(d)) {}
  Engine engine = Engine::kMySql;
  std::string table;
  std::optional<DynamoTarget> dynamodb;
  std::string database;                  // "" = the engine's configured database
  std::vector<std::string> primary_key;  // "" = discovered
  std::string cursor = "updated_at";
  bool cursor_given = false;  // named in the file: it must exist
  bool backup = true;
  std::string Name() const { return EngineName(engine) + "." + table; }
};

// The built-in cinema mapping: every cinema table backed up, four of them migrated.
std::vector<TableMapping> CinemaMapping(const DynamoSettings& names);

// How a mapping file is written: YAML when its name ends in .yaml or .yml (any case), else JSON.
enum class MappingFormat { kJson, kYaml };
MappingFormat MappingFormatOf(const std::string& path);

// Parses a mapping document; `origin` names it in messages. A YAML document is read into the
// JSON value it stands for (mapping_yaml.h) and checked as that, so both give the same messages.
Result<std::vector<TableMapping>> ParseMapping(const std::string& text, const std::string& origin,
                                               MappingFormat format = MappingFormat::kJson);
// MAPPING_FILE when set (in the format its name gives), else the cinema mapping.
Result<std::vector<TableMapping>> LoadMapping(const Config& config);

// Checks every table, column, key and embed of `mapping` against the databases; the
// message lists every problem found.
Status CheckMappingAgainstSources(const Config& config, const std::vector<TableMapping>& mapping);

// A mapped table's description with the mapping's cursor and primary key applied.
Result<TableInfo> DescribeMapped(Source& source, const TableMapping& m);

// The DynamoDB tables `mapping` writes to (plus the state table), key and index types filled
// in from the source columns where the mapping leaves them out; a MongoDB collection's key
// type from the types its keys have (MongoKeyTypeFor), each such choice said in `notes`.
Result<std::vector<aws::TableSpec>> DynamoTableSpecs(const Config& config,
                                                     const std::vector<TableMapping>& mapping,
                                                     std::vector<std::string>* notes = nullptr);

// "N" for integer and decimal source types, else "S".
std::string AttributeTypeFor(const std::string& source_type);
// The key type of `target`'s table as the mapping and the source say it, with no call to
// DynamoDB: the mapping's key_type, else on SQL the key column's (AttributeTypeFor, as setup
// chose it); "" for a MongoDB collection whose mapping gives none (the table says: setup
// chose it from the _ids then).
std::string KnownKeyType(const DynamoTarget& target, const TableInfo& table);
// A MongoDB collection's key type from the $type names of its keys with their counts: "N"
// when all are numbers (int, long, double, decimal), "B" when all are binData, else "S".
std::string MongoKeyTypeFor(const std::map<std::string, int64_t>& types);

}  // namespace di
