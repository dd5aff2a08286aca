#include <QRandomGenerator>
#include <QSet>
#include <QTest>
#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "observe/callertable.h"
#include "observe/histogram.h"

using namespace Outpost::Observe;

namespace {

constexpr quint64 k50us = 50'000;
constexpr quint64 k60s = 60'000'000'000;

// `n` values log-uniform in [lo, hi), from a fixed seed.
std::vector<quint64> logUniform(int n, quint64 lo, quint64 hi, quint32 seed)
{
    QRandomGenerator rng(seed);
    std::vector<quint64> out;
    out.reserve(size_t(n));
    const double a = std::log(double(lo));
    const double b = std::log(double(hi));
    for (int i = 0; i < n; ++i)
        out.push_back(quint64(std::exp(a + (b - a) * rng.generateDouble())));
    return out;
}

// The exact nearest-rank quantile of sorted values, as HistogramSnapshot::quantileNs defines it.
double exactQuantile(const std::vector<quint64> &sorted, double q)
{
    const auto rank = size_t(std::max(1.0, std::ceil(q * double(sorted.size()))));
    return double(sorted[rank - 1]);
}

} // namespace

class TestHistogram : public QObject
{
    Q_OBJECT

private slots:
    void layout()
    {
        QCOMPARE(Buckets::kBucketCount, 648);
        QVERIFY(Buckets::kMinTracked <= k50us);
        QVERIFY(Buckets::kMaxTracked > k60s);
        for (int i = 0; i < Buckets::kBucketCount; ++i) {
            const quint64 lo = Buckets::lowerBound(i);
            const quint64 hi = Buckets::upperBound(i);
            QVERIFY(hi > lo);
            QVERIFY2(double(hi - lo) / double(lo) <= 1.0 / 32, qPrintable(QString::number(i)));
            QCOMPARE(Buckets::indexOf(lo), i);
            QCOMPARE(Buckets::indexOf(hi - 1), i);
            if (i > 0)
                QCOMPARE(Buckets::upperBound(i - 1), lo);
        }
        QCOMPARE(Buckets::indexOf(0), 0);
        QCOMPARE(Buckets::indexOf(std::numeric_limits<quint64>::max()), Buckets::kBucketCount - 1);
    }

