// Value -> JSON text, appended to a caller's buffer (the backup hot path: no allocation per
// value beyond the buffer's growth). Every output is strict RFC 8259 JSON.
//   kPlain: SQL rows as docs/formats.md says — decimals as strings with their exact digits,
//     64-bit integers as numbers, timestamps ISO 8601 UTC with microseconds, dates
//     YYYY-MM-DD, binary as base64, JSON embedded, arrays as arrays; NaN and ±Infinity as
//     the strings "NaN", "Infinity", "-Infinity".
//   kExtended: canonical MongoDB Extended JSON v2, so a restore gets the same BSON types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/value.h"

namespace di {

enum class JsonStyle { kPlain, kExtended };

void AppendJson(const Value& value, JsonStyle style, std::string& out);
std::string ToJson(const Value& value, JsonStyle style);
// Embedded JSON text (a json column) on one line: its line breaks dropped, as a JSON Lines
// record needs (PostgreSQL's json and MariaDB's JSON keep the text as it was written).
void AppendJsonText(std::string_view json, std::string& out);
// A SQL source's text of a value, written as the plain JSON of the value it parses to
// (what AppendJson writes for it) without building the value: a string; a decimal's digits
// (also NaN, Infinity) quoted as they are; embedded JSON; an integer as it is when
// IsPlainInteger, a date as it is when IsIsoDate (else false: nothing written, the caller
// writes the value).
enum class SqlText { kString, kDecimal, kJson, kInteger, kDate };
bool AppendSqlTextAsJson(SqlText kind, std::string_view s, std::string& out);
// A JSON string literal; invalid UTF-8 bytes become U+FFFD so the line stays valid JSON.
void AppendJsonString(std::string_view s, std::string& out);

std::string Base64Encode(std::string_view bytes);
// Standard alphabet, padding optional; false on any other character.
bool Base64Decode(std::string_view text, std::string* bytes);
void AppendDate(int32_t days, std::string& out);  // the Format* forms, appended to out
void AppendTime(int64_t micros, std::string& out);
void AppendTimestamp(int64_t micros, std::string& out);
std::string FormatDate(int32_t days);         // 2025-01-31
std::string FormatTime(int64_t micros);       // 13:45:00.250000 (also -838:59:59.000000)
std::string FormatTimestamp(int64_t micros);  // 2025-01-31T13:45:00.250000Z
std::string FormatDouble(double d);           // shortest round-trip; NaN, Infinity, -Infinity

}  // namespace di
