#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>

#include "metrics.h"
#include "metricsseries.h"

namespace Outpost::Observe {

// What a window of the series adds up to, with routes and keys named: the one computation behind
// both `GET /api/metrics/summary` and the console's Dashboard, so that they never disagree.
struct MetricsSummary
{
    struct Route
    {
        QString route; // the pattern, "(unmatched)" or "(rejected)"
        QString method; // "GET" … "OPTIONS", "other"
        quint64 requests = 0;
        quint64 clientErrors = 0;
        quint64 serverErrors = 0;
    };
    struct ApiKey
    {
        QString key; // the key's id, "_other" for keys past the table's capacity
        quint64 requests = 0;
    };

    Window window = Window::FiveMinutes;
    qint64 fromMs = 0;
    qint64 toMs = 0;
    double seconds = 0; // the time the window covers with data
    quint64 requests = 0;
    double requestsPerSecond = 0; // 0 for a window without data
    quint64 clientErrors = 0;
    quint64 serverErrors = 0;
    double errorRate = 0; // 5xx / requests; 0 without requests
    double clientErrorRate = 0; // 4xx / requests
    double p50Ms = 0, p95Ms = 0, p99Ms = 0, p999Ms = 0;
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;
    QList<Route> topRoutes; // most requests first
    QList<ApiKey> topApiKeys; // most requests first
};

// Names and rates for `totals` (MetricsSeries::summarize), at most `top` entries per table.
// `metrics` names the routes and keys. Thread-safe (reads `metrics` through its thread-safe readers).
MetricsSummary summarizeMetrics(const WindowTotals &totals, Window window, const Metrics &metrics, int top = 10);

// The body of `GET /api/metrics/summary?window=5m|1h|24h|7d`:
//   {"window":"5m","from":ISO,"to":ISO,"seconds":297,"requests":N,"requestsPerSecond":x,
//    "clientErrors":N,"serverErrors":N,"errorRate":5xx/requests,"clientErrorRate":4xx/requests,
//    "latencyMs":{"p50":x,"p95":x,"p99":x,"p999":x},"bytesIn":N,"bytesOut":N,
//    "topRoutes":[{"route","method","requests","clientErrors","serverErrors"}…],
//    "topApiKeys":[{"key","requests"}…]}
QJsonObject toJson(const MetricsSummary &summary);

// summarizeMetrics() as JSON, for the HTTP API.
QJsonObject metricsSummary(const WindowTotals &totals, Window window, const Metrics &metrics, int top = 10);

} // namespace Outpost::Observe
