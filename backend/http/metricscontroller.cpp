#include "metricscontroller.h"

#include "../core/clock.h"
#include "../observe/metrics.h"
#include "../observe/metricsseries.h"
#include "../observe/metricssummary.h"
#include "../observe/processstats.h"
#include "../observe/prometheus.h"

namespace Outpost::Http {

MetricsController::MetricsController(const Clock &clock, bool openOnLoopback)
    : m_clock(clock)
    , m_openOnLoopback(openOnLoopback)
{
}

void MetricsController::registerRoutes(Router &router) const
{
    router.add(Method::Get, "/metrics", Policy::needs(Auth::Permission::MetricsRead).orLoopback(m_openOnLoopback),
               [this](const Request &, const Responder &r) { scrape(r); });
    router.add(Method::Get, "/api/metrics/summary", Policy::needs(Auth::Permission::MetricsRead),
               [this](const Request &q, const Responder &r) { summary(q, r); });
}

void MetricsController::attach(const Observe::Metrics &metrics, const Observe::MetricsSeries &series)
{
    m_metrics = &metrics;
    m_series = &series;
}

void MetricsController::scrape(const Responder &responder) const
{
    Q_ASSERT(m_metrics);
    Response response;
    response.contentType = Observe::prometheusContentType();
    response.body = Observe::renderPrometheus(m_metrics->snapshot(), Observe::ProcessStats::read(m_clock.nowMs()));
    // Scrapes must see current figures, never a cached copy (RFC 9111 §5.2.2.5).
    response.withHeader("Cache-Control", "no-store");
    responder.send(std::move(response));
}

void MetricsController::summary(const Request &request, const Responder &responder) const
{
    Q_ASSERT(m_metrics && m_series);
    const QString text = request.query.hasQueryItem(QStringLiteral("window"))
        ? request.query.queryItemValue(QStringLiteral("window"))
        : QStringLiteral("5m");
    const auto window = Observe::parseWindow(text);
    if (!window)
        return responder.send(
            Response::problem(400, QStringLiteral("Invalid window \"%1\": use 5m, 1h, 24h or 7d.").arg(text.left(16))));
    Response response = Response::json(Observe::metricsSummary(m_series->summarize(*window), *window, *m_metrics));
    response.withHeader("Cache-Control", "no-store");
    responder.send(std::move(response));
}

} // namespace Outpost::Http
