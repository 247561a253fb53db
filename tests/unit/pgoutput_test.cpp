// The pgoutput decoder (sources/pgoutput.h) on messages built byte by byte as PostgreSQL's
// walsender lays them out (proto_version 1), and on every way one can be cut short.
#include "sources/pgoutput.h"

#include <gtest/gtest.h>

namespace di::pgoutput {
namespace {

// A message written field by field, big-endian as on the wire.
struct Wire {
  std::string s;
  Wire& Tag(char c) {
    s += c;
    return *this;
  }
  Wire& U(uint64_t v, int bytes) {
    for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8)
      s += static_cast<char>((v >> shift) & 0xff);
    return *this;
  }
  Wire& Str(const std::string& v) {
    s += v;
    s += '\0';
    return *this;
  }
  Wire& Text(const std::string& v) {
    Tag('t').U(v.size(), 4);
    s += v;
    return *this;
  }
};

TEST(Pgoutput, LsnsReadAndWriteAsPostgresSpellsThem) {
  EXPECT_EQ(LsnText(0x16B3748), "0/16B3748");
  EXPECT_EQ(LsnText((uint64_t{0x1A} << 32) | 0xFF), "1A/FF");
  EXPECT_EQ(*ParseLsn("1A/FF"), (uint64_t{0x1A} << 32) | 0xFF);
  EXPECT_EQ(*ParseLsn("0/16b3748"), 0x16B3748u);
  for (const char* bad : {"", "0", "0/", "/1", "x/1", "0/1/2", "123456789/0"})
    EXPECT_FALSE(ParseLsn(bad).ok()) << bad;
  EXPECT_NE(ParseLsn("nope").status().message().find("as in 0/16B3748"), std::string::npos);
}

TEST(Pgoutput, FramesCarryAMessageOrAKeepaliveAndStatusIs34Bytes) {
  Wire w;
  w.Tag('w').U(0x100, 8).U(0x200, 8).U(12345, 8).Tag('B').U(0x1F0, 8).U(777, 8).U(42, 4);
  auto f = ParseFrame(w.s);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const auto& x = std::get<XLogData>(*f);
  EXPECT_EQ(x.start, 0x100u);
  EXPECT_EQ(x.wal_end, 0x200u);
  EXPECT_EQ(x.send_time, 12345);
  auto m = ParseMessage(x.message);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto& b = std::get<Begin>(*m);
  EXPECT_EQ(b.final_lsn, 0x1F0u);
  EXPECT_EQ(b.commit_time, 777);
  EXPECT_EQ(b.xid, 42u);

  Wire k;
  k.Tag('k').U(0x300, 8).U(9, 8).U(1, 1);
  auto kf = ParseFrame(k.s);
  ASSERT_TRUE(kf.ok());
  EXPECT_EQ(std::get<Keepalive>(*kf).wal_end, 0x300u);
  EXPECT_TRUE(std::get<Keepalive>(*kf).reply_requested);

  std::string r = StandbyStatus(1, 2, 3, 4, true);
  ASSERT_EQ(r.size(), 34u);
  Wire want;
  want.Tag('r').U(1, 8).U(2, 8).U(3, 8).U(4, 8).U(1, 1);
  EXPECT_EQ(r, want.s);
  EXPECT_EQ(UnixMicros(0), 946684800LL * 1000000);
}

TEST(Pgoutput, ARelationNamesItsColumnsKeysAndTypes) {
  Wire w;
  w.Tag('R').U(16384, 4).Str("public").Str("users").U('d', 1).U(2, 2);
  w.U(1, 1).Str("id").U(23, 4).U(0xffffffff, 4);
  w.U(0, 1).Str("email").U(1043, 4).U(259, 4);
  auto m = ParseMessage(w.s);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto& r = std::get<Relation>(*m);
  EXPECT_EQ(r.oid, 16384u);
  EXPECT_EQ(r.schema, "public");
  EXPECT_EQ(r.name, "users");
  EXPECT_EQ(r.replica_identity, 'd');
  ASSERT_EQ(r.columns.size(), 2u);
  EXPECT_TRUE(r.columns[0].key);
  EXPECT_EQ(r.columns[0].name, "id");
  EXPECT_EQ(r.columns[0].type_oid, 23u);
  EXPECT_EQ(r.columns[0].type_modifier, -1);
  EXPECT_FALSE(r.columns[1].key);
  EXPECT_EQ(r.columns[1].type_modifier, 259);
}

TEST(Pgoutput, ChangesCarryTheirTuplesWithNullsAndUnchangedToast) {
  Wire ins;
  ins.Tag('I').U(16384, 4).Tag('N').U(3, 2).Text("7").Tag('n').Text("a\tb");
  auto i = ParseMessage(ins.s);
  ASSERT_TRUE(i.ok()) << i.status().ToString();
  const auto& row = std::get<Insert>(*i).row;
  ASSERT_EQ(row.size(), 3u);
  EXPECT_EQ(row[0].kind, Cell::kText);
  EXPECT_EQ(row[0].data, "7");
  EXPECT_EQ(row[1].kind, Cell::kNull);
  EXPECT_EQ(row[2].data, "a\tb");

  // An update whose key changed (K), with an unchanged TOAST value in the new row.
  Wire up;
  up.Tag('U').U(16384, 4).Tag('K').U(2, 2).Text("7").Tag('n');
  up.Tag('N').U(2, 2).Text("8").Tag('u');
  auto u = ParseMessage(up.s);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  const auto& upd = std::get<Update>(*u);
  EXPECT_EQ(upd.old_kind, 'K');
  EXPECT_EQ(upd.old[0].data, "7");
  EXPECT_EQ(upd.row[0].data, "8");
  EXPECT_EQ(upd.row[1].kind, Cell::kUnchanged);

  // An update without an old tuple, and a delete with the whole old row (FULL).
  Wire plain;
  plain.Tag('U').U(5, 4).Tag('N').U(1, 2).Text("x");
  auto p = ParseMessage(plain.s);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(std::get<Update>(*p).old_kind, 0);
  Wire del;
  del.Tag('D').U(5, 4).Tag('O').U(1, 2).Text("x");
  auto d = ParseMessage(del.s);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(std::get<Delete>(*d).old_kind, 'O');
  EXPECT_EQ(std::get<Delete>(*d).old[0].data, "x");
}

TEST(Pgoutput, CommitTruncateAndTheMessagesPassedOver) {
  Wire c;
  c.Tag('C').U(0, 1).U(0x10, 8).U(0x18, 8).U(99, 8);
  auto cm = ParseMessage(c.s);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  EXPECT_EQ(std::get<Commit>(*cm).commit_lsn, 0x10u);
  EXPECT_EQ(std::get<Commit>(*cm).end_lsn, 0x18u);
  EXPECT_EQ(std::get<Commit>(*cm).commit_time, 99);

  Wire t;
  t.Tag('T').U(2, 4).U(3, 1).U(11, 4).U(12, 4);
  auto tm = ParseMessage(t.s);
  ASSERT_TRUE(tm.ok()) << tm.status().ToString();
  const auto& tr = std::get<Truncate>(*tm);
  EXPECT_TRUE(tr.cascade);
  EXPECT_TRUE(tr.restart_identity);
  EXPECT_EQ(tr.relations, (std::vector<uint32_t>{11, 12}));

  for (char tag : {'O', 'Y', 'M'}) {
    auto o = ParseMessage(std::string(1, tag) + "anything");
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(std::get<Other>(*o).tag, tag);
  }
  auto streamed = ParseMessage("S\x00\x00\x00\x01");
  EXPECT_EQ(streamed.status().code(), StatusCode::kCorruption);
  EXPECT_NE(streamed.status().message().find("streamed-transaction"), std::string::npos);
}

// Every prefix of a valid message is refused by name, never read past its end.
TEST(Pgoutput, EveryCutShortMessageIsCorruptionNamingTheField) {
  Wire rel;
  rel.Tag('R').U(1, 4).Str("s").Str("t").U('f', 1).U(1, 2).U(1, 1).Str("id").U(23, 4).U(0, 4);
  Wire up;
  up.Tag('U').U(1, 4).Tag('O').U(1, 2).Text("old").Tag('N').U(1, 2).Text("new");
  Wire t;
  t.Tag('T').U(1, 4).U(0, 1).U(9, 4);
  for (const std::string& whole : {rel.s, up.s, t.s}) {
    ASSERT_TRUE(ParseMessage(whole).ok());
    for (size_t n = 1; n < whole.size(); ++n) {
      auto m = ParseMessage(whole.substr(0, n));
      EXPECT_EQ(m.status().code(), StatusCode::kCorruption) << whole[0] << " cut at " << n;
    }
    auto longer = ParseMessage(whole + "x");
    EXPECT_EQ(longer.status().code(), StatusCode::kCorruption) << whole[0] << " plus a byte";
  }
  auto cut = ParseMessage(up.s.substr(0, 12));
  EXPECT_NE(cut.status().message().find("is cut short"), std::string::npos)
      << cut.status().message();
  Wire badkind;
  badkind.Tag('I').U(1, 4).Tag('N').U(1, 2).Tag('z');
  EXPECT_NE(ParseMessage(badkind.s).status().message().find("column kind 'z'"), std::string::npos);
  EXPECT_FALSE(ParseFrame("").ok());
  EXPECT_NE(ParseFrame("q").status().message().find("tagged 'q'"), std::string::npos);
  EXPECT_FALSE(ParseFrame(std::string("w") + std::string(24, '\0')).ok()) << "no message";
}

}  // namespace
}  // namespace di::pgoutput
