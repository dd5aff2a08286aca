#include "healthcontroller.h"

#include "../store/sqlite.h"

namespace Outpost::Http {

HealthController::HealthController(const Clock &clock, qint64 startedMs)
    : m_clock(clock)
    , m_startedMs(startedMs)
{
}

void HealthController::registerRoutes(Router &router) const
{
    router.add(Method::Get, "/api/health", [this](const Request &request, const Responder &responder) {
        // A real read through this thread's connection: proves the file is there and readable.
        QString database = QStringLiteral("ok");
        Store::Statement *probe = request.reader ? request.reader->cached("SELECT max(version) FROM schema_version")
                                                 : nullptr;
        if (!probe) {
            database = QStringLiteral("unavailable");
        } else {
            auto row = probe->step();
            if (!row || !*row)
                database = row ? QStringLiteral("empty") : row.error().message;
            probe->reset();
        }
        const bool ok = database == u"ok";
        responder.send(Response::json(
            QJsonObject {{QStringLiteral("status"), ok ? QStringLiteral("ok") : QStringLiteral("degraded")},
                         {QStringLiteral("version"), QStringLiteral(OUTPOST_VERSION)},
                         {QStringLiteral("uptimeSeconds"), (m_clock.nowMs() - m_startedMs) / 1000},
                         {QStringLiteral("database"), database}},
            ok ? 200 : 503));
    });
}

} // namespace Outpost::Http
