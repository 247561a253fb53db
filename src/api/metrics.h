// Metrics: counters, gauges and histograms with labels, rendered in the Prometheus text
// format for GET /metrics. Thread-safe; one registry per process (Global()).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace di {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  static Metrics& Global();
  void Describe(const std::string& name, const std::string& type, const std::string& help);
  void Add(const std::string& name, const Labels& labels, double v = 1);  // counter
  void Set(const std::string& name, const Labels& labels, double v);      // gauge
  void Observe(const std::string& name, const Labels& labels, double v);  // histogram
  double Value(const std::string& name, const Labels& labels);            // counter/gauge
  std::string Render();

 private:
  struct Histogram {
    std::vector<double> counts;  // per bucket (cumulative when rendered)
    double sum = 0;
    uint64_t count = 0;
  };
  static std::string Key(const Labels& labels);
  std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::string>> meta_;  // name -> type, help
  std::map<std::string, std::map<std::string, double>> values_;      // name -> labels -> v
  std::map<std::string, std::map<std::string, Histogram>> hists_;
};

// Histogram buckets (seconds) for batch latencies.
const std::vector<double>& LatencyBuckets();

}  // namespace di
