// Analytics exports of the cinema data (docs/formats.md, Analytics exports):
//   <analytics>/analytics_data/reservations_by_movie_day/<date>.jsonl.gz
//     one line per (movie, show day): reservations, confirmed, seats, revenue (payments not
//     refunded, exact decimal text) and the movie's title;
//   <analytics>/analytics_data/occupancy_by_schedule/<date>.jsonl.gz
//     one line per schedule: room, movie, start, capacity (seats of the room), seats sold
//     (reserved seats of pending or confirmed reservations) and occupancy.
// The databases aggregate (GROUP BY); we hold at most one row per schedule, never a row per
// reservation. <date> is the run's UTC date. They read the cinema tables by name, so they
// run with the built-in mapping only.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "sinks/object_store.h"
#include "sources/factory.h"

namespace di {

struct AnalyticsExport {
  std::string dataset;
  std::string key;
  int64_t rows = 0;
  Status status;
};

std::vector<AnalyticsExport> ExportCinemaAnalytics(const Config& config, SourceFactory& sources,
                                                   ObjectStore& store, const std::string& date);

}  // namespace di
