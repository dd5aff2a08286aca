#include <QProcess>
#include <QStandardPaths>
#include <QTest>
#include <thread>
#include <vector>

#include "observe/metrics.h"
#include "observe/processstats.h"
#include "observe/prometheus.h"

using namespace Outpost::Observe;

namespace {

const QByteArray kHealth = "/api/health";
const QByteArray kRecords = "/api/collections/{c}/records";
const QByteArray kRecord = "/api/collections/{c}/records/{id}";

QList<Metrics::RouteSpec> routes()
{
    return {{kHealth, Method::Get}, {kRecords, Method::Get},  {kRecords, Method::Post},
            {kRecord, Method::Get}, {kRecord, Method::Patch}, {kRecord, Method::Delete}};
}

// The i-th request of a deterministic mix: every route, method and status class, durations from
// 20 µs to 90 s (clamped at both ends), 40 keys, 30 users, guests.
RequestSample sampleNo(const Metrics &metrics, quint64 i, const QStringList &ids)
{
    static const QByteArray patterns[] = {kHealth, kRecords, kRecord, "/nowhere"};
    RequestSample s;
    s.route = metrics.routeIndex(patterns[i % 4]);
    s.method = Method(i % 7 % kMethodCount);
    s.status = int(100 + (i % 5) * 100 + i % 3);
    s.durationNs = qint64(20'000 + (i * 7919) % 90'000'000'000ull);
    s.bytesIn = qint64(i % 500);
    s.bytesOut = qint64(i % 1500);
    s.storeNs = i % 2 ? qint64(i % 1'000'000) : -1;
    s.callerKind = CallerKind(i % kCallerKindCount);
    s.callerId = ids[int(i % 70)];
    return s;
}

// Prometheus text, line by line: "name{labels}" -> value, in order.
QList<QPair<QByteArray, QByteArray>> samples(const QByteArray &text)
{
    QList<QPair<QByteArray, QByteArray>> out;
    for (const QByteArray &line : text.split('\n')) {
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        const qsizetype space = line.lastIndexOf(' ');
        out.append({line.first(space), line.mid(space + 1)});
    }
    return out;
}

QByteArray valueOf(const QByteArray &text, const QByteArray &series)
{
    for (const auto &[name, value] : samples(text))
        if (name == series)
            return value;
    return QByteArray();
}

} // namespace

class TestMetrics : public QObject
{
    Q_OBJECT

private slots:
    void routing()
    {
        Metrics m(routes());
        QCOMPARE(m.routeCount(), 5);
        QCOMPARE(m.routeIndex(kRecords), 1);
        QCOMPARE(m.routeIndex("/nope"), m.unmatchedRoute());
        QCOMPARE(m.routeName(m.unmatchedRoute()), QByteArray("(unmatched)"));
        QCOMPARE(m.routeName(m.rejectedRoute()), QByteArray("(rejected)"));

        m.record({m.routeIndex(kHealth), Method::Get, 200, 1'000'000, 10, 20, -1, CallerKind::Guest, {}});
        m.record({m.routeIndex(kHealth), Method::Head, 200, 1'000'000, 10, 0, -1, CallerKind::Guest, {}});
        m.record({m.routeIndex(kHealth), Method::Options, 204, 1'000'000, 10, 0, -1, CallerKind::Guest, {}});
        m.record({m.routeIndex("/nope"), Method::Get, 404, 1'000'000, 10, 0, -1, CallerKind::Guest, {}});
        m.record({m.routeIndex(kRecord), Method::Patch, 503, 2'000'000, 10, 0, 300'000, CallerKind::User, u"user1"});
        m.recordRejected(431);

        const Metrics::Snapshot s = m.snapshot();
        QCOMPARE(s.counts.size(), 6);
        QStringList latencies;
        for (const auto &l : s.latencies)
            latencies.append(QString::fromUtf8(l.route + ' ' + l.method + ' ' + QByteArray::number(l.latency.count())));
        QCOMPARE(latencies,
                 QStringList({QStringLiteral("/api/health GET 1"), QStringLiteral("/api/health HEAD 1"),
                              QStringLiteral("/api/collections/{c}/records/{id} PATCH 1"),
                              QStringLiteral("(other) other 2")}));
        QCOMPARE(s.store.count(), quint64(1));
        QCOMPARE(s.bytesIn, quint64(50));
        QCOMPARE(s.byCaller[size_t(CallerKind::Guest)], quint64(5));
        QCOMPARE(s.users.size(), 1);
        QCOMPARE(s.users[0].id, QByteArray("user1"));
        const Metrics::Totals t = m.totals();
        QCOMPARE(t.byClass, (std::array<quint64, 5> {0, 3, 0, 2, 1}));
        QCOMPARE(t.cellServerErrors[size_t(Metrics::cell(m.routeIndex(kRecord), Method::Patch))], quint64(1));
        QCOMPARE(t.latency.count(), quint64(5));
    }

    // N threads × M records: every counter exact, the same as one thread recording the same requests.
    void concurrency()
    {
        constexpr int kThreads = 4;
        constexpr quint64 kPerThread = 100'000;
        QStringList ids;
        for (int i = 0; i < 70; ++i)
            ids.append(QStringLiteral("caller%1").arg(i));
        Metrics shared(routes());
        Metrics reference(routes());
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t] {
                for (quint64 i = t * kPerThread; i < (t + 1) * kPerThread; ++i)
                    shared.record(sampleNo(shared, i, ids));
            });
        for (quint64 i = 0; i < kThreads * kPerThread; ++i)
            reference.record(sampleNo(reference, i, ids));
        for (auto &thread : threads)
            thread.join();

        const Metrics::Snapshot a = shared.snapshot();
        const Metrics::Snapshot b = reference.snapshot();
        quint64 total = 0;
        QCOMPARE(a.counts.size(), b.counts.size());
        for (qsizetype i = 0; i < a.counts.size(); ++i) {
            QCOMPARE(a.counts[i].byClass, b.counts[i].byClass);
            for (quint64 n : a.counts[i].byClass)
                total += n;
        }
        QCOMPARE(total, kThreads * kPerThread);
        QCOMPARE(a.latencies.size(), b.latencies.size());
        for (qsizetype i = 0; i < a.latencies.size(); ++i) {
            QCOMPARE(a.latencies[i].latency.counts, b.latencies[i].latency.counts);
            QCOMPARE(a.latencies[i].latency.sumNs, b.latencies[i].latency.sumNs);
            QCOMPARE(a.latencies[i].latency.underflow, b.latencies[i].latency.underflow);
            QCOMPARE(a.latencies[i].latency.overflow, b.latencies[i].latency.overflow);
        }
        QCOMPARE(a.store.counts, b.store.counts);
        QCOMPARE(a.bytesIn, b.bytesIn);
        QCOMPARE(a.bytesOut, b.bytesOut);
        QCOMPARE(a.byCaller, b.byCaller);
        QCOMPARE(a.apiKeys.size(), b.apiKeys.size());
        quint64 keyed = 0;
        for (const auto &e : a.apiKeys)
            keyed += e.count;
        QCOMPARE(keyed, a.byCaller[size_t(CallerKind::ApiKey)]);
        QCOMPARE(a.users.size(), b.users.size());
    }

