// The sinks' encoders of cells (core/cells.h): a cell as a backup record's JSON value and as
// a DynamoDB AttributeValue, byte for byte what AppendJson (kPlain) and AppendAttributeValue
// write for the cell's Value, written from the server's text where its CellText allows and
// through the batch's decoder otherwise. Stateless, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/cells.h"

namespace di {

// A one-dimensional array of plain integers without NULLs ("{1,-2,3}", "{}") as a JSON array;
// false (nothing written) for any other shape.
bool AppendIntegerArrayText(std::string_view s, std::string& out);

// The cell's value in a backup record ("null" for NULL).
void AppendCellAsJson(const CellBatch& b, size_t row, size_t column, std::string& out);
// The cell's AttributeValue; returns its size as DynamoDB counts it.
size_t AppendCellAsAttributeValue(const CellBatch& b, size_t row, size_t column, std::string& out,
                                  std::vector<std::string>* warnings);

}  // namespace di