    // ±2% against exact quantiles of 100k log-uniform samples over the whole range (the layout
    // guarantees 1/64 = 1.5625%).
    void accuracy_data()
    {
        QTest::addColumn<quint32>("seed");
        QTest::addColumn<quint64>("lo");
        QTest::addColumn<quint64>("hi");
        QTest::newRow("50 µs - 60 s") << 1u << k50us << k60s;
        QTest::newRow("50 µs - 60 s, another seed") << 2u << k50us << k60s;
        QTest::newRow("100 µs - 20 ms, typical API") << 3u << quint64(100'000) << quint64(20'000'000);
        QTest::newRow("narrow, 1.0 - 1.1 ms") << 4u << quint64(1'000'000) << quint64(1'100'000);
    }
    void accuracy()
    {
        QFETCH(quint32, seed);
        QFETCH(quint64, lo);
        QFETCH(quint64, hi);
        std::vector<quint64> values = logUniform(100'000, lo, hi, seed);
        LatencyHistogram h;
        quint64 sum = 0;
        for (quint64 v : values) {
            h.record(v);
            sum += v;
        }
        std::sort(values.begin(), values.end());
        const HistogramSnapshot s = h.snapshot();
        QCOMPARE(s.count(), quint64(values.size()));
        QCOMPARE(s.sumNs, sum);
        QCOMPARE(s.underflow + s.overflow, quint64(0));
        double worst = 0;
        for (double q : {0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0}) {
            const double exact = exactQuantile(values, q);
            const double error = std::abs(s.quantileNs(q) - exact) / exact;
            worst = std::max(worst, error);
            QVERIFY2(error <= 1.0 / 64 + 1e-12,
                     qPrintable(QStringLiteral("q=%1: %2 vs %3").arg(q).arg(s.quantileNs(q)).arg(exact)));
        }
        QVERIFY(worst <= 0.02);
        qInfo("worst relative error: %.3f%%", worst * 100);
    }

    void clamping()
    {
        LatencyHistogram h;
        h.record(0);
        h.record(10'000); // 10 µs
        h.record(k50us);
        h.record(120'000'000'000); // 2 min
        const HistogramSnapshot s = h.snapshot();
        QCOMPARE(s.count(), quint64(4));
        QCOMPARE(s.underflow, quint64(2));
        QCOMPARE(s.overflow, quint64(1));
        QCOMPARE(s.counts.front(), quint64(3));
        QCOMPARE(s.counts.back(), quint64(1));
        QCOMPARE(s.sumNs, quint64(10'000 + k50us + 120'000'000'000));
        QVERIFY(s.quantileNs(1.0) < double(Buckets::kMaxTracked));
        QCOMPARE(HistogramSnapshot().quantileNs(0.5), 0.0);
    }

    void mergeMinusEncode()
    {
        const std::vector<quint64> values = logUniform(10'000, k50us, k60s, 7);
        LatencyHistogram all;
        LatencyHistogram first;
        LatencyHistogram second;
        for (size_t i = 0; i < values.size(); ++i) {
            all.record(values[i]);
            (i % 3 ? first : second).record(values[i]);
        }
        HistogramSnapshot merged = first.snapshot();
        merged.merge(second.snapshot());
        QCOMPARE(merged.counts, all.snapshot().counts);
        QCOMPARE(merged.sumNs, all.snapshot().sumNs);
        QCOMPARE(all.snapshot().minus(first.snapshot()).counts, second.snapshot().counts);

        const QByteArray encoded = merged.encode();
        QVERIFY(encoded.size() < 2000);
        QCOMPARE(HistogramSnapshot::decode(encoded).counts, merged.counts);
        QCOMPARE(HistogramSnapshot::decode(HistogramSnapshot().encode()).count(), quint64(0));
        QCOMPARE(HistogramSnapshot::decode(QByteArray("\x01\x90", 2)).count(), quint64(0)); // truncated
        QCOMPARE(HistogramSnapshot::decode(QByteArray("\x01\x05\x01\x00\x01", 5)).count(), quint64(0)); // gap 0
        QCOMPARE(HistogramSnapshot::decode(QByteArray("\x01\x88\x05\x01", 4)).counts.back(), quint64(1)); // 647
        QCOMPARE(HistogramSnapshot::decode(QByteArray("\x01\x89\x05\x01", 4)).count(),
                 quint64(0)); // index 648: past the end
        QCOMPARE(HistogramSnapshot::decode(QByteArray("\x02", 1)).count(), quint64(0)); // unknown version
    }

    void countBelow()
    {
        LatencyHistogram h;
        for (quint64 v : {60'000, 70'000, 1'000'000, 2'000'000})
            h.record(v);
        const HistogramSnapshot s = h.snapshot();
        const quint64 edge = Buckets::lowerBound(Buckets::indexOf(1'000'000));
        QCOMPARE(s.countBelow(edge), quint64(2));
        QCOMPARE(s.countBelow(Buckets::kMaxTracked), quint64(4));
    }

    void callerTableCounts()
    {
        CallerTable table(16); // 12 ids at most
        for (int i = 0; i < 20; ++i)
            for (int n = 0; n <= i; ++n)
                table.count(QStringLiteral("key%1").arg(i));
        table.count(QStringLiteral("ü-not-ascii"));
        table.count(QString(CallerTable::kMaxIdLength + 1, QLatin1Char('x')));
        QCOMPARE(table.usedSlots(), 12);
        quint64 total = 0;
        QSet<QByteArray> ids;
        for (const CallerTable::Entry &e : table.entries()) {
            total += e.count;
            ids.insert(e.id);
            if (e.id != "_other")
                QCOMPARE(e.count, quint64(e.id.mid(3).toInt() + 1));
        }
        QCOMPARE(total, quint64(20 * 21 / 2 + 2));
        QCOMPARE(ids.size(), 13);
        QVERIFY(ids.contains("_other"));
    }

    // Threads meeting the same new ids at the same moment: one slot per id, exact counts.
    void callerTableConcurrent()
    {
        CallerTable table(1024);
        constexpr int kThreads = 4;
        constexpr int kIds = 500;
        constexpr int kRounds = 200;
        QStringList ids;
        for (int i = 0; i < kIds; ++i)
            ids.append(QStringLiteral("id%1").arg(i));
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t] {
                for (int r = 0; r < kRounds; ++r)
                    for (int i = 0; i < kIds; ++i)
                        table.count(ids[(i + t * 7) % kIds]);
            });
        for (auto &thread : threads)
            thread.join();
        QCOMPARE(table.usedSlots(), kIds);
        const auto entries = table.entries();
        QCOMPARE(entries.size(), kIds);
        for (const CallerTable::Entry &e : entries)
            QCOMPARE(e.count, quint64(kThreads * kRounds));
    }
};

QTEST_GUILESS_MAIN(TestHistogram)
#include "tst_histogram.moc"
