// pgoutput: what a PostgreSQL walsender sends to a logical replication client, decoded. A
// START_REPLICATION … LOGICAL stream (proto_version '1') is a COPY BOTH stream whose frames are
// XLogData ('w', carrying one pgoutput message) and primary keepalives ('k'); the client
// answers with standby status updates ('r'), which is how the slot's confirmed position
// moves. The messages: Begin, Relation (a table's columns, sent before its first change and
// again after DDL), Insert, Update, Delete, Truncate, Commit; Origin, Type and logical
// decoding messages are told apart and passed over.
//
// Pure functions over bytes: no connection, no allocation past the decoded values. A decoded
// Cell's text is a view into the frame given, valid while that frame is. Thread-safe (no
// state). A frame or message that is cut short or malformed is a Corruption error naming
// what was expected where; none throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace di::pgoutput {

// A WAL position ("0/16B3748" as PostgreSQL writes it).
std::string LsnText(uint64_t lsn);
Result<uint64_t> ParseLsn(std::string_view text);

// PostgreSQL's timestamps count microseconds from 2000-01-01 00:00:00 UTC.
constexpr int64_t kPgEpochUnixMicros = 946684800LL * 1000000;
inline int64_t UnixMicros(int64_t pg_micros) {
  return pg_micros + kPgEpochUnixMicros;
}

// ---------------------------------------------------------------------------------------
// The COPY BOTH frames

struct XLogData {
  uint64_t start = 0;        // where the message's WAL begins
  uint64_t wal_end = 0;      // the server's current end of WAL
  int64_t send_time = 0;     // PostgreSQL micros
  std::string_view message;  // one pgoutput message
};
struct Keepalive {
  uint64_t wal_end = 0;
  int64_t send_time = 0;
  bool reply_requested = false;  // answer now, or the server may drop the connection
};
using Frame = std::variant<XLogData, Keepalive>;
Result<Frame> ParseFrame(std::string_view frame);

// A standby status update: WAL written, flushed (the position the slot confirms) and
// applied, at `now` (PostgreSQL micros). 34 bytes.
std::string StandbyStatus(uint64_t written, uint64_t flushed, uint64_t applied, int64_t now,
                          bool reply_requested = false);

// ---------------------------------------------------------------------------------------
// The messages

struct Begin {
  uint64_t final_lsn = 0;  // the commit's LSN
  int64_t commit_time = 0;
  uint32_t xid = 0;
};
struct Commit {
  uint64_t commit_lsn = 0;
  uint64_t end_lsn = 0;  // just past the commit: where a resumed stream starts
  int64_t commit_time = 0;
};
struct RelationColumn {
  bool key = false;  // part of the replica identity
  std::string name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
};
struct Relation {
  uint32_t oid = 0;
  std::string schema;  // "" for pg_catalog
  std::string name;
  // 'd' default (the primary key), 'n' nothing, 'f' full, 'i' an index
  char replica_identity = 'd';
  std::vector<RelationColumn> columns;
};
struct Cell {
  enum Kind : char { kNull = 'n', kUnchanged = 'u', kText = 't', kBinary = 'b' };
  Kind kind = kNull;
  std::string_view data;  // kText: the value's text; kBinary: its bytes
};
using Tuple = std::vector<Cell>;
struct Insert {
  uint32_t relation = 0;
  Tuple row;
};
struct Update {
  uint32_t relation = 0;
  // 'K': `old` holds the replica identity's columns (the key changed); 'O': the whole old
  // row (REPLICA IDENTITY FULL); 0: no old tuple sent.
  char old_kind = 0;
  Tuple old;
  Tuple row;  // the new row; an unchanged TOAST value is a kUnchanged cell
};
struct Delete {
  uint32_t relation = 0;
  char old_kind = 'K';  // 'K' the key columns (others null), 'O' the whole old row
  Tuple old;
};
struct Truncate {
  bool cascade = false, restart_identity = false;
  std::vector<uint32_t> relations;
};
// Origin ('O'), Type ('Y'), logical decoding message ('M'): nothing a sink applies.
struct Other {
  char tag = 0;
};
using Message = std::variant<Begin, Commit, Relation, Insert, Update, Delete, Truncate, Other>;

// One message of an XLogData frame. Streamed transactions (proto_version 2+) are not asked
// for; their messages ('S', 'E', 'c', 'A') are refused by name.
Result<Message> ParseMessage(std::string_view message);

}  // namespace di::pgoutput
