#include "servermetrics.h"

#include <QLoggingCategory>
#include <QThreadPool>

#include "../core/clock.h"
#include "../observe/metrics.h"
#include "../observe/metricsseries.h"
#include "../observe/metricsstore.h"
#include "../store/store.h"

Q_LOGGING_CATEGORY(lcMetrics, "outpost.observe")

namespace Outpost {

namespace {

// Observe::Metrics counts by the HTTP layer's enums, in the same order.
static_assert(int(Http::Method::Get) == int(Observe::Method::Get)
              && int(Http::Method::Head) == int(Observe::Method::Head)
              && int(Http::Method::Post) == int(Observe::Method::Post)
              && int(Http::Method::Put) == int(Observe::Method::Put)
              && int(Http::Method::Patch) == int(Observe::Method::Patch)
              && int(Http::Method::Delete) == int(Observe::Method::Delete)
              && int(Http::Method::Options) == int(Observe::Method::Options));
static_assert(int(Http::Caller::Kind::Guest) == int(Observe::CallerKind::Guest)
              && int(Http::Caller::Kind::Superuser) == int(Observe::CallerKind::Superuser)
              && int(Http::Caller::Kind::ApiKey) == int(Observe::CallerKind::ApiKey)
              && int(Http::Caller::Kind::User) == int(Observe::CallerKind::User));

constexpr int kTickMs = 1000;
constexpr qint64 kSaveIntervalMs = 60'000;

QList<Observe::Metrics::RouteSpec> routeSpecs(const Http::Router &router)
{
    QList<Observe::Metrics::RouteSpec> specs;
    for (const auto &route : router.routes())
        specs.append({route.pattern, Observe::Method(route.method)});
    return specs;
}

} // namespace

ServerMetrics::ServerMetrics(const Http::Router &router, Store::Store &store, const Clock &clock, QThreadPool *pool,
                             QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_clock(clock)
    , m_pool(pool)
    , m_metrics(std::make_unique<Observe::Metrics>(routeSpecs(router), clock.nowMs()))
    , m_series(std::make_unique<Observe::MetricsSeries>(*m_metrics))
{
    for (const auto &route : router.routes())
        m_routeOf.push_back(m_metrics->routeIndex(route.pattern));
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(kTickMs);
    connect(&m_timer, &QTimer::timeout, this, &ServerMetrics::tick);
}

ServerMetrics::~ServerMetrics() = default;

void ServerMetrics::setProbes(Observe::Metrics::Probes probes)
{
    m_metrics->setProbes(std::move(probes));
}

void ServerMetrics::setLogProbe(std::function<QList<Observe::LogCounts>()> logs)
{
    m_metrics->setLogProbe(std::move(logs));
}

void ServerMetrics::restore()
{
    const qint64 now = m_clock.nowMs();
    QList<Observe::MinuteRow> rows;
    const Status s = m_store.readLog([&](Store::Database &db) -> Status {
        auto loaded = Observe::loadMinuteRows(db, now);
        if (!loaded)
            return loaded.error();
        rows = std::move(loaded).value();
        return {};
    });
    if (!s)
        qCWarning(lcMetrics) << "cannot read the saved metrics, starting without history:" << s.error().message;
    m_series->restore(rows);
    m_savedMs = now;
}

void ServerMetrics::start()
{
    m_timer.start();
}

void ServerMetrics::tick()
{
    const qint64 now = m_clock.nowMs();
    m_series->tick(now);
    if (now - m_savedMs >= kSaveIntervalMs)
        save(false);
}

void ServerMetrics::stop()
{
    m_timer.stop();
    m_series->tick(m_clock.nowMs());
    save(true);
}

void ServerMetrics::save(bool final)
{
    const qint64 now = m_clock.nowMs();
    m_savedMs = now;
    QList<Observe::MinuteRow> rows = m_series->takeRows(final);
    if (rows.isEmpty())
        return;
    auto write = [&store = m_store, rows = std::move(rows), now] {
        const Status s = store.writeLog([&](Store::Database &db) { return Observe::saveMinuteRows(db, rows, now); });
        if (!s)
            qCWarning(lcMetrics) << "cannot save the metrics series:" << s.error().message;
    };
    if (final)
        write();
    else
        m_pool->start(std::move(write)); // writeLog blocks on fsync: never on the main thread's tick
}

void ServerMetrics::record(const Http::ResponseRecord &record)
{
    Observe::RequestSample sample;
    sample.route = record.route >= 0 && size_t(record.route) < m_routeOf.size() ? m_routeOf[size_t(record.route)]
                                                                                : m_metrics->unmatchedRoute();
    sample.method = Observe::Method(record.method);
    sample.status = record.status;
    sample.durationNs = record.durationNs;
    sample.bytesIn = record.bytesIn;
    sample.bytesOut = record.bytesOut;
    sample.storeNs = record.storeNs;
    sample.callerKind = Observe::CallerKind(record.callerKind);
    sample.callerId = record.callerId;
    m_metrics->record(sample);
}

void ServerMetrics::recordRejected(int status)
{
    m_metrics->recordRejected(status);
}

} // namespace Outpost
