#ifndef WXGATE_CLIENT_LOAD_HISTOGRAM_H_
#define WXGATE_CLIENT_LOAD_HISTOGRAM_H_

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace wxgate::load {

// A log-linear latency histogram in microseconds, HdrHistogram-like: values
// below 128 us have a bucket each; above, every power of two is split into 64
// linear sub-buckets, so any recorded value is reported within 1/64 (1.6%)
// of itself. Covers 0 us to 2^40 us (12 days); larger values land in the last
// bucket. Not thread-safe: each worker thread owns its own and Merge() joins
// them at the end.
class LatencyHistogram {
 public:
  static constexpr int kLinear = 128;      // exact buckets 0..127
  static constexpr int kSubBuckets = 64;   // per power of two above
  static constexpr int kMaxExponent = 40;  // largest power of two kept
  static constexpr int kBuckets = (kMaxExponent - 6 + 1) * kSubBuckets + kSubBuckets;

  LatencyHistogram() : counts_(kBuckets, 0) {}

  static int BucketOf(uint64_t us) {
    if (us < static_cast<uint64_t>(kLinear)) return static_cast<int>(us);
    int exponent = 63 - std::countl_zero(us);  // >= 7
    if (exponent > kMaxExponent) return kBuckets - 1;
    int shift = exponent - 6;
    return shift * kSubBuckets + static_cast<int>(us >> shift);
  }

  // The largest value that lands in `bucket` (what percentiles report, as
  // HdrHistogram's "highest equivalent value").
  static uint64_t UpperBound(int bucket) {
    if (bucket < kLinear) return static_cast<uint64_t>(bucket);
    const int shift = bucket / kSubBuckets - 1;
    const uint64_t mantissa = static_cast<uint64_t>(bucket % kSubBuckets) + kSubBuckets;
    return ((mantissa + 1) << shift) - 1;
  }

  void Record(uint64_t us) {
    ++counts_[BucketOf(us)];
    ++total_;
    sum_ += us;
    max_ = std::max(max_, us);
    min_ = total_ == 1 ? us : std::min(min_, us);
  }

  void Merge(const LatencyHistogram& other) {
    if (other.total_ == 0) return;
    for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    min_ = total_ == 0 ? other.min_ : std::min(min_, other.min_);
    total_ += other.total_;
    sum_ += other.sum_;
    max_ = std::max(max_, other.max_);
  }

  // The value at quantile q (0 < q <= 1): the upper bound of the bucket
  // holding the ceil(q * count)-th smallest value, never above the maximum.
  uint64_t Percentile(double q) const {
    if (total_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total_) + 0.999999);
    rank = std::clamp<uint64_t>(rank, 1, total_);
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(UpperBound(i), max_);
    }
    return max_;
  }

  uint64_t count() const { return total_; }
  uint64_t max() const { return max_; }
  uint64_t min() const { return min_; }
  double mean() const { return total_ == 0 ? 0 : static_cast<double>(sum_) / total_; }

 private:
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = 0;
};

}  // namespace wxgate::load

#endif  // WXGATE_CLIENT_LOAD_HISTOGRAM_H_
