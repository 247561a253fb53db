#include "api/metrics.h"

#include <cstdio>

namespace di {

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                        0.5,   1,    2.5,   5,    10,  30};
  return b;
}

Metrics& Metrics::Global() {
  static Metrics m;
  return m;
}

std::string Metrics::Key(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    out += out.empty() ? "" : ",";
    out += k + "=\"";
    for (char c : v) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += "\"";
  }
  return out;
}

void Metrics::Describe(const std::string& name, const std::string& type, const std::string& help) {
  std::lock_guard<std::mutex> lock(mu_);
  meta_[name] = {type, help};
}

void Metrics::Add(const std::string& name, const Labels& labels, double v) {
  std::lock_guard<std::mutex> lock(mu_);
  values_[name][Key(labels)] += v;
}

void Metrics::Set(const std::string& name, const Labels& labels, double v) {
  std::lock_guard<std::mutex> lock(mu_);
  values_[name][Key(labels)] = v;
}

void Metrics::Observe(const std::string& name, const Labels& labels, double v) {
  std::lock_guard<std::mutex> lock(mu_);
  Histogram& h = hists_[name][Key(labels)];
  const auto& b = LatencyBuckets();
  if (h.counts.empty()) h.counts.assign(b.size(), 0);
  for (size_t i = 0; i < b.size(); ++i)
    if (v <= b[i]) h.counts[i]++;
  h.sum += v;
  h.count++;
}

double Metrics::Value(const std::string& name, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = values_.find(name);
  if (it == values_.end()) return 0;
  auto v = it->second.find(Key(labels));
  return v == it->second.end() ? 0 : v->second;
}

std::string Metrics::Render() {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  char num[64];
  auto fmt = [&](double v) {
    std::snprintf(num, sizeof num, "%.17g", v);
    return std::string(num);
  };
  auto head = [&](const std::string& name, const char* fallback_type) {
    auto m = meta_.find(name);
    if (m != meta_.end()) out += "# HELP " + name + " " + m->second.second + "\n";
    out += "# TYPE " + name + " " + (m != meta_.end() ? m->second.first : fallback_type) + "\n";
  };
  for (const auto& [name, series] : values_) {
    head(name, "untyped");
    for (const auto& [labels, v] : series)
      out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + fmt(v) + "\n";
  }
  for (const auto& [name, series] : hists_) {
    head(name, "histogram");
    const auto& b = LatencyBuckets();
    for (const auto& [labels, h] : series) {
      std::string sep = labels.empty() ? "" : labels + ",";
      for (size_t i = 0; i < b.size(); ++i)
        out += name + "_bucket{" + sep + "le=\"" + fmt(b[i]) + "\"} " + fmt(h.counts[i]) + "\n";
      out += name + "_bucket{" + sep + "le=\"+Inf\"} " + fmt(static_cast<double>(h.count)) + "\n";
      out += name + "_sum" + (labels.empty() ? "" : "{" + labels + "}") + " " + fmt(h.sum) + "\n";
      out += name + "_count" + (labels.empty() ? "" : "{" + labels + "}") + " " +
             fmt(static_cast<double>(h.count)) + "\n";
    }
  }
  return out;
}

}  // namespace di
