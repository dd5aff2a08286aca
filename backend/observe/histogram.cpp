#include "histogram.h"

#include <cmath>

namespace Outpost::Observe {

namespace {

// The stored form: a version byte, then per non-zero bucket the gap to the previous one's index
// and its count, both as LEB128 varints. A minute with traffic in a few dozen buckets takes ~100
// bytes instead of 5 KB.
constexpr char kEncodingVersion = 1;

void appendVarint(QByteArray &out, quint64 value)
{
    while (value >= 0x80) {
        out.append(char(0x80 | (value & 0x7f)));
        value >>= 7;
    }
    out.append(char(value));
}

bool readVarint(const QByteArray &in, qsizetype &pos, quint64 &value)
{
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= in.size())
            return false;
        const auto byte = quint8(in[pos++]);
        value |= quint64(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return true;
    }
    return false;
}

} // namespace

quint64 HistogramSnapshot::count() const
{
    quint64 total = 0;
    for (quint64 c : counts)
        total += c;
    return total;
}

double HistogramSnapshot::quantileNs(double q) const
{
    const quint64 total = count();
    if (total == 0)
        return 0;
    // Nearest rank: the smallest observation with at least q * total observations at or below it.
    const auto rank = quint64(qBound(1.0, std::ceil(q * double(total)), double(total)));
    quint64 seen = 0;
    for (int i = 0; i < Buckets::kBucketCount; ++i) {
        seen += counts[size_t(i)];
        if (seen >= rank)
            return (double(Buckets::lowerBound(i)) + double(Buckets::upperBound(i))) / 2;
    }
    return double(Buckets::kMaxTracked); // unreachable: seen ends at total
}

quint64 HistogramSnapshot::countBelow(quint64 boundNs) const
{
    quint64 below = 0;
    for (int i = 0; i < Buckets::kBucketCount && Buckets::upperBound(i) <= boundNs; ++i)
        below += counts[size_t(i)];
    return below;
}

void HistogramSnapshot::merge(const HistogramSnapshot &other)
{
    for (size_t i = 0; i < counts.size(); ++i)
        counts[i] += other.counts[i];
    sumNs += other.sumNs;
    underflow += other.underflow;
    overflow += other.overflow;
}

HistogramSnapshot HistogramSnapshot::minus(const HistogramSnapshot &earlier) const
{
    // Counters only grow, but snapshots of a histogram being recorded into are not instants: clamp
    // at zero rather than wrap.
    const auto sub = [](quint64 a, quint64 b) { return a > b ? a - b : 0; };
    HistogramSnapshot delta;
    for (size_t i = 0; i < counts.size(); ++i)
        delta.counts[i] = sub(counts[i], earlier.counts[i]);
    delta.sumNs = sub(sumNs, earlier.sumNs);
    delta.underflow = sub(underflow, earlier.underflow);
    delta.overflow = sub(overflow, earlier.overflow);
    return delta;
}

QByteArray HistogramSnapshot::encode() const
{
    QByteArray out;
    out.append(kEncodingVersion);
    int previous = -1;
    for (int i = 0; i < Buckets::kBucketCount; ++i) {
        if (counts[size_t(i)] == 0)
            continue;
        appendVarint(out, quint64(i - previous));
        appendVarint(out, counts[size_t(i)]);
        previous = i;
    }
    return out;
}

HistogramSnapshot HistogramSnapshot::decode(const QByteArray &bytes)
{
    HistogramSnapshot out;
    if (bytes.isEmpty() || bytes[0] != kEncodingVersion)
        return out;
    qsizetype pos = 1;
    quint64 index = quint64(-1);
    while (pos < bytes.size()) {
        quint64 gap = 0;
        quint64 count = 0;
        if (!readVarint(bytes, pos, gap) || !readVarint(bytes, pos, count) || gap == 0
            || gap > quint64(Buckets::kBucketCount) || index + gap >= quint64(Buckets::kBucketCount))
            return HistogramSnapshot();
        index += gap;
        out.counts[size_t(index)] = count;
    }
    return out;
}

HistogramSnapshot LatencyHistogram::snapshot() const
{
    HistogramSnapshot out;
    addTo(out);
    return out;
}

void LatencyHistogram::addTo(HistogramSnapshot &into) const
{
    for (size_t i = 0; i < m_counts.size(); ++i)
        into.counts[i] += m_counts[i].load(std::memory_order_relaxed);
    into.sumNs += m_sumNs.load(std::memory_order_relaxed);
    into.underflow += m_underflow.load(std::memory_order_relaxed);
    into.overflow += m_overflow.load(std::memory_order_relaxed);
}

} // namespace Outpost::Observe
