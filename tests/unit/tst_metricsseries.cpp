#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include "core/clock.h"
#include "observe/metrics.h"
#include "observe/metricsseries.h"
#include "observe/metricsstore.h"
#include "observe/metricssummary.h"
#include "store/sqlite.h"

using namespace Outpost;
using namespace Outpost::Observe;

namespace {

constexpr qint64 kHourMs = 3'600'000;
constexpr qint64 kStartMs = 1'700'000'000'000 / kHourMs * kHourMs; // an hour boundary
const QByteArray kA = "/api/a";
const QByteArray kB = "/api/b";

QList<Metrics::RouteSpec> routes()
{
    return {{kA, Method::Get}, {kB, Method::Post}};
}

// A server with a manual clock: record() now, second() ends the current second and ticks.
struct Rig
{
    ManualClock clock {kStartMs};
    Metrics metrics {routes(), kStartMs};
    MetricsSeries series {metrics};

    void record(const QByteArray &route, int n, qint64 latencyNs, int status = 200, QStringView key = {})
    {
        for (int i = 0; i < n; ++i)
            metrics.record({metrics.routeIndex(route), route == kA ? Method::Get : Method::Post, status, latencyNs, 100,
                            1000, -1, key.isEmpty() ? CallerKind::Guest : CallerKind::ApiKey, key});
    }
    void second()
    {
        clock.advanceMs(1000);
        series.tick(clock.nowMs());
    }
    // `seconds` seconds of A at 1/s (1 ms) then as many of B at 2/s (10 ms, key k1).
    void twoPhases(int seconds)
    {
        for (int s = 0; s < seconds; ++s) {
            record(kA, 1, 1'000'000);
            second();
        }
        for (int s = 0; s < seconds; ++s) {
            record(kB, 2, 10'000'000, 200, u"k1");
            second();
        }
    }
};

bool near(double actual, double expected, double relative = 1.0 / 64)
{
    return std::abs(actual - expected) <= relative * expected;
}

} // namespace

