#pragma once

#include <QByteArray>
#include <QtGlobal>
#include <array>
#include <atomic>
#include <bit>
#include <vector>

namespace Outpost::Observe {

// The bucket layout shared by every latency histogram: log-linear, HdrHistogram-style. Values are
// nanoseconds. Each power-of-two range [2^e, 2^(e+1)) is split into kSubBuckets equal buckets, so a
// bucket [lo, hi) is at most lo/32 wide and its midpoint is within 1/64 = 1.5625% of any value in
// it: a quantile read from a histogram is within ±1.57% of the exact one (tst_metrics checks it).
// The tracked range is [49.152 µs, 60.130 s) (it covers 50 µs to 60 s) in kBucketCount = 648
// buckets; values outside it are counted as underflow/overflow and clamped to the first/last bucket.
namespace Buckets {
inline constexpr int kSubBucketBits = 5;
inline constexpr int kSubBuckets = 1 << kSubBucketBits; // 32
inline constexpr int kFirstExponent = 15; // 2^15 ns = 32.768 µs
inline constexpr int kFirstSub = 16; // the first bucket starts at (32 + 16) << 10 = 49152 ns
inline constexpr int kLastExponent = 35; // 2^35 ns = 34.36 s
inline constexpr int kLastSub = 23; // the last bucket ends at (32 + 24) << 30 ns = 60.13 s
inline constexpr int kBucketCount = (kLastExponent - kFirstExponent) * kSubBuckets + kLastSub - kFirstSub + 1;
static_assert(kBucketCount == 648);

// Bucket `index` is [lowerBound(index), upperBound(index)).
constexpr quint64 lowerBound(int index)
{
    const int j = index + kFirstSub;
    return quint64(kSubBuckets + j % kSubBuckets) << (kFirstExponent + j / kSubBuckets - kSubBucketBits);
}
constexpr quint64 upperBound(int index)
{
    return lowerBound(index + 1);
}
inline constexpr quint64 kMinTracked = lowerBound(0); // 49152 ns
inline constexpr quint64 kMaxTracked = upperBound(kBucketCount - 1); // 60129542144 ns, exclusive

// The bucket of `ns`, clamped to the range.
constexpr int indexOf(quint64 ns)
{
    ns = ns < kMinTracked ? kMinTracked : ns >= kMaxTracked ? kMaxTracked - 1 : ns;
    const int exponent = 63 - std::countl_zero(ns);
    const int sub = int(ns >> (exponent - kSubBucketBits)) - kSubBuckets;
    return (exponent - kFirstExponent) * kSubBuckets + sub - kFirstSub;
}
static_assert(indexOf(50'000) == 0 && indexOf(60'000'000'000) == kBucketCount - 1);
static_assert(kMinTracked == 49'152 && kMaxTracked == 60'129'542'144);
} // namespace Buckets

// A plain copy of a histogram: counts per bucket (Buckets layout), the exact sum of the recorded
// values, and how many were clamped. Not thread-safe; a value type.
struct HistogramSnapshot
{
    std::vector<quint64> counts = std::vector<quint64>(Buckets::kBucketCount, 0);
    quint64 sumNs = 0;
    quint64 underflow = 0; // values below kMinTracked, counted in bucket 0
    quint64 overflow = 0; // values at or above kMaxTracked, counted in the last bucket

    quint64 count() const; // the sum of `counts`
    bool isEmpty() const { return count() == 0; }

    // The value at quantile q (0 < q <= 1; 0.5 for the median): the midpoint of the bucket that
    // holds the observation of rank ceil(q * count) ("nearest rank"). 0 when empty.
    double quantileNs(double q) const;
    // Observations below `boundNs`, exactly, when `boundNs` is a bucket edge (Buckets::lowerBound);
    // otherwise those of the buckets that end at or below it.
    quint64 countBelow(quint64 boundNs) const;

    void merge(const HistogramSnapshot &other);
    // What was recorded since `earlier` (a snapshot of the same histogram, taken before).
    HistogramSnapshot minus(const HistogramSnapshot &earlier) const;

    // A compact form for storage (logs.db): the non-zero buckets as varints (index gap, count).
    // Sum and clamp counters are not kept. decode() returns an empty snapshot for malformed input.
    QByteArray encode() const;
    static HistogramSnapshot decode(const QByteArray &bytes);
};

// A latency histogram that any number of threads record into without locks: one relaxed atomic
// increment of the value's bucket plus one of the sum (and one for a clamped value). Counts are
// exact; a snapshot taken while others record is not one instant (each bucket is exact, the sum
// may lag the buckets by the values being recorded). Memory: 648 × 8 bytes + 24 = 5.2 KB.
class LatencyHistogram
{
public:
    LatencyHistogram() = default;
    Q_DISABLE_COPY_MOVE(LatencyHistogram)

    void record(quint64 ns)
    {
        m_counts[size_t(Buckets::indexOf(ns))].fetch_add(1, std::memory_order_relaxed);
        m_sumNs.fetch_add(ns, std::memory_order_relaxed);
        if (ns < Buckets::kMinTracked) [[unlikely]]
            m_underflow.fetch_add(1, std::memory_order_relaxed);
        else if (ns >= Buckets::kMaxTracked) [[unlikely]]
            m_overflow.fetch_add(1, std::memory_order_relaxed);
    }

    HistogramSnapshot snapshot() const;
    // Adds this histogram's counts to `into` (cheaper than snapshot() + merge()).
    void addTo(HistogramSnapshot &into) const;

private:
    std::array<std::atomic<quint64>, Buckets::kBucketCount> m_counts {};
    std::atomic<quint64> m_sumNs {0};
    std::atomic<quint64> m_underflow {0};
    std::atomic<quint64> m_overflow {0};
};

} // namespace Outpost::Observe