    void exposition()
    {
        Metrics m(routes());
        const int health = m.routeIndex(kHealth);
        for (qint64 us : {80, 150, 900, 1'200})
            m.record({health, Method::Get, 200, us * 1000, 100, 200, -1, CallerKind::ApiKey, u"key\"with\\odd"});
        m.record({health, Method::Get, 503, 120'000'000'000, 100, 200, 500'000, CallerKind::ApiKey, u"k2"});
        m.record({m.routeIndex(kRecords), Method::Post, 201, 3'000'000, 1000, 50, 1'000'000, CallerKind::User, u"u1"});
        m.recordRejected(400);
        m.setProbes({[] { return qint64(3); }, [] { return qint64(7); }});
        const QByteArray text = renderPrometheus(m.snapshot(), ProcessStats::read(QDateTime::currentMSecsSinceEpoch()));

        QCOMPARE(valueOf(text, "outpost_http_requests_total{route=\"/api/health\",method=\"GET\",status=\"2xx\"}"),
                 QByteArray("4"));
        QCOMPARE(valueOf(text, "outpost_http_requests_total{route=\"/api/health\",method=\"GET\",status=\"5xx\"}"),
                 QByteArray("1"));
        QCOMPARE(valueOf(text, "outpost_http_requests_total{route=\"(rejected)\",method=\"other\",status=\"4xx\"}"),
                 QByteArray("1"));
        QCOMPARE(valueOf(text, "outpost_apikey_requests_total{key=\"key\\\"with\\\\odd\"}"), QByteArray("4"));
        QCOMPARE(valueOf(text, "outpost_http_requests_in_flight"), QByteArray("3"));
        QCOMPARE(valueOf(text, "outpost_http_open_connections"), QByteArray("7"));
        QCOMPARE(valueOf(text, "outpost_http_request_bytes_total"), QByteArray("1500"));
        QCOMPARE(valueOf(text, "outpost_http_request_duration_out_of_range_total{side=\"above\"}"), QByteArray("1"));
        QVERIFY(valueOf(text, "process_resident_memory_bytes").toLongLong() > 0);
        QVERIFY(valueOf(text, "process_open_fds").toLongLong() > 0);
        QVERIFY(valueOf(text, "process_start_time_seconds").toDouble() > 1e9);

        // The health GET histogram: 20 cumulative buckets, ascending `le`, +Inf == _count.
        const QByteArray prefix
            = "outpost_http_request_duration_seconds_bucket{route=\"/api/health\",method=\"GET\",le=\"";
        QList<double> les;
        QList<quint64> cumulative;
        for (const auto &[name, value] : samples(text)) {
            if (!name.startsWith(prefix))
                continue;
            const QByteArray le = name.mid(prefix.size()).chopped(2);
            les.append(le == "+Inf" ? qInf() : le.toDouble());
            cumulative.append(value.toULongLong());
        }
        QCOMPARE(les.size(), prometheusBounds().size() + 1);
        QVERIFY(std::is_sorted(les.begin(), les.end()));
        QVERIFY(std::is_sorted(cumulative.begin(), cumulative.end()));
        QCOMPARE(cumulative.back(), quint64(5));
        QCOMPARE(cumulative[les.indexOf(0.000100352)], quint64(1)); // 80 µs ≤ 100.352 µs < 150 µs
        QCOMPARE(cumulative[les.indexOf(0.000999424)], quint64(3)); // the 1 ms edge
        QCOMPARE(cumulative[les.size() - 2], quint64(4)); // 2 min is above every finite edge
        QCOMPARE(valueOf(text, "outpost_http_request_duration_seconds_count{route=\"/api/health\",method=\"GET\"}"),
                 QByteArray("5"));
        const double sum
            = valueOf(text, "outpost_http_request_duration_seconds_sum{route=\"/api/health\",method=\"GET\"}")
                  .toDouble();
        QCOMPARE(sum, 120.00233);
        for (const char *family : {"outpost_http_requests_total", "outpost_http_request_duration_seconds",
                                   "outpost_store_duration_seconds", "process_cpu_seconds_total"}) {
            QVERIFY2(text.contains(QByteArray("# HELP ").append(family).append(' ')), family);
            QVERIFY2(text.contains(QByteArray("# TYPE ").append(family).append(' ')), family);
        }
    }

    void boundsAreEdges()
    {
        const QList<quint64> &bounds = prometheusBounds();
        QCOMPARE(bounds.size(), 19);
        for (quint64 b : bounds)
            QCOMPARE(Buckets::lowerBound(Buckets::indexOf(b - 1) + 1), b);
        QCOMPARE(bounds.back(), Buckets::kMaxTracked);
        QCOMPARE(escapeLabelValue("a\"b\\c\nd"), QByteArray("a\\\"b\\\\c\\nd"));
    }

    // `promtool check metrics` (Debian's prometheus package) must find nothing to say.
    void promtool()
    {
        const QString promtool = QStandardPaths::findExecutable(QStringLiteral("promtool"));
        if (promtool.isEmpty())
            QFAIL("promtool is not on PATH: install Debian's `prometheus` package (packaging/outpost-dev.sh)");
        Metrics m(routes());
        m.record({m.routeIndex(kHealth), Method::Get, 200, 250'000, 80, 300, -1, CallerKind::Guest, {}});
        m.record({m.routeIndex(kRecord), Method::Delete, 404, 5'000'000, 80, 120, 40'000, CallerKind::ApiKey, u"k1"});
        m.record(
            {m.routeIndex(kRecords), Method::Get, 500, 70'000'000'000, 80, 120, 900'000, CallerKind::User, u"u\"1"});
        m.record({m.routeIndex("/x"), Method::Put, 404, 10'000, 80, 120, -1, CallerKind::Superuser, u"root"});
        m.recordRejected(413);
        m.setProbes({[] { return qint64(0); }, [] { return qint64(1); }});
        const QByteArray text = renderPrometheus(m.snapshot(), ProcessStats::read(QDateTime::currentMSecsSinceEpoch()));

        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(promtool, {QStringLiteral("check"), QStringLiteral("metrics")});
        QVERIFY(p.waitForStarted());
        p.write(text);
        p.closeWriteChannel();
        QVERIFY(p.waitForFinished(60'000));
        const QByteArray said = p.readAll();
        QVERIFY2(said.isEmpty(), said.constData());
        QCOMPARE(p.exitCode(), 0);
    }

    void processStats()
    {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        const ProcessStats p = ProcessStats::read(now);
        QVERIFY(p.residentBytes > 1024 * 1024);
        QVERIFY(p.virtualBytes >= p.residentBytes);
        QVERIFY(p.cpuSeconds >= 0);
        QVERIFY(p.openFds >= 3);
        QVERIFY(p.maxFds == -1 || p.maxFds >= p.openFds);
        QVERIFY(p.startTimeSeconds > 1e9 && p.startTimeSeconds <= double(now) / 1000 + 1);
        QVERIFY(p.uptimeSeconds >= 0 && p.uptimeSeconds < 3600);
    }
};

QTEST_GUILESS_MAIN(TestMetrics)
#include "tst_metrics.moc"
