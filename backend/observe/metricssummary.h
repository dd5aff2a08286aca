#pragma once

#include <QJsonObject>

#include "metrics.h"
#include "metricsseries.h"

namespace Outpost::Observe {

// The body of `GET /api/metrics/summary?window=5m|1h|24h|7d` for `totals` (MetricsSeries::summarize):
//   {"window":"5m","from":ISO,"to":ISO,"seconds":297,"requests":N,"requestsPerSecond":x,
//    "clientErrors":N,"serverErrors":N,"errorRate":5xx/requests,"clientErrorRate":4xx/requests,
//    "latencyMs":{"p50":x,"p95":x,"p99":x,"p999":x},"bytesIn":N,"bytesOut":N,
//    "topRoutes":[{"route","method","requests","clientErrors","serverErrors"}…],
//    "topApiKeys":[{"key","requests"}…]}
// Rates are 0 for a window without requests; at most `top` entries per table. `metrics` names the
// routes and keys. Thread-safe (reads `metrics` through its thread-safe readers).
QJsonObject metricsSummary(const WindowTotals &totals, Window window, const Metrics &metrics, int top = 10);

} // namespace Outpost::Observe