class TestMetricsSeries : public QObject
{
    Q_OBJECT

private slots:
    void seconds()
    {
        Rig rig;
        QVERIFY(rig.series.seconds(10).isEmpty());
        for (int n : {10, 20, 30}) {
            rig.record(kA, n, 2'000'000, n == 20 ? 404 : 200);
            rig.second();
        }
        QList<SeriesPoint> points = rig.series.seconds(3);
        QCOMPARE(points.size(), 3);
        QCOMPARE(points[0].startMs, kStartMs);
        QCOMPARE(points[2].startMs, kStartMs + 2000);
        QCOMPARE(points[0].requests, quint64(10));
        QCOMPARE(points[1].clientErrors, quint64(20));
        QCOMPARE(points[2].requests, quint64(30));
        QCOMPARE(points[2].bytesOut, quint64(30'000));
        QVERIFY(near(points[2].p99Ms, 2.0));

        // Four seconds without a tick: they read as nothing, the traffic goes to the last second.
        rig.record(kA, 7, 2'000'000);
        rig.clock.advanceMs(4000);
        rig.second();
        points = rig.series.seconds(6);
        QCOMPARE(points[0].requests, quint64(30));
        QCOMPARE(points[1].requests, quint64(0));
        QCOMPARE(points[1].startMs, kStartMs + 3000);
        QCOMPARE(points[5].requests, quint64(7));
        QCOMPARE(points[5].startMs, kStartMs + 7000);

        // A clock that goes back books into the latest second.
        rig.clock.advanceMs(-60'000);
        rig.record(kA, 4, 2'000'000);
        rig.series.tick(rig.clock.nowMs());
        points = rig.series.seconds(1);
        QCOMPARE(points[0].startMs, kStartMs + 7000);
        QCOMPARE(points[0].requests, quint64(11));
    }

    void minutesRollOver()
    {
        Rig rig;
        for (int s = 0; s < 150; ++s) { // 2.5 minutes; 5xx in the second minute
            rig.record(kA, 2, 1'000'000, s >= 60 && s < 120 && s % 2 ? 503 : 200);
            rig.second();
        }
        const QList<MinuteRow> rows = rig.series.takeRows();
        QCOMPARE(rows.size(), 2);
        QCOMPARE(rows[0].point.startMs, kStartMs);
        QCOMPARE(rows[0].point.requests, quint64(120));
        QCOMPARE(rows[1].point.serverErrors, quint64(60));
        QVERIFY(near(rows[1].point.p50Ms, 1.0));
        QCOMPARE(HistogramSnapshot::decode(rows[1].latency).count(), quint64(120));
        QVERIFY(rig.series.takeRows().isEmpty());
        const QList<MinuteRow> withCurrent = rig.series.takeRows(true);
        QCOMPARE(withCurrent.size(), 1);
        QCOMPARE(withCurrent[0].point.requests, quint64(60));

        const QList<SeriesPoint> minutes = rig.series.minutes(5);
        QCOMPARE(minutes.size(), 5);
        QCOMPARE(minutes[4].startMs, kStartMs + 120'000);
        QCOMPARE(minutes[4].requests, quint64(60)); // the current minute, partial
        QCOMPARE(minutes[3].serverErrors, quint64(60));
        QCOMPARE(minutes[1].requests, quint64(0)); // before the start
    }

    void summaryWindows()
    {
        Rig rig;
        rig.twoPhases(3600); // an hour of A, an hour of B
        for (int s = 0; s < 30; ++s) {
            rig.record(kB, 2, 10'000'000, 200, u"k1");
            rig.second();
        }
        const WindowTotals five = rig.series.summarize(Window::FiveMinutes);
        QCOMPARE(five.endMs, kStartMs + 2 * kHourMs + 30'000);
        QCOMPARE(five.sums.requests, quint64((4 * 60 + 30) * 2));
        QCOMPARE(five.seconds, 270.0);
        QCOMPARE(five.routes.size(), 1);
        QVERIFY(near(five.latency.quantileNs(0.5), 10e6));

        const WindowTotals hour = rig.series.summarize(Window::Hour);
        QCOMPARE(hour.sums.requests, quint64((59 * 60 + 30) * 2));
        QCOMPARE(hour.apiKeys.size(), 1);
        QCOMPARE(hour.apiKeys[0].second, quint64((59 * 60 + 30) * 2));

        for (Window w : {Window::Day, Window::Week}) {
            const WindowTotals t = rig.series.summarize(w);
            QCOMPARE(t.sums.requests, quint64(3600 + 3630 * 2));
            QCOMPARE(t.seconds, 7230.0); // since the first data, not the whole window
            QCOMPARE(t.latency.count(), quint64(3600 + 3630 * 2));
            QVERIFY(near(t.latency.quantileNs(0.3), 1e6));
            QVERIFY(near(t.latency.quantileNs(0.5), 10e6));
            QCOMPARE(t.routes.size(), 2);
            QCOMPARE(t.routes[0].requests, quint64(3630 * 2)); // B first
            QCOMPARE(t.routes[1].requests, quint64(3600));
        }

        const QJsonObject json = metricsSummary(rig.series.summarize(Window::Day), Window::Day, rig.metrics);
        QCOMPARE(json.value(QStringLiteral("window")).toString(), QStringLiteral("24h"));
        QCOMPARE(json.value(QStringLiteral("requests")).toInteger(), 3600 + 3630 * 2);
        QVERIFY(near(json.value(QStringLiteral("requestsPerSecond")).toDouble(), 10860.0 / 7230, 1e-9));
        QVERIFY(near(json.value(QStringLiteral("latencyMs")).toObject().value(QStringLiteral("p99")).toDouble(), 10));
        const QJsonObject top = json.value(QStringLiteral("topRoutes")).toArray().first().toObject();
        QCOMPARE(top.value(QStringLiteral("route")).toString(), QStringLiteral("/api/b"));
        QCOMPARE(top.value(QStringLiteral("method")).toString(), QStringLiteral("POST"));
        const QJsonObject key = json.value(QStringLiteral("topApiKeys")).toArray().first().toObject();
        QCOMPARE(key.value(QStringLiteral("key")).toString(), QStringLiteral("k1"));
        QCOMPARE(parseWindow(u"7d"), std::optional<Window>(Window::Week));
        QVERIFY(!parseWindow(u"2h"));
    }

    // The minute series through logs.db: a restarted series sees the same minutes and quantiles.
    void persistence()
    {
        QTemporaryDir dir;
        auto db = Store::Database::open(dir.filePath(QStringLiteral("logs.db")), Store::Database::Mode::ReadWrite);
        QVERIFY(db);
        QVERIFY((*db)->exec(kMetricsMinuteSchema));

        Rig before;
        before.twoPhases(1800);
        before.record(kB, 5, 10'000'000);
        before.second(); // 1 s into the current minute
        QVERIFY(saveMinuteRows(**db, before.series.takeRows(true), before.clock.nowMs()));

        Rig after;
        after.clock.setMs(before.clock.nowMs());
        auto rows = loadMinuteRows(**db, after.clock.nowMs());
        QVERIFY(rows);
        QCOMPARE(rows->size(), 61);
        after.series.restore(*rows);
        after.record(kB, 3, 10'000'000);
        after.second(); // the same minute, after the restart
        const WindowTotals a = before.series.summarize(Window::Day);
        const WindowTotals b = after.series.summarize(Window::Day);
        QCOMPARE(b.sums.requests, a.sums.requests + 3);
        QCOMPARE(b.latency.count(), a.latency.count() + 3);
        const QList<SeriesPoint> was = before.series.minutes(60);
        const QList<SeriesPoint> is = after.series.minutes(60);
        for (int i = 0; i < 59; ++i) { // the closed minutes
            QCOMPARE(is[i].startMs, was[i].startMs);
            QCOMPARE(is[i].requests, was[i].requests);
            QCOMPARE(is[i].p99Ms, was[i].p99Ms);
        }
        QVERIFY(near(b.latency.quantileNs(0.25), 1e6));
        QCOMPARE(b.routes.size(), 1); // top tables start over
        QCOMPARE(b.routes[0].requests, quint64(3));

        // The minute closes with what both processes counted, and replaces the partial row.
        for (int s = 0; s < 60; ++s)
            after.second();
        QVERIFY(saveMinuteRows(**db, after.series.takeRows(), after.clock.nowMs()));
        rows = loadMinuteRows(**db, after.clock.nowMs());
        QCOMPARE(rows->size(), 61);
        QCOMPARE(rows->back().point.requests, quint64(5 + 3));
        QCOMPARE(HistogramSnapshot::decode(rows->back().latency).count(), quint64(8));

        // Rows older than 7 days go.
        QVERIFY(saveMinuteRows(**db, {}, after.clock.nowMs() + 8 * 24 * kHourMs));
        QCOMPARE(loadMinuteRows(**db, after.clock.nowMs())->size(), 0);
    }
};

QTEST_GUILESS_MAIN(TestMetricsSeries)
#include "tst_metricsseries.moc"
