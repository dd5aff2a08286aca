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

MetricsSummary summarizeMetrics(const WindowTotals &totals, Window window, const Metrics &metrics, int top)
{
    const SeriesPoint &s = totals.sums;
    MetricsSummary out;
    out.window = window;
    out.fromMs = totals.startMs;
    out.toMs = totals.endMs;
    out.seconds = totals.seconds;
    out.requests = s.requests;
    out.requestsPerSecond = totals.seconds > 0 ? double(s.requests) / totals.seconds : 0.0;
    out.clientErrors = s.clientErrors;
    out.serverErrors = s.serverErrors;
    out.errorRate = ratio(s.serverErrors, s.requests);
    out.clientErrorRate = ratio(s.clientErrors, s.requests);
    out.p50Ms = totals.latency.quantileNs(0.5) / 1e6;
    out.p95Ms = totals.latency.quantileNs(0.95) / 1e6;
    out.p99Ms = totals.latency.quantileNs(0.99) / 1e6;
    out.p999Ms = totals.latency.quantileNs(0.999) / 1e6;
    out.bytesIn = s.bytesIn;
    out.bytesOut = s.bytesOut;
    for (const WindowTotals::Cell &c : totals.routes.first(qMin<qsizetype>(top, totals.routes.size())))
        out.topRoutes.append({QString::fromUtf8(metrics.routeName(c.cell / kMethodCount)),
                              QString::fromLatin1(methodName(Method(c.cell % kMethodCount))), c.requests,
                              c.clientErrors, c.serverErrors});
    for (const auto &[slot, n] : totals.apiKeys.first(qMin<qsizetype>(top, totals.apiKeys.size())))
        out.topApiKeys.append({QString::fromLatin1(metrics.apiKeys().idAt(slot)), n});
    return out;
}

QJsonObject toJson(const MetricsSummary &summary)
{
    QJsonObject out;
    out.insert(QStringLiteral("window"), QString::fromLatin1(windowName(summary.window)));
    out.insert(QStringLiteral("from"), isoTime(summary.fromMs));
    out.insert(QStringLiteral("to"), isoTime(summary.toMs));
    out.insert(QStringLiteral("seconds"), summary.seconds);
    out.insert(QStringLiteral("requests"), qint64(summary.requests));
    out.insert(QStringLiteral("requestsPerSecond"), summary.requestsPerSecond);
    out.insert(QStringLiteral("clientErrors"), qint64(summary.clientErrors));
    out.insert(QStringLiteral("serverErrors"), qint64(summary.serverErrors));
    out.insert(QStringLiteral("errorRate"), summary.errorRate);
    out.insert(QStringLiteral("clientErrorRate"), summary.clientErrorRate);
    out.insert(QStringLiteral("latencyMs"),
               QJsonObject {{QStringLiteral("p50"), summary.p50Ms},
                            {QStringLiteral("p95"), summary.p95Ms},
                            {QStringLiteral("p99"), summary.p99Ms},
                            {QStringLiteral("p999"), summary.p999Ms}});
    out.insert(QStringLiteral("bytesIn"), qint64(summary.bytesIn));
    out.insert(QStringLiteral("bytesOut"), qint64(summary.bytesOut));

    QJsonArray routes;
    for (const MetricsSummary::Route &r : summary.topRoutes)
        routes.append(QJsonObject {
            {QStringLiteral("route"), r.route},
            {QStringLiteral("method"), r.method},
            {QStringLiteral("requests"), qint64(r.requests)},
            {QStringLiteral("clientErrors"), qint64(r.clientErrors)},
            {QStringLiteral("serverErrors"), qint64(r.serverErrors)},
        });
    out.insert(QStringLiteral("topRoutes"), routes);
    QJsonArray keys;
    for (const MetricsSummary::ApiKey &k : summary.topApiKeys)
        keys.append(QJsonObject {{QStringLiteral("key"), k.key}, {QStringLiteral("requests"), qint64(k.requests)}});
    out.insert(QStringLiteral("topApiKeys"), keys);
    return out;
}

QJsonObject metricsSummary(const WindowTotals &totals, Window window, const Metrics &metrics, int top)
{
    return toJson(summarizeMetrics(totals, window, metrics, top));
}

} // namespace Outpost::Observe
