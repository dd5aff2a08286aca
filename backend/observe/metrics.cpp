#include "metrics.h"

namespace Outpost::Observe {

namespace {

int statusClass(int status)
{
    return qBound(1, status / 100, 5);
}

} // namespace

QByteArray methodName(Method method)
{
    switch (method) {
    case Method::Get:
        return QByteArrayLiteral("GET");
    case Method::Head:
        return QByteArrayLiteral("HEAD");
    case Method::Post:
        return QByteArrayLiteral("POST");
    case Method::Put:
        return QByteArrayLiteral("PUT");
    case Method::Patch:
        return QByteArrayLiteral("PATCH");
    case Method::Delete:
        return QByteArrayLiteral("DELETE");
    case Method::Options:
        return QByteArrayLiteral("OPTIONS");
    case Method::Other:
        break;
    }
    return QByteArrayLiteral("other");
}

QByteArray callerKindName(CallerKind kind)
{
    switch (kind) {
    case CallerKind::Guest:
        break;
    case CallerKind::Superuser:
        return QByteArrayLiteral("superuser");
    case CallerKind::ApiKey:
        return QByteArrayLiteral("apikey");
    case CallerKind::User:
        return QByteArrayLiteral("user");
    }
    return QByteArrayLiteral("guest");
}

Metrics::Metrics(const QList<RouteSpec> &routes, qint64 startMs, Options options)
    : m_startMs(startMs)
    , m_apiKeys(std::make_unique<CallerTable>(options.apiKeyCapacity))
    , m_users(std::make_unique<CallerTable>(options.userCapacity))
{
    for (const RouteSpec &spec : routes) {
        if (!m_patternIndex.contains(spec.pattern)) {
            m_patternIndex.insert(spec.pattern, int(m_patterns.size()));
            m_patterns.append(spec.pattern);
        }
    }
    m_patternCount = int(m_patterns.size());
    const size_t cells = size_t(routeCount()) * kMethodCount;
    m_counters.reset(new std::atomic<quint64>[cells * 5]);
    for (size_t i = 0; i < cells * 5; ++i)
        m_counters[i].store(0, std::memory_order_relaxed);

    // One histogram per registered (pattern, method), HEAD beside each GET (the Router serves HEAD
    // with the GET route), and "(other)" last for everything else.
    m_histogramOf.assign(cells, -1);
    const auto add = [this](const QByteArray &pattern, Method method) {
        qint16 &slot = m_histogramOf[size_t(cell(m_patternIndex.value(pattern), method))];
        if (slot < 0) {
            slot = qint16(m_histogramLabels.size());
            m_histogramLabels.emplace_back(pattern, method);
        }
    };
    for (const RouteSpec &spec : routes) {
        add(spec.pattern, spec.method);
        if (spec.method == Method::Get)
            add(spec.pattern, Method::Head);
    }
    const auto other = qint16(m_histogramLabels.size());
    m_histogramLabels.emplace_back(QByteArrayLiteral("(other)"), Method::Other);
    for (qint16 &slot : m_histogramOf)
        if (slot < 0)
            slot = other;
    m_histogramCount = int(m_histogramLabels.size());
    Q_ASSERT(m_histogramCount < 32768);
    m_histograms.reset(new LatencyHistogram[size_t(m_histogramCount)]);
}

Metrics::~Metrics() = default;

Metrics::Stripe &Metrics::stripeOf(std::array<Stripe, kStripes> &stripes)
{
    // Threads take stripes in turn on first use; with our 2-4 network threads each gets its own.
    static std::atomic<unsigned> next {0};
    thread_local const unsigned mine = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
    return stripes[mine];
}

int Metrics::routeIndex(const QByteArray &pattern) const
{
    return m_patternIndex.value(pattern, unmatchedRoute());
}

QByteArray Metrics::routeName(int route) const
{
    if (route >= 0 && route < m_patternCount)
        return m_patterns[route];
    return route == rejectedRoute() ? QByteArrayLiteral("(rejected)") : QByteArrayLiteral("(unmatched)");
}

void Metrics::count(int route, Method method, int status)
{
    counter(route, method, statusClass(status)).fetch_add(1, std::memory_order_relaxed);
}

void Metrics::record(const RequestSample &sample)
{
    const int route = sample.route >= 0 && sample.route < m_patternCount ? sample.route : unmatchedRoute();
    const Method method = quint8(sample.method) < kMethodCount ? sample.method : Method::Other;
    count(route, method, sample.status);
    m_histograms[size_t(m_histogramOf[size_t(cell(route, method))])].record(
        quint64(qMax<qint64>(0, sample.durationNs)));
    if (sample.storeNs >= 0)
        m_store.record(quint64(sample.storeNs));
    Stripe &stripe = stripeOf(m_stripes);
    if (sample.bytesIn > 0)
        stripe.bytesIn.fetch_add(quint64(sample.bytesIn), std::memory_order_relaxed);
    if (sample.bytesOut > 0)
        stripe.bytesOut.fetch_add(quint64(sample.bytesOut), std::memory_order_relaxed);
    const int kind = qBound(0, int(sample.callerKind), kCallerKindCount - 1);
    stripe.byCaller[size_t(kind)].fetch_add(1, std::memory_order_relaxed);
    if (sample.callerKind == CallerKind::ApiKey)
        m_apiKeys->count(sample.callerId);
    else if (sample.callerKind == CallerKind::User || sample.callerKind == CallerKind::Superuser)
        m_users->count(sample.callerId);
}

void Metrics::recordRejected(int status)
{
    count(rejectedRoute(), Method::Other, status);
    stripeOf(m_stripes).byCaller[size_t(CallerKind::Guest)].fetch_add(1, std::memory_order_relaxed);
}

Metrics::Snapshot Metrics::snapshot() const
{
    Snapshot out;
    for (int route = 0; route < routeCount(); ++route) {
        for (int m = 0; m < kMethodCount; ++m) {
            Snapshot::RouteCounts counts {routeName(route), Method(m), {}};
            quint64 any = 0;
            for (int c = 1; c <= 5; ++c)
                any |= counts.byClass[size_t(c - 1)]
                    = m_counters[size_t(cell(route, Method(m)) * 5 + c - 1)].load(std::memory_order_relaxed);
            if (any)
                out.counts.append(std::move(counts));
        }
    }
    for (int h = 0; h < m_histogramCount; ++h) {
        HistogramSnapshot latency = m_histograms[size_t(h)].snapshot();
        if (!latency.isEmpty())
            out.latencies.append({m_histogramLabels[size_t(h)].first, methodName(m_histogramLabels[size_t(h)].second),
                                  std::move(latency)});
    }
    out.store = m_store.snapshot();
    for (const Stripe &stripe : m_stripes) {
        out.bytesIn += stripe.bytesIn.load(std::memory_order_relaxed);
        out.bytesOut += stripe.bytesOut.load(std::memory_order_relaxed);
        for (size_t k = 0; k < out.byCaller.size(); ++k)
            out.byCaller[k] += stripe.byCaller[k].load(std::memory_order_relaxed);
    }
    out.apiKeys = m_apiKeys->entries();
    out.users = m_users->entries();
    if (m_probes.inflight)
        out.inflight = m_probes.inflight();
    if (m_probes.connections)
        out.connections = m_probes.connections();
    if (m_probes.rateLimited)
        out.rateLimited = m_probes.rateLimited();
    if (m_logProbe)
        out.logs = m_logProbe();
    return out;
}

Metrics::Totals Metrics::totals() const
{
    Totals out;
    for (int h = 0; h < m_histogramCount; ++h)
        m_histograms[size_t(h)].addTo(out.latency);
    const size_t cells = size_t(routeCount()) * kMethodCount;
    out.cellRequests.assign(cells, 0);
    out.cellClientErrors.assign(cells, 0);
    out.cellServerErrors.assign(cells, 0);
    for (size_t i = 0; i < cells; ++i) {
        std::array<quint64, 5> byClass;
        for (size_t c = 0; c < 5; ++c) {
            byClass[c] = m_counters[i * 5 + c].load(std::memory_order_relaxed);
            out.byClass[c] += byClass[c];
            out.cellRequests[i] += byClass[c];
        }
        out.cellClientErrors[i] = byClass[3];
        out.cellServerErrors[i] = byClass[4];
    }
    for (const Stripe &stripe : m_stripes) {
        out.bytesIn += stripe.bytesIn.load(std::memory_order_relaxed);
        out.bytesOut += stripe.bytesOut.load(std::memory_order_relaxed);
    }
    out.apiKeyRequests.resize(size_t(m_apiKeys->capacity()) + 1);
    for (int slot = 0; slot <= m_apiKeys->capacity(); ++slot)
        out.apiKeyRequests[size_t(slot)] = m_apiKeys->countAt(slot);
    return out;
}

} // namespace Outpost::Observe
