#ifndef WXGATE_SERVER_METRICS_METRICS_H_
#define WXGATE_SERVER_METRICS_METRICS_H_

// Counters, gauges and histograms, grouped in labelled families in a
// Registry that renders them in the Prometheus text format.
//
// Cost: recording is one or two relaxed atomic additions on the metric
// itself, no lock and no allocation; a series is looked up (under its
// family's lock) once, by whoever records into it, and kept: families
// never drop a series, so a reference stays valid for the registry's life.
// Cardinality is bounded by the callers: label values come from the
// configuration (apps, callers), the API (methods), the code (endpoints,
// credential kinds) or closed sets (codes, results), never from a request.
//
// Thread contract: everything is thread-safe.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/metrics/exposition.h"

namespace wxgate::metrics {

class Counter {
 public:
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  void Add(int64_t delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Durations in buckets with fixed upper bounds (seconds, ascending).
class Histogram {
 public:
  explicit Histogram(absl::Span<const double> bounds_seconds);

  void Observe(absl::Duration duration) { ObserveNanos(absl::ToInt64Nanoseconds(duration)); }
  void ObserveNanos(int64_t nanos);

  const std::vector<double>& bounds() const { return bounds_; }
  // Per bucket, not cumulative; the last is above every bound.
  std::vector<uint64_t> Counts() const;
  double SumSeconds() const;

 private:
  std::vector<double> bounds_;
  std::vector<int64_t> bound_nanos_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<int64_t> sum_nanos_{0};
};

// The series of one metric name, one per combination of label values.
template <class Metric>
class Family {
 public:
  using Factory = std::function<std::unique_ptr<Metric>()>;

  Family(std::vector<std::string> label_names, Factory factory)
      : label_names_(std::move(label_names)), factory_(std::move(factory)) {}

  // The series with these label values (as many as the family has label
  // names), created at zero on first use. Keep the reference on hot paths.
  Metric& With(absl::Span<const absl::string_view> values);
  Metric& With(std::initializer_list<absl::string_view> values) {
    return With(absl::Span<const absl::string_view>(values.begin(), values.size()));
  }

  const std::vector<std::string>& label_names() const { return label_names_; }

  // Calls `fn(label values, metric)` for every series, in creation order.
  void ForEach(const std::function<void(absl::Span<const std::string>, const Metric&)>& fn) const;

 private:
  struct Series {
    std::vector<std::string> values;
    std::unique_ptr<Metric> metric;
  };

  const std::vector<std::string> label_names_;
  const Factory factory_;
  mutable absl::Mutex mu_;
  std::vector<Series> series_ ABSL_GUARDED_BY(mu_);
  // Joined label values -> index in series_.
  absl::flat_hash_map<std::string, size_t> index_ ABSL_GUARDED_BY(mu_);
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// Metric families by name, rendered in the order they were added.
class Registry {
 public:
  // Writes whole families at scrape time: for values kept elsewhere (a
  // store's size, a credential's expiry) rather than pushed into a metric.
  using Collector = std::function<void(TextWriter&)>;

  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each name once. The family lives as long as the registry.
  CounterFamily& AddCounter(std::string name, std::string help,
                            std::vector<std::string> label_names = {});
  GaugeFamily& AddGauge(std::string name, std::string help,
                        std::vector<std::string> label_names = {});
  HistogramFamily& AddHistogram(std::string name, std::string help,
                                std::vector<std::string> label_names,
                                std::vector<double> bounds_seconds);

  // Runs `collector` on every scrape, after the families, until the
  // returned id is passed to RemoveCollector (which waits for a scrape
  // running it to finish).
  uint64_t AddCollector(Collector collector);
  void RemoveCollector(uint64_t id);

  // The whole exposition.
  std::string Scrape() const;

 private:
  struct Entry {
    std::string name;
    std::string help;
    MetricType type;
    std::unique_ptr<CounterFamily> counters;
    std::unique_ptr<GaugeFamily> gauges;
    std::unique_ptr<HistogramFamily> histograms;
  };

  template <class Metric>
  Family<Metric>& Add(std::string name, std::string help, MetricType type,
                      std::unique_ptr<Family<Metric>> family,
                      std::unique_ptr<Family<Metric>> Entry::*slot);

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<uint64_t, Collector>> collectors_ ABSL_GUARDED_BY(mu_);
  uint64_t next_collector_ ABSL_GUARDED_BY(mu_) = 1;
};

// Removes its collector when it goes away.
class CollectorHandle {
 public:
  CollectorHandle() = default;
  CollectorHandle(Registry& registry, Registry::Collector collector)
      : registry_(&registry), id_(registry.AddCollector(std::move(collector))) {}
  CollectorHandle(CollectorHandle&& other) noexcept
      : registry_(std::exchange(other.registry_, nullptr)), id_(other.id_) {}
  CollectorHandle& operator=(CollectorHandle&& other) noexcept {
    if (this != &other) {
      Reset();
      registry_ = std::exchange(other.registry_, nullptr);
      id_ = other.id_;
    }
    return *this;
  }
  ~CollectorHandle() { Reset(); }

 private:
  void Reset() {
    if (registry_ != nullptr) std::exchange(registry_, nullptr)->RemoveCollector(id_);
  }
  Registry* registry_ = nullptr;
  uint64_t id_ = 0;
};

template <class Metric>
Metric& Family<Metric>::With(absl::Span<const absl::string_view> values) {
  std::string key;
  for (absl::string_view value : values) {
    key.append(value.data(), value.size());
    key.push_back('\0');
  }
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = index_.try_emplace(std::move(key), series_.size());
  if (inserted) {
    series_.push_back(Series{.values = std::vector<std::string>(values.begin(), values.end()),
                             .metric = factory_()});
  }
  return *series_[it->second].metric;
}

template <class Metric>
void Family<Metric>::ForEach(
    const std::function<void(absl::Span<const std::string>, const Metric&)>& fn) const {
  absl::MutexLock lock(&mu_);
  for (const Series& series : series_) fn(series.values, *series.metric);
}

}  // namespace wxgate::metrics

#endif  // WXGATE_SERVER_METRICS_METRICS_H_
