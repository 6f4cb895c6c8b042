#include "server/metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace wxgate::metrics {

Histogram::Histogram(absl::Span<const double> bounds_seconds)
    : bounds_(bounds_seconds.begin(), bounds_seconds.end()),
      counts_(new std::atomic<uint64_t>[bounds_seconds.size() + 1]) {
  bound_nanos_.reserve(bounds_.size());
  for (double bound : bounds_) bound_nanos_.push_back(std::llround(bound * 1e9));
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::ObserveNanos(int64_t nanos) {
  // Buckets are "less than or equal": the first bound not below the value.
  const size_t bucket =
      std::lower_bound(bound_nanos_.begin(), bound_nanos_.end(), nanos) - bound_nanos_.begin();
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(nanos, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::Counts() const {
  std::vector<uint64_t> counts(bounds_.size() + 1);
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = counts_[i].load(std::memory_order_relaxed);
  return counts;
}

double Histogram::SumSeconds() const {
  return static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9;
}

namespace {

// {label name, value} pairs of one series.
std::vector<std::pair<absl::string_view, absl::string_view>> Pairs(
    const std::vector<std::string>& names, absl::Span<const std::string> values) {
  std::vector<std::pair<absl::string_view, absl::string_view>> pairs;
  pairs.reserve(names.size());
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    pairs.emplace_back(names[i], values[i]);
  }
  return pairs;
}

}  // namespace

template <class Metric>
Family<Metric>& Registry::Add(std::string name, std::string help, MetricType type,
                              std::unique_ptr<Family<Metric>> family,
                              std::unique_ptr<Family<Metric>> Entry::*slot) {
  auto entry = std::make_unique<Entry>();
  entry->name = std::move(name);
  entry->help = std::move(help);
  entry->type = type;
  Family<Metric>& added = *family;
  (*entry).*slot = std::move(family);
  absl::MutexLock lock(&mu_);
  entries_.push_back(std::move(entry));
  return added;
}

CounterFamily& Registry::AddCounter(std::string name, std::string help,
                                    std::vector<std::string> label_names) {
  return Add(std::move(name), std::move(help), MetricType::kCounter,
             std::make_unique<CounterFamily>(std::move(label_names),
                                             [] { return std::make_unique<Counter>(); }),
             &Entry::counters);
}

GaugeFamily& Registry::AddGauge(std::string name, std::string help,
                                std::vector<std::string> label_names) {
  return Add(std::move(name), std::move(help), MetricType::kGauge,
             std::make_unique<GaugeFamily>(std::move(label_names),
                                           [] { return std::make_unique<Gauge>(); }),
             &Entry::gauges);
}

HistogramFamily& Registry::AddHistogram(std::string name, std::string help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> bounds_seconds) {
  return Add(std::move(name), std::move(help), MetricType::kHistogram,
             std::make_unique<HistogramFamily>(std::move(label_names),
                                               [bounds = std::move(bounds_seconds)] {
                                                 return std::make_unique<Histogram>(bounds);
                                               }),
             &Entry::histograms);
}

uint64_t Registry::AddCollector(Collector collector) {
  absl::MutexLock lock(&mu_);
  const uint64_t id = next_collector_++;
  collectors_.emplace_back(id, std::move(collector));
  return id;
}

void Registry::RemoveCollector(uint64_t id) {
  absl::MutexLock lock(&mu_);
  std::erase_if(collectors_, [id](const auto& collector) { return collector.first == id; });
}

std::string Registry::Scrape() const {
  TextWriter out;
  absl::MutexLock lock(&mu_);
  for (const std::unique_ptr<Entry>& entry : entries_) {
    out.Family(entry->name, entry->help, entry->type);
    switch (entry->type) {
      case MetricType::kCounter:
        entry->counters->ForEach([&](absl::Span<const std::string> values, const Counter& counter) {
          out.Sample(entry->name, Pairs(entry->counters->label_names(), values),
                     static_cast<double>(counter.value()));
        });
        break;
      case MetricType::kGauge:
        entry->gauges->ForEach([&](absl::Span<const std::string> values, const Gauge& gauge) {
          out.Sample(entry->name, Pairs(entry->gauges->label_names(), values),
                     static_cast<double>(gauge.value()));
        });
        break;
      case MetricType::kHistogram:
        entry->histograms->ForEach(
            [&](absl::Span<const std::string> values, const Histogram& histogram) {
              out.Histogram(entry->name, Pairs(entry->histograms->label_names(), values),
                            histogram.bounds(), histogram.Counts(), histogram.SumSeconds());
            });
        break;
    }
  }
  for (const auto& [id, collector] : collectors_) collector(out);
  return out.Take();
}

}  // namespace wxgate::metrics
