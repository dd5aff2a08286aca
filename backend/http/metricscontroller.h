#pragma once

#include "router.h"

namespace Outpost {
class Clock;
}
namespace Outpost::Observe {
class Metrics;
class MetricsSeries;
} // namespace Outpost::Observe

namespace Outpost::Http {

// The request metrics, read-only (permission metrics:read: superusers, or keys with that scope):
//   GET /metrics               Prometheus text exposition 0.0.4 (Observe::renderPrometheus): request
//                              counts by route, method and status class, latency histograms, bytes,
//                              callers, in-flight requests and process figures
//   GET /api/metrics/summary   ?window=5m|1h|24h|7d (default 5m): Observe::metricsSummary as JSON;
//                              400 for another window
// Both answer on the network thread: a scrape takes ~1 ms, a summary ~25 µs.
//
// The routes are registered before the Metrics they read exist (Metrics is built from the finished
// route table): call attach() before the server starts. Both must outlive the server.
class MetricsController
{
public:
    // `openOnLoopback`: GET /metrics needs no credentials from a loopback peer.
    MetricsController(const Clock &clock, bool openOnLoopback);
    void registerRoutes(Router &router) const;
    void attach(const Observe::Metrics &metrics, const Observe::MetricsSeries &series);

private:
    void scrape(const Responder &responder) const;
    void summary(const Request &request, const Responder &responder) const;

    const Clock &m_clock;
    const bool m_openOnLoopback;
    const Observe::Metrics *m_metrics = nullptr;
    const Observe::MetricsSeries *m_series = nullptr;
};

} // namespace Outpost::Http
