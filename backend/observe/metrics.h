#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QStringView>
#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "callertable.h"
#include "histogram.h"

namespace Outpost::Observe {

// The same order as Http::Method, plus Other for requests refused before their method was known.
enum class Method : quint8 { Get, Head, Post, Put, Patch, Delete, Options, Other };
inline constexpr int kMethodCount = 8;
QByteArray methodName(Method method); // "GET" … "OPTIONS", "other"

// The same order as Http::Caller::Kind.
enum class CallerKind : quint8 { Guest, Superuser, ApiKey, User };
inline constexpr int kCallerKindCount = 4;
QByteArray callerKindName(CallerKind kind); // "guest", "superuser", "apikey", "user"

// What one of logs.db's queued writers (the audit log, the request log) has done since it started.
struct LogCounts
{
    QByteArray log; // "audit", "request"
    quint64 written = 0;
    quint64 dropped = 0; // the queue was full, or a write failed
};

// One answered request, as the HTTP layer reports it.
struct RequestSample
{
    int route = -1; // Metrics::routeIndex(pattern); out of range: "(unmatched)"
    Method method = Method::Get;
    int status = 200;
    qint64 durationNs = 0; // from dispatch to the response written
    qint64 bytesIn = 0; // request head and body as received
    qint64 bytesOut = 0; // response as written
    qint64 storeNs = -1; // time spent waiting for and in the store; < 0: it was not used
    CallerKind callerKind = CallerKind::Guest;
    QStringView callerId; // the key's or user's id; must stay valid during record() only
};

// The request metrics of one server, recorded by every network thread without locks and without
// allocating: record() is a handful of relaxed atomic increments (counters by route, method and
// status class; a latency histogram per route and method; bytes; callers) and one open-addressing
// lookup for a key or user id. Readers (snapshot(), totals()) run at scrape or tick time and sum
// what they need; the values they see are each exact but not one instant.
//
// The route set is fixed at construction (the Router's patterns, so recording is an index lookup).
// Each registered (pattern, method) gets a histogram, and a GET route one for HEAD as well; other
// methods on a known pattern (405s, OPTIONS) and unmatched paths share the "(other)" histogram.
// Counters exist for every pattern × method × status class, plus the pseudo-routes "(unmatched)"
// and "(rejected)" (refused by the connection guard before routing).
//
// Memory: 5.2 KB per histogram (0.4 MB for 74 routes × methods), 64 bytes per caller slot (66 KB
// for 1024 keys, 262 KB for 4096 users). Costs (metrics_bench): record() ~31 ns on one thread.
//
// Thread-safety: construct and setProbes() before the network threads start; record() and
// recordRejected() from any thread; the const readers from any thread, concurrently with both.
class Metrics
{
public:
    struct RouteSpec
    {
        QByteArray pattern;
        Method method;
    };
    struct Options
    {
        int apiKeyCapacity = 1024;
        int userCapacity = 4096; // app users and superusers
    };

    explicit Metrics(const QList<RouteSpec> &routes, qint64 startMs, Options options);
    explicit Metrics(const QList<RouteSpec> &routes, qint64 startMs = 0)
        : Metrics(routes, startMs, Options {})
    {
    }
    ~Metrics();
    Q_DISABLE_COPY_MOVE(Metrics)

    // The index for record(): of `pattern` (as Router::Match::pattern has it), else unmatchedRoute().
    // A hash lookup without allocation; do it once per request.
    int routeIndex(const QByteArray &pattern) const;
    int unmatchedRoute() const { return m_patternCount; }
    int rejectedRoute() const { return m_patternCount + 1; }
    int routeCount() const { return m_patternCount + 2; } // patterns and both pseudo-routes
    QByteArray routeName(int route) const; // the pattern, "(unmatched)" or "(rejected)"
    qint64 startMs() const { return m_startMs; }

    void record(const RequestSample &sample);
    // A request the connection guard refused with `status` before routing: counted, not timed.
    void recordRejected(int status);

