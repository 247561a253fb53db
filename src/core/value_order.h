// The order of values that keyset reads, checkpoints and high waters use: within one kind
// their natural order (numbers, text by bytes, timestamps, ObjectIds by bytes...), and across
// kinds MongoDB's order of BSON types — MinKey, null, numbers (compared by value whatever
// their type), strings, documents, arrays, binary, ObjectIds, booleans, dates, timestamps,
// regular expressions, MaxKey — so a collection whose `_id`s are of several types is ordered
// as the server sorts it. SQL columns hold one kind each (and NULL, lowest). Plain
// functions; thread-safe.
#pragma once

#include "core/value.h"

namespace di {

// The place of a value's type in MongoDB's order (0 MinKey, 1 null, 2 numbers, 3 strings,
// 4 documents, 5 arrays, 6 binary, 7 ObjectId, 8 booleans, 9 dates, 10 timestamps,
// 11 regular expressions, 12 MaxKey; 13 the kinds only SQL has: TIME, JSON).
int BsonTypeRank(const Value& v);
// Three-way comparison: <0, 0, >0.
int CompareValues(const Value& a, const Value& b);

}  // namespace di
