#include "healthcontroller.h"

#include <QElapsedTimer>
#include <QLoggingCategory>

#include "../store/sqlite.h"

Q_LOGGING_CATEGORY(lcHealth, "outpost.http.health")

namespace Outpost::Http {

namespace {

// How old the database check in a health answer may be. Load balancers poll health every few
// seconds; a read per request would be most of a health request's cost (docs/BENCHMARKS.md).
constexpr qint64 kProbeIntervalMs = 1000;

// Per network thread (each has its own reader), so no locking.
struct HealthCache
{
    QElapsedTimer probedAt;
    QString database;
    qint64 uptimeSeconds = -1;
    QByteArray body;
};

QString probe(Store::Database *reader)
{
    // A real read through this thread's connection: proves the file is there and readable.
    Store::Statement *statement = reader ? reader->cached("SELECT max(version) FROM schema_version") : nullptr;
    if (!statement)
        return QStringLiteral("unavailable");
    auto row = statement->step();
    statement->reset();
    if (!row) {
        qCWarning(lcHealth) << "database check failed:" << row.error().message;
        return QStringLiteral("error"); // the details are for the log, not for anonymous callers
    }
    return *row ? QStringLiteral("ok") : QStringLiteral("empty");
}

} // namespace

HealthController::HealthController(const Clock &clock, qint64 startedMs)
    : m_clock(clock)
    , m_startedMs(startedMs)
{
}

void HealthController::registerRoutes(Router &router) const
{
    router.add(Method::Get, "/api/health", Policy::open(), [this](const Request &request, const Responder &responder) {
        thread_local HealthCache cache;
        if (!cache.probedAt.isValid() || cache.probedAt.elapsed() >= kProbeIntervalMs) {
            const QString database = probe(request.reader);
            cache.probedAt.start();
            if (database != cache.database)
                cache.body.clear();
            cache.database = database;
        }
        // The body only changes when the uptime's second or the database state does: serialise it
        // then, not per request (building the QJsonObject was ~35% of a health request).
        const qint64 uptimeSeconds = (m_clock.nowMs() - m_startedMs) / 1000;
        const bool ok = cache.database == u"ok";
        if (uptimeSeconds != cache.uptimeSeconds || cache.body.isEmpty()) {
            const QJsonObject body {{QStringLiteral("status"), ok ? QStringLiteral("ok") : QStringLiteral("degraded")},
                                    {QStringLiteral("version"), QStringLiteral(OUTPOST_VERSION)},
                                    {QStringLiteral("uptimeSeconds"), uptimeSeconds},
                                    {QStringLiteral("database"), cache.database}};
            cache.body = Response::json(body).body;
            cache.uptimeSeconds = uptimeSeconds;
        }
        responder.send(Response {ok ? 200 : 503, "application/json", cache.body, {}});
    });
}

} // namespace Outpost::Http
