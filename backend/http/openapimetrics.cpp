#include "openapiparts.h"

// The metrics API (metricscontroller.h): the Prometheus exposition and the JSON summary.
namespace Outpost::Http::OpenApi {

using namespace Qt::StringLiterals;

void addMetricsSchemas(QJsonObject &schemas)
{
    const QJsonObject latency {{u"p50"_s, typed(u"number"_s)},
                               {u"p95"_s, typed(u"number"_s)},
                               {u"p99"_s, typed(u"number"_s)},
                               {u"p999"_s, typed(u"number"_s)}};
    const QJsonObject route {{u"route"_s, typed(u"string"_s, u"The route's path template."_s)},
                             {u"method"_s, typed(u"string"_s)},
                             {u"requests"_s, typed(u"integer"_s)},
                             {u"clientErrors"_s, typed(u"integer"_s)},
                             {u"serverErrors"_s, typed(u"integer"_s)}};
    const QJsonObject key {{u"key"_s, typed(u"string"_s, u"The API key's id."_s)},
                           {u"requests"_s, typed(u"integer"_s)}};
    const QJsonObject summary {
        {u"window"_s, enumOf({u"5m"_s, u"1h"_s, u"24h"_s, u"7d"_s})},
        {u"from"_s, typed(u"string"_s, u"The window's start (ISO 8601, UTC)."_s)},
        {u"to"_s, typed(u"string"_s, u"The window's end: the last second the server booked."_s)},
        {u"seconds"_s, typed(u"number"_s, u"The time the window covers with data (at most its length)."_s)},
        {u"requests"_s, typed(u"integer"_s)},
        {u"requestsPerSecond"_s, typed(u"number"_s)},
        {u"clientErrors"_s, typed(u"integer"_s, u"Answers with a 4xx status."_s)},
        {u"serverErrors"_s, typed(u"integer"_s, u"Answers with a 5xx status."_s)},
        {u"errorRate"_s, typed(u"number"_s, u"serverErrors / requests (0 without requests)."_s)},
        {u"clientErrorRate"_s, typed(u"number"_s, u"clientErrors / requests (0 without requests)."_s)},
        {u"latencyMs"_s, objectSchema(latency, latency.keys(), u"Latency quantiles in milliseconds."_s)},
        {u"bytesIn"_s, typed(u"integer"_s)},
        {u"bytesOut"_s, typed(u"integer"_s)},
        {u"topRoutes"_s, arrayOf(objectSchema(route, route.keys()), u"The busiest routes, at most 10."_s)},
        {u"topApiKeys"_s, arrayOf(objectSchema(key, key.keys()), u"The busiest API keys, at most 10."_s)}};
    schemas.insert(u"MetricsSummary"_s,
                   objectSchema(summary, summary.keys(), u"What the server answered in a window of time."_s));
}

void addMetricsPaths(QJsonObject &paths)
{
    const QJsonObject exposition {
        {u"description"_s,
         u"Prometheus text exposition format 0.0.4: `outpost_http_requests_total` by route, method and status "
         "class, latency histograms (`_bucket`, `_sum`, `_count`) by route and method, bytes in and out, "
         "requests by caller kind and by API key, requests in flight, and process figures (resident memory, "
         "CPU time, open file descriptors, start time)."_s},
        {u"content"_s, content(u"text/plain; version=0.0.4"_s, typed(u"string"_s))}};
    const QJsonObject window
        = parameter(u"window"_s, u"query"_s, with(enumOf({u"5m"_s, u"1h"_s, u"24h"_s, u"7d"_s}), u"default"_s, u"5m"_s),
                    u"The window up to now: 5 minutes, 1 hour, 24 hours or 7 days."_s);
    const QList<Operation> operations {
        {.method = u"get"_s,
         .path = u"/metrics"_s,
         .id = u"scrapeMetrics"_s,
         .summary = u"Prometheus metrics"_s,
         .description = u"The request metrics of this server since it started, for a Prometheus scrape."_s,
         .responses = {{u"200"_s, exposition}}},
        {.method = u"get"_s,
         .path = u"/api/metrics/summary"_s,
         .id = u"getMetricsSummary"_s,
         .summary = u"Summarise the request metrics"_s,
         .description = u"Requests, errors, latency quantiles, bytes and the busiest routes and API keys over a "
                        "window of time, from the series the server keeps in memory (per second for the last "
                        "hour, per minute for the last 7 days)."_s,
         .parameters = QJsonArray {window},
         .responses = {{u"200"_s, jsonResponse(u"The summary."_s, schemaRef(u"MetricsSummary"_s))},
                       {u"400"_s, problemResponse(u"`window` is not one of 5m, 1h, 24h or 7d."_s)}}},
    };
    addOperations(paths, operations, u"metrics"_s, Auth::Permission::MetricsRead);
}

} // namespace Outpost::Http::OpenApi