    // Gauges read at snapshot time, from the thread that snapshots: they must be thread-safe.
    struct Probes
    {
        std::function<qint64()> inflight = {}; // requests dispatched and not yet answered
        std::function<qint64()> connections = {}; // open client connections
        // Requests refused by a rate limit, by route group ("auth", "read", ...).
        std::function<QList<QPair<QByteArray, quint64>>()> rateLimited = {};
    };
    void setProbes(Probes probes) { m_probes = std::move(probes); }
    // The counters of logs.db's writers, read at snapshot time like the probes.
    void setLogProbe(std::function<QList<LogCounts>()> logs) { m_logProbe = std::move(logs); }

    // Everything, for the Prometheus exposition. Routes and callers that counted nothing are left out.
    struct Snapshot
    {
        struct RouteCounts
        {
            QByteArray route;
            Method method;
            std::array<quint64, 5> byClass; // 1xx … 5xx
        };
        struct RouteLatency
        {
            QByteArray route;
            QByteArray method;
            HistogramSnapshot latency;
        };
        QList<RouteCounts> counts;
        QList<RouteLatency> latencies;
        HistogramSnapshot store;
        quint64 bytesIn = 0;
        quint64 bytesOut = 0;
        std::array<quint64, kCallerKindCount> byCaller {};
        QList<CallerTable::Entry> apiKeys;
        QList<CallerTable::Entry> users;
        qint64 inflight = -1; // -1: no probe
        qint64 connections = -1;
        QList<QPair<QByteArray, quint64>> rateLimited; // empty: no probe
        QList<LogCounts> logs; // empty: no probe
    };
    Snapshot snapshot() const;

    // The cumulative figures MetricsSeries diffs each tick: cheaper than snapshot() (no names, no
    // per-route histograms). Cells are indexed by cell(route, method); key counts by CallerTable slot.
    struct Totals
    {
        HistogramSnapshot latency; // every route merged
        std::array<quint64, 5> byClass {};
        quint64 bytesIn = 0;
        quint64 bytesOut = 0;
        std::vector<quint64> cellRequests, cellClientErrors, cellServerErrors;
        std::vector<quint64> apiKeyRequests;
    };
    Totals totals() const;
    static int cell(int route, Method method) { return route * kMethodCount + int(method); }
    const CallerTable &apiKeys() const { return *m_apiKeys; }

private:
    std::atomic<quint64> &counter(int route, Method method, int statusClass)
    {
        return m_counters[size_t((cell(route, method)) * 5 + statusClass - 1)];
    }
    void count(int route, Method method, int status);

    int m_patternCount = 0;
    qint64 m_startMs;
    QList<QByteArray> m_patterns;
    QHash<QByteArray, int> m_patternIndex;
    std::unique_ptr<std::atomic<quint64>[]> m_counters; // routeCount() × kMethodCount × 5
    std::vector<qint16> m_histogramOf; // per cell: index into m_histograms
    std::vector<std::pair<QByteArray, Method>> m_histogramLabels;
    std::unique_ptr<LatencyHistogram[]> m_histograms; // the last one is "(other)"
    int m_histogramCount = 0;
    LatencyHistogram m_store;
    // The counters every request touches, striped by thread so that two network threads do not
    // fight over one cache line (tests/bench/metrics_bench.cpp measures the difference).
    struct alignas(64) Stripe
    {
        std::atomic<quint64> bytesIn {0};
        std::atomic<quint64> bytesOut {0};
        std::array<std::atomic<quint64>, kCallerKindCount> byCaller {};
    };
    static constexpr int kStripes = 4;
    static Stripe &stripeOf(std::array<Stripe, kStripes> &stripes);
    std::array<Stripe, kStripes> m_stripes;
    std::unique_ptr<CallerTable> m_apiKeys;
    std::unique_ptr<CallerTable> m_users;
    Probes m_probes;
    std::function<QList<LogCounts>()> m_logProbe;
};

} // namespace Outpost::Observe
