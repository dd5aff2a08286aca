// Micro benchmark of the request metrics (backend/observe): ns per Metrics::record() on one thread
// and on two, the cost of a series tick and of a Prometheus scrape, and the memory they take.
// Not a test; ctest does not run it. Build and run (one job, a quiet machine, RelWithDebInfo):
//   cmake --build build/dev -j1 --target metrics_bench && build/dev/tests/unit/metrics_bench [records]
#include <QCoreApplication>
#include <QDateTime>
#include <QStringList>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include <time.h>

#include "observe/metrics.h"
#include "observe/metricsseries.h"
#include "observe/processstats.h"
#include "observe/prometheus.h"

using namespace Outpost::Observe;
using Clock = std::chrono::steady_clock;

namespace {

// 40 patterns with 1-3 methods each, about what the Router holds.
QList<Metrics::RouteSpec> routes()
{
    QList<Metrics::RouteSpec> out;
    for (int i = 0; i < 40; ++i) {
        const QByteArray pattern = "/api/area" + QByteArray::number(i) + "/{id}";
        out.append({pattern, Method::Get});
        if (i % 2)
            out.append({pattern, Method::Post});
        if (i % 3 == 0)
            out.append({pattern, Method::Delete});
    }
    return out;
}

// A mix: mostly 2xx GETs between 100 µs and 5 ms; a quarter by API key (100 keys), a quarter by user.
std::vector<RequestSample> mix(const Metrics &metrics, const QStringList &ids, int sameRoute)
{
    std::vector<RequestSample> out;
    for (quint64 i = 0; i < 4096; ++i) {
        RequestSample s;
        s.route = sameRoute >= 0 ? sameRoute : metrics.routeIndex("/api/area" + QByteArray::number(i % 40) + "/{id}");
        s.method = i % 5 == 0 ? Method::Post : Method::Get;
        s.status = i % 50 == 0 ? 500 : i % 10 == 0 ? 404 : 200;
        s.durationNs = qint64(100'000 + (i * 7919) % 5'000'000);
        s.bytesIn = 200;
        s.bytesOut = qint64(300 + i % 2000);
        s.storeNs = i % 3 ? qint64(50'000 + i % 400'000) : -1;
        s.callerKind = i % 4 == 1 ? CallerKind::ApiKey : i % 4 == 2 ? CallerKind::User : CallerKind::Guest;
        s.callerId = ids[int(i % quint64(ids.size()))];
        out.push_back(s);
    }
    return out;
}

double threadCpuNs()
{
    timespec ts {};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

// CPU time per record on each thread (wall time misleads on a shared 2-core machine: a thread
// that waits for a core is not slower). `shared`: the threads record into one registry, else
// each into its own (the cost without any cache-line sharing). `sameRoute` >= 0: every record
// hits that route, the worst case for sharing.
double nsPerRecord(int threads, quint64 perThread, bool shared, int sameRoute)
{
    QStringList ids;
    for (int i = 0; i < 100; ++i)
        ids.append(QStringLiteral("k%1abcdefghijkl").arg(i, 2, 10, QLatin1Char('0')));
    std::vector<std::unique_ptr<Metrics>> registries;
    for (int t = 0; t < (shared ? 1 : threads); ++t)
        registries.push_back(std::make_unique<Metrics>(routes()));
    const std::vector<RequestSample> samples = mix(*registries[0], ids, sameRoute);
    for (auto &metrics : registries)
        for (const RequestSample &s : samples) // first sight of every id outside the timing
            metrics->record(s);
    std::vector<double> cpu(size_t(threads), 0);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&, t] {
            Metrics &metrics = *registries[shared ? 0 : size_t(t)];
            const double start = threadCpuNs();
            for (quint64 i = 0; i < perThread; ++i)
                metrics.record(samples[(i + quint64(t) * 977) & 4095]);
            cpu[size_t(t)] = threadCpuNs() - start;
        });
    for (auto &w : workers)
        w.join();
    double total = 0;
    for (double c : cpu)
        total += c;
    return total / double(threads) / double(perThread);
}

template <typename F> double microsPer(int n, F f)
{
    const auto start = Clock::now();
    for (int i = 0; i < n; ++i)
        f(i);
    return double(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count()) / 1000.0 / n;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const quint64 records = argc > 1 ? QByteArray(argv[1]).toULongLong() : 20'000'000;
    std::printf("record(), %llu per thread, CPU ns per record\n", static_cast<unsigned long long>(records));
    for (int run = 0; run < 3; ++run)
        std::printf("  run %d: 1 thread %.1f ns | 2 threads, own registries %.1f ns | 2 threads, shared %.1f ns"
                    " | 2 threads, shared, one route %.1f ns\n",
                    run, nsPerRecord(1, records, true, -1), nsPerRecord(2, records, false, -1),
                    nsPerRecord(2, records, true, -1), nsPerRecord(2, records, true, 0));

    const qint64 rssBefore = ProcessStats::read(0).residentBytes;
    Metrics metrics(routes());
    MetricsSeries series(metrics);
    QStringList ids;
    for (int i = 0; i < 100; ++i)
        ids.append(QStringLiteral("key%1").arg(i));
    const std::vector<RequestSample> samples = mix(metrics, ids, -1);
    const qint64 t0 = 1'700'000'000'000;
    // Two hours of ticks with traffic in every second fill the rings as a running server would.
    const double tick = microsPer(7200, [&](int s) {
        for (int r = 0; r < 50; ++r)
            metrics.record(samples[size_t(s * 50 + r) & 4095]);
        series.tick(t0 + qint64(s + 1) * 1000);
    });
    const qint64 rssAfter = ProcessStats::read(0).residentBytes;
    const double week = microsPer(100, [&](int) { (void)series.summarize(Window::Week); });
    QByteArray text;
    const double scrape = microsPer(100, [&](int) {
        text = renderPrometheus(metrics.snapshot(), ProcessStats::read(QDateTime::currentMSecsSinceEpoch()));
    });
    std::printf("tick() %.1f µs | summarize(7d) %.1f µs | scrape (snapshot + render) %.1f µs, %lld bytes\n", tick, week,
                scrape, static_cast<long long>(text.size()));
    std::printf("memory: Metrics (%d routes) + MetricsSeries after 2 h: %.1f MB resident\n", int(routes().size()),
                double(rssAfter - rssBefore) / 1e6);
    return 0;
}
