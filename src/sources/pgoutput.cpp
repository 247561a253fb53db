#include "sources/pgoutput.h"

#include <charconv>
#include <cstdio>

namespace di::pgoutput {
namespace {

// Big-endian fields off a message, front to back; the first shortfall is remembered and
// every later read gives zeros, so a decoder reads on and checks once at the end.
class Bytes {
 public:
  Bytes(std::string_view s, const char* what) : s_(s), what_(what) {}
  uint64_t U(size_t n, const char* field) {
    if (!Need(n, field)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(s_[pos_ + i]);
    pos_ += n;
    return v;
  }
  uint8_t U8(const char* f) { return static_cast<uint8_t>(U(1, f)); }
  uint16_t U16(const char* f) { return static_cast<uint16_t>(U(2, f)); }
  uint32_t U32(const char* f) { return static_cast<uint32_t>(U(4, f)); }
  uint64_t U64(const char* f) { return U(8, f); }
  int64_t I64(const char* f) { return static_cast<int64_t>(U(8, f)); }
  int32_t I32(const char* f) { return static_cast<int32_t>(U(4, f)); }
  std::string_view Take(size_t n, const char* field) {
    if (!Need(n, field)) return {};
    std::string_view v = s_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  // A NUL-terminated string.
  std::string CString(const char* field) {
    if (!error_.empty()) return {};
    size_t end = s_.find('\0', pos_);
    if (end == std::string_view::npos) {
      Fail(field, "its terminating NUL");
      return {};
    }
    std::string v(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return v;
  }
  std::string_view Rest() {
    std::string_view v = error_.empty() ? s_.substr(pos_) : std::string_view();
    pos_ = s_.size();
    return v;
  }
  bool AtEnd() const { return pos_ >= s_.size(); }
  // OK, or Corruption naming the field that was cut short (or `extra` bytes left over).
  Status Done(bool allow_trailing = false) const {
    if (!error_.empty()) return Corruption(error_);
    if (!allow_trailing && pos_ != s_.size())
      return Corruption(std::string(what_) + ": " + std::to_string(s_.size() - pos_) +
                        " unexpected byte(s) at its end");
    return Status::Ok();
  }
  void Fail(const char* field, const std::string& wanted) {
    if (error_.empty())
      error_ = std::string(what_) + " is cut short: " + field + " wants " + wanted + " at byte " +
               std::to_string(pos_) + " of " + std::to_string(s_.size());
  }

 private:
  bool Need(size_t n, const char* field) {
    if (!error_.empty()) return false;
    if (s_.size() - pos_ < n) {
      Fail(field, std::to_string(n) + " byte(s)");
      return false;
    }
    return true;
  }
  std::string_view s_;
  const char* what_;
  size_t pos_ = 0;
  std::string error_;
};

void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

Result<Tuple> ReadTuple(Bytes& b) {
  Tuple t(b.U16("the tuple's column count"));
  for (auto& cell : t) {
    char kind = static_cast<char>(b.U8("a column's kind"));
    switch (kind) {
      case Cell::kNull:
      case Cell::kUnchanged:
        cell.kind = static_cast<Cell::Kind>(kind);
        break;
      case Cell::kText:
      case Cell::kBinary: {
        cell.kind = static_cast<Cell::Kind>(kind);
        uint32_t n = b.U32("a column's length");
        cell.data = b.Take(n, "a column's value");
        break;
      }
      default:
        RETURN_IF_ERROR(b.Done(true));
        return Corruption("pgoutput tuple: column kind '" + std::string(1, kind) +
                          "' is none of n, u, t, b");
    }
  }
  RETURN_IF_ERROR(b.Done(true));
  return t;
}

Result<Message> ReadRelation(Bytes& b) {
  Relation r;
  r.oid = b.U32("the relation oid");
  r.schema = b.CString("the schema name");
  r.name = b.CString("the table name");
  r.replica_identity = static_cast<char>(b.U8("the replica identity"));
  r.columns.resize(b.U16("the column count"));
  for (auto& c : r.columns) {
    c.key = (b.U8("a column's flags") & 1) != 0;
    c.name = b.CString("a column's name");
    c.type_oid = b.U32("a column's type oid");
    c.type_modifier = b.I32("a column's type modifier");
  }
  RETURN_IF_ERROR(b.Done());
  return Message(std::move(r));
}

Result<Message> ReadUpdate(Bytes& b) {
  Update u;
  u.relation = b.U32("the relation oid");
  char tag = static_cast<char>(b.U8("the tuple tag"));
  if (tag == 'K' || tag == 'O') {
    u.old_kind = tag;
    ASSIGN_OR_RETURN(u.old, ReadTuple(b));
    tag = static_cast<char>(b.U8("the new tuple's tag"));
  }
  RETURN_IF_ERROR(b.Done(true));
  if (tag != 'N')
    return Corruption("pgoutput update: tuple tag '" + std::string(1, tag) +
                      "' where K, O or N was expected");
  ASSIGN_OR_RETURN(u.row, ReadTuple(b));
  RETURN_IF_ERROR(b.Done());
  return Message(std::move(u));
}

Result<Message> ReadChange(char tag, Bytes& b) {
  if (tag == 'U') return ReadUpdate(b);
  uint32_t relation = b.U32("the relation oid");
  char tuple_tag = static_cast<char>(b.U8("the tuple tag"));
  RETURN_IF_ERROR(b.Done(true));
  if (tag == 'I') {
    if (tuple_tag != 'N')
      return Corruption("pgoutput insert: tuple tag '" + std::string(1, tuple_tag) +
                        "' where N was expected");
    Insert i{relation, {}};
    ASSIGN_OR_RETURN(i.row, ReadTuple(b));
    RETURN_IF_ERROR(b.Done());
    return Message(std::move(i));
  }
  if (tuple_tag != 'K' && tuple_tag != 'O')
    return Corruption("pgoutput delete: tuple tag '" + std::string(1, tuple_tag) +
                      "' where K or O was expected");
  Delete d{relation, tuple_tag, {}};
  ASSIGN_OR_RETURN(d.old, ReadTuple(b));
  RETURN_IF_ERROR(b.Done());
  return Message(std::move(d));
}

}  // namespace

std::string LsnText(uint64_t lsn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32),
                static_cast<unsigned>(lsn & 0xffffffffu));
  return buf;
}

Result<uint64_t> ParseLsn(std::string_view text) {
  size_t slash = text.find('/');
  uint32_t hi = 0, lo = 0;
  auto hex = [](std::string_view s, uint32_t* v) {
    auto r = std::from_chars(s.data(), s.data() + s.size(), *v, 16);
    return !s.empty() && s.size() <= 8 && r.ec == std::errc() && r.ptr == s.data() + s.size();
  };
  if (slash == std::string_view::npos || !hex(text.substr(0, slash), &hi) ||
      !hex(text.substr(slash + 1), &lo))
    return InvalidArgument("'" + std::string(text) +
                           "' is not a PostgreSQL LSN (two hexadecimal numbers, as in 0/16B3748)");
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

Result<Frame> ParseFrame(std::string_view frame) {
  if (frame.empty()) return Corruption("replication stream: an empty COPY frame");
  char tag = frame[0];
  if (tag == 'w') {
    Bytes b(frame.substr(1), "replication stream XLogData frame");
    XLogData x;
    x.start = b.U64("the start LSN");
    x.wal_end = b.U64("the end of WAL");
    x.send_time = b.I64("the send time");
    x.message = b.Rest();
    RETURN_IF_ERROR(b.Done());
    if (x.message.empty())
      return Corruption("replication stream: an XLogData frame without a message");
    return Frame(x);
  }
  if (tag == 'k') {
    Bytes b(frame.substr(1), "replication stream keepalive");
    Keepalive k;
    k.wal_end = b.U64("the end of WAL");
    k.send_time = b.I64("the send time");
    k.reply_requested = b.U8("the reply flag") != 0;
    RETURN_IF_ERROR(b.Done());
    return Frame(k);
  }
  return Corruption("replication stream: a COPY frame tagged '" + std::string(1, tag) +
                    "', neither XLogData (w) nor keepalive (k)");
}

std::string StandbyStatus(uint64_t written, uint64_t flushed, uint64_t applied, int64_t now,
                          bool reply_requested) {
  std::string out = "r";
  PutU64(out, written);
  PutU64(out, flushed);
  PutU64(out, applied);
  PutU64(out, static_cast<uint64_t>(now));
  out += static_cast<char>(reply_requested ? 1 : 0);
  return out;
}

Result<Message> ParseMessage(std::string_view message) {
  if (message.empty()) return Corruption("pgoutput: an empty message");
  char tag = message[0];
  Bytes b(message.substr(1), "pgoutput message");
  switch (tag) {
    case 'B': {
      Begin m{b.U64("the final LSN"), b.I64("the commit time"), b.U32("the xid")};
      RETURN_IF_ERROR(b.Done());
      return Message(m);
    }
    case 'C': {
      b.U8("the flags");
      Commit m{b.U64("the commit LSN"), b.U64("the end LSN"), b.I64("the commit time")};
      RETURN_IF_ERROR(b.Done());
      return Message(m);
    }
    case 'R':
      return ReadRelation(b);
    case 'I':
    case 'U':
    case 'D':
      return ReadChange(tag, b);
    case 'T': {
      Truncate t;
      uint32_t n = b.U32("the relation count");
      uint8_t options = b.U8("the options");
      t.cascade = (options & 1) != 0;
      t.restart_identity = (options & 2) != 0;
      for (uint32_t i = 0; i < n && b.Done(true).ok(); ++i) t.relations.push_back(b.U32("an oid"));
      RETURN_IF_ERROR(b.Done());
      return Message(std::move(t));
    }
    case 'O':
    case 'Y':
    case 'M':
      return Message(Other{tag});
    case 'S':
    case 'E':
    case 'c':
    case 'A':
      return Corruption(std::string("pgoutput: a streamed-transaction message ('") + tag +
                        "'), which proto_version 1 never sends");
    default:
      return Corruption("pgoutput: unknown message tag '" + std::string(1, tag) + "'");
  }
}

}  // namespace di::pgoutput
