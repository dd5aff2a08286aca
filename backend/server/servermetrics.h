#pragma once

#include <QObject>
#include <QTimer>
#include <functional>
#include <memory>
#include <vector>

#include "../http/router.h"
#include "../observe/metrics.h"

class QThreadPool;

namespace Outpost {
class Clock;
}
namespace Outpost::Store {
class Store;
}
namespace Outpost::Observe {
class Metrics;
class MetricsSeries;
struct LogCounts;
} // namespace Outpost::Observe

namespace Outpost {

// The request metrics of a running server: the registry every network thread records into
// (Observe::Metrics, built from the finished route table), the time series a 1-second timer feeds,
// and the series' closed minutes, saved to logs.db about once a minute (on `pool`) and read back
// at the next start.
//
// Thread: create, restore(), start(), tick() and stop() on the main thread; record() and
// recordRejected() from any thread; metrics() and series() are safe from any thread (they are
// thread-safe themselves). `router`, `store`, `clock` and `pool` must outlive it; jobs it queued
// on `pool` must finish (QThreadPool::waitForDone) before `store` closes.
class ServerMetrics final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServerMetrics)

public:
    ServerMetrics(const Http::Router &router, Store::Store &store, const Clock &clock, QThreadPool *pool,
                  QObject *parent = nullptr);
    ~ServerMetrics() override;

    // Read at scrape time from the scraping thread: the probes of Observe::Metrics.
    void setProbes(Observe::Metrics::Probes probes);
    // The counters of logs.db's writers, read at scrape time from the scraping thread.
    void setLogProbe(std::function<QList<Observe::LogCounts>()> logs);

    // Puts the minutes saved by the previous run back into the series; call before start(). A
    // failed read is logged and costs only the history.
    void restore();
    void start();
    // Books what happened up to now into the series (the timer does it every second).
    void tick();
    // Stops the timer, books the last requests and saves every minute, the current one included
    // (synchronously: call it after the network threads stopped, while the store is open).
    void stop();

    void record(const Http::ResponseRecord &record);
    void recordRejected(int status);

    const Observe::Metrics &metrics() const { return *m_metrics; }
    const Observe::MetricsSeries &series() const { return *m_series; }

private:
    void save(bool final);

    Store::Store &m_store;
    const Clock &m_clock;
    QThreadPool *m_pool;
    std::unique_ptr<Observe::Metrics> m_metrics;
    std::unique_ptr<Observe::MetricsSeries> m_series;
    std::vector<int> m_routeOf; // Router route index → Metrics route
    QTimer m_timer;
    qint64 m_savedMs = 0;
};

} // namespace Outpost
