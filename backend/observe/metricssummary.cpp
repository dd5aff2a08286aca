#include "metricssummary.h"

#include <QDateTime>
#include <QJsonArray>

namespace Outpost::Observe {

namespace {

QString isoTime(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

double ratio(quint64 part, quint64 whole)
{
    return whole == 0 ? 0.0 : double(part) / double(whole);
}

} // namespace

QJsonObject metricsSummary(const WindowTotals &totals, Window window, const Metrics &metrics, int top)
{
    const SeriesPoint &s = totals.sums;
    QJsonObject out;
    out.insert(QStringLiteral("window"), QString::fromLatin1(windowName(window)));
    out.insert(QStringLiteral("from"), isoTime(totals.startMs));
    out.insert(QStringLiteral("to"), isoTime(totals.endMs));
    out.insert(QStringLiteral("seconds"), totals.seconds);
    out.insert(QStringLiteral("requests"), qint64(s.requests));
    out.insert(QStringLiteral("requestsPerSecond"), totals.seconds > 0 ? double(s.requests) / totals.seconds : 0.0);
    out.insert(QStringLiteral("clientErrors"), qint64(s.clientErrors));
    out.insert(QStringLiteral("serverErrors"), qint64(s.serverErrors));
    out.insert(QStringLiteral("errorRate"), ratio(s.serverErrors, s.requests));
    out.insert(QStringLiteral("clientErrorRate"), ratio(s.clientErrors, s.requests));
    out.insert(QStringLiteral("latencyMs"),
               QJsonObject {{QStringLiteral("p50"), totals.latency.quantileNs(0.5) / 1e6},
                            {QStringLiteral("p95"), totals.latency.quantileNs(0.95) / 1e6},
                            {QStringLiteral("p99"), totals.latency.quantileNs(0.99) / 1e6},
                            {QStringLiteral("p999"), totals.latency.quantileNs(0.999) / 1e6}});
    out.insert(QStringLiteral("bytesIn"), qint64(s.bytesIn));
    out.insert(QStringLiteral("bytesOut"), qint64(s.bytesOut));

    QJsonArray routes;
    for (const WindowTotals::Cell &c : totals.routes.first(qMin<qsizetype>(top, totals.routes.size()))) {
        routes.append(QJsonObject {
            {QStringLiteral("route"), QString::fromUtf8(metrics.routeName(c.cell / kMethodCount))},
            {QStringLiteral("method"), QString::fromLatin1(methodName(Method(c.cell % kMethodCount)))},
            {QStringLiteral("requests"), qint64(c.requests)},
            {QStringLiteral("clientErrors"), qint64(c.clientErrors)},
            {QStringLiteral("serverErrors"), qint64(c.serverErrors)},
        });
    }
    out.insert(QStringLiteral("topRoutes"), routes);
    QJsonArray keys;
    for (const auto &[slot, n] : totals.apiKeys.first(qMin<qsizetype>(top, totals.apiKeys.size())))
        keys.append(QJsonObject {{QStringLiteral("key"), QString::fromLatin1(metrics.apiKeys().idAt(slot))},
                                 {QStringLiteral("requests"), qint64(n)}});
    out.insert(QStringLiteral("topApiKeys"), keys);
    return out;
}

} // namespace Outpost::Observe
