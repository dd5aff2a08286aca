#include "metricsseries.h"

#include <algorithm>

namespace Outpost::Observe {

namespace {

constexpr qint64 kSecondMs = 1000;
constexpr qint64 kMinuteMs = 60 * kSecondMs;
constexpr qint64 kHourMs = 60 * kMinuteMs;
constexpr int kMinuteHistograms = 60; // whole-minute histograms for windows up to an hour

qint64 floorTo(qint64 ms, qint64 unit)
{
    return ms / unit * unit; // times are positive
}

size_t ring(qint64 startMs, qint64 unit, size_t size)
{
    return size_t((startMs / unit) % qint64(size));
}

quint64 minus(quint64 a, quint64 b)
{
    return a > b ? a - b : 0;
}

void addCounts(SeriesPoint &into, const SeriesPoint &p)
{
    into.requests += p.requests;
    into.clientErrors += p.clientErrors;
    into.serverErrors += p.serverErrors;
    into.bytesIn += p.bytesIn;
    into.bytesOut += p.bytesOut;
}

void setQuantiles(SeriesPoint &p, const HistogramSnapshot &latency)
{
    p.p50Ms = latency.quantileNs(0.50) / 1e6;
    p.p95Ms = latency.quantileNs(0.95) / 1e6;
    p.p99Ms = latency.quantileNs(0.99) / 1e6;
}

int windowMinutes(Window window)
{
    switch (window) {
    case Window::FiveMinutes:
        return 5;
    case Window::Hour:
        return 60;
    case Window::Day:
        return 24 * 60;
    case Window::Week:
        break;
    }
    return MetricsSeries::kMinutes;
}

} // namespace

std::optional<Window> parseWindow(QStringView text)
{
    for (Window w : {Window::FiveMinutes, Window::Hour, Window::Day, Window::Week})
        if (text == QLatin1StringView(windowName(w)))
            return w;
    return std::nullopt;
}

QByteArray windowName(Window window)
{
    static const char *const names[] = {"5m", "1h", "24h", "7d"};
    return QByteArray(names[int(window)]);
}

void MetricsSeries::StoredHistogram::assign(qint64 start, const HistogramSnapshot &h)
{
    startMs = start;
    counts.clear();
    if (h.isEmpty())
        return;
    counts.resize(h.counts.size());
    for (size_t i = 0; i < counts.size(); ++i)
        counts[i] = quint32(qMin<quint64>(h.counts[i], 0xffffffffu));
}

void MetricsSeries::StoredHistogram::addTo(HistogramSnapshot &h) const
{
    for (size_t i = 0; i < counts.size(); ++i)
        h.counts[i] += counts[i];
}

MetricsSeries::MetricsSeries(const Metrics &metrics)
    : m_metrics(metrics)
    , m_seconds(kSeconds)
    , m_minutes(kMinutes)
    , m_minuteLatency(kMinuteHistograms)
    , m_hourLatency(kHours)
    , m_minuteTop(kMinuteHistograms)
    , m_hourTop(kHours)
{
    for (SeriesPoint &p : m_seconds)
        p.startMs = -1;
    for (SeriesPoint &p : m_minutes)
        p.startMs = -1;
    m_minute.startMs = -1;
    const size_t cells = size_t(metrics.routeCount()) * kMethodCount;
    const size_t keys = size_t(metrics.apiKeys().capacity()) + 1;
    m_previous.cellRequests.assign(cells, 0);
    m_previous.cellClientErrors.assign(cells, 0);
    m_previous.cellServerErrors.assign(cells, 0);
    m_previous.apiKeyRequests.assign(keys, 0);
    m_minuteBase = {m_previous.cellRequests, m_previous.cellClientErrors, m_previous.cellServerErrors,
                    m_previous.apiKeyRequests};
    m_hourBase = m_minuteBase;
}

MetricsSeries::~MetricsSeries() = default;

void MetricsSeries::tick(qint64 nowMs)
{
    Metrics::Totals now = m_metrics.totals(); // outside the lock: readers need not wait for it
    std::lock_guard lock(m_mutex);
    const qint64 second = qMax(nowMs / kSecondMs - 1, m_lastSecond);
    const qint64 minuteMs = floorTo(second * kSecondMs, kMinuteMs);
    if (m_minute.startMs >= 0 && minuteMs != m_minute.startMs) {
        // m_previous holds the totals at the boundary: close the minute (and hour) they end.
        closeMinute();
        if (floorTo(minuteMs, kHourMs) != m_hourStartMs)
            closeHour();
    }
    if (minuteMs != m_minute.startMs) {
        m_minute = SeriesPoint {};
        m_minute.startMs = minuteMs;
        m_minuteHistogram = HistogramSnapshot();
    }
    if (floorTo(minuteMs, kHourMs) != m_hourStartMs) {
        m_hourStartMs = floorTo(minuteMs, kHourMs);
        m_hourHistogram = HistogramSnapshot();
    }

    SeriesPoint delta;
    delta.startMs = second * kSecondMs;
    for (size_t c = 0; c < now.byClass.size(); ++c)
        delta.requests += minus(now.byClass[c], m_previous.byClass[c]);
    delta.clientErrors = minus(now.byClass[3], m_previous.byClass[3]);
    delta.serverErrors = minus(now.byClass[4], m_previous.byClass[4]);
    delta.bytesIn = minus(now.bytesIn, m_previous.bytesIn);
    delta.bytesOut = minus(now.bytesOut, m_previous.bytesOut);
    const HistogramSnapshot latency = now.latency.minus(m_previous.latency);
    bookSecond(second, delta, latency);
    addCounts(m_minute, delta);
    m_minuteHistogram.merge(latency);
    m_previous = std::move(now);
    if (m_firstMs < 0 || delta.startMs < m_firstMs)
        m_firstMs = delta.startMs;
    m_lastSecond = second;
}

void MetricsSeries::bookSecond(qint64 second, const SeriesPoint &delta, const HistogramSnapshot &latency)
{
    SeriesPoint &slot = m_seconds[size_t(second % kSeconds)];
    if (second == m_lastSecond && slot.startMs == delta.startMs) {
        addCounts(slot, delta);
        m_secondLatency.merge(latency);
    } else {
        slot = delta;
        m_secondLatency = latency;
    }
    setQuantiles(slot, m_secondLatency);
}

void MetricsSeries::closeMinute()
{
    SeriesPoint point = m_minute;
    HistogramSnapshot latency = m_minuteHistogram;
    SeriesPoint &slot = m_minutes[ring(point.startMs, kMinuteMs, kMinutes)];
    StoredHistogram &stored = m_minuteLatency[ring(point.startMs, kMinuteMs, kMinuteHistograms)];
    if (slot.startMs == point.startMs) { // restored: the same minute before a restart
        addCounts(point, slot);
        if (stored.startMs == point.startMs)
            stored.addTo(latency);
    }
    setQuantiles(point, latency);
    slot = point;
    stored.assign(point.startMs, latency);
    m_pending.append(MinuteRow {point, latency.encode()});
    if (m_pending.size() > kMinutes)
        m_pending.removeFirst();
    m_minuteTop[ring(point.startMs, kMinuteMs, kMinuteHistograms)] = topSince(m_minuteBase, point.startMs);
    m_minuteBase = {m_previous.cellRequests, m_previous.cellClientErrors, m_previous.cellServerErrors,
                    m_previous.apiKeyRequests};
    m_hourHistogram.merge(m_minuteHistogram);
}

void MetricsSeries::closeHour()
{
    const size_t i = ring(m_hourStartMs, kHourMs, kHours);
    HistogramSnapshot latency = m_hourHistogram;
    if (m_hourLatency[i].startMs == m_hourStartMs) // restored minutes of this hour
        m_hourLatency[i].addTo(latency);
    m_hourLatency[i].assign(m_hourStartMs, latency);
    m_hourTop[i] = topSince(m_hourBase, m_hourStartMs);
    m_hourBase = {m_previous.cellRequests, m_previous.cellClientErrors, m_previous.cellServerErrors,
                  m_previous.apiKeyRequests};
}

MetricsSeries::TopCounts MetricsSeries::topSince(const Cumulative &base, qint64 startMs) const
{
    TopCounts out;
    out.startMs = startMs;
    for (size_t i = 0; i < m_previous.cellRequests.size(); ++i) {
        const quint64 n = minus(m_previous.cellRequests[i], base.requests[i]);
        if (n > 0)
            out.cells.append({int(i), n, minus(m_previous.cellClientErrors[i], base.clientErrors[i]),
                              minus(m_previous.cellServerErrors[i], base.serverErrors[i])});
    }
    for (size_t i = 0; i < m_previous.apiKeyRequests.size(); ++i)
        if (const quint64 n = minus(m_previous.apiKeyRequests[i], base.keys[i]))
            out.keys.append({int(i), n});
    return out;
}

SeriesPoint MetricsSeries::currentMinute() const
{
    SeriesPoint point = m_minute;
    HistogramSnapshot latency = m_minuteHistogram;
    const SeriesPoint &slot = m_minutes[ring(point.startMs, kMinuteMs, kMinutes)];
    if (slot.startMs == point.startMs) {
        addCounts(point, slot);
        const StoredHistogram &stored = m_minuteLatency[ring(point.startMs, kMinuteMs, kMinuteHistograms)];
        if (stored.startMs == point.startMs)
            stored.addTo(latency);
    }
    setQuantiles(point, latency);
    return point;
}

QList<SeriesPoint> MetricsSeries::seconds(int count) const
{
    std::lock_guard lock(m_mutex);
    QList<SeriesPoint> out;
    if (m_lastSecond < 0)
        return out;
    count = qBound(0, count, kSeconds);
    out.reserve(count);
    for (qint64 s = m_lastSecond - count + 1; s <= m_lastSecond; ++s) {
        const SeriesPoint &slot = m_seconds[size_t(s % kSeconds)];
        SeriesPoint p = slot.startMs == s * kSecondMs ? slot : SeriesPoint {};
        p.startMs = s * kSecondMs;
        out.append(p);
    }
    return out;
}

QList<SeriesPoint> MetricsSeries::minutes(int count) const
{
    std::lock_guard lock(m_mutex);
    QList<SeriesPoint> out;
    if (m_minute.startMs < 0)
        return out;
    count = qBound(0, count, int(kMinutes));
    out.reserve(count);
    for (int k = count - 1; k > 0; --k) {
        const qint64 start = m_minute.startMs - k * kMinuteMs;
        const SeriesPoint &slot = m_minutes[ring(start, kMinuteMs, kMinutes)];
        SeriesPoint p = slot.startMs == start ? slot : SeriesPoint {};
        p.startMs = start;
        out.append(p);
    }
    if (count > 0)
        out.append(currentMinute());
    return out;
}

WindowTotals MetricsSeries::summarize(Window window) const
{
    std::lock_guard lock(m_mutex);
    WindowTotals out;
    if (m_minute.startMs < 0)
        return out;
    const int minutes = windowMinutes(window);
    out.endMs = (m_lastSecond + 1) * kSecondMs;
    out.startMs = m_minute.startMs - (minutes - 1) * kMinuteMs;
    addCounts(out.sums, currentMinute());
    for (int k = 1; k < minutes; ++k) {
        const qint64 start = m_minute.startMs - k * kMinuteMs;
        const SeriesPoint &slot = m_minutes[ring(start, kMinuteMs, kMinutes)];
        if (slot.startMs == start)
            addCounts(out.sums, slot);
    }
    out.sums.startMs = out.startMs;
    out.seconds = double(out.endMs - qMax(out.startMs, m_firstMs)) / 1000;
    addLatency(out, minutes);
    addTop(out, minutes);
    return out;
}

void MetricsSeries::addLatency(WindowTotals &out, int minutes) const
{
    out.latency.merge(m_minuteHistogram);
    if (minutes <= kMinuteHistograms) {
        for (int k = 0; k < minutes; ++k) { // k = 0: what the current minute had before a restart
            const qint64 start = m_minute.startMs - k * kMinuteMs;
            const StoredHistogram &stored = m_minuteLatency[ring(start, kMinuteMs, kMinuteHistograms)];
            if (stored.startMs == start)
                stored.addTo(out.latency);
        }
        return;
    }
    out.latency.merge(m_hourHistogram);
    for (int k = 0; k < minutes / 60; ++k) { // k = 0: the current hour's restored minutes
        const qint64 start = m_hourStartMs - k * kHourMs;
        const StoredHistogram &stored = m_hourLatency[ring(start, kHourMs, kHours)];
        if (stored.startMs == start)
            stored.addTo(out.latency);
    }
}

void MetricsSeries::addTop(WindowTotals &out, int minutes) const
{
    const bool byMinute = minutes <= kMinuteHistograms;
    const qint64 unit = byMinute ? kMinuteMs : kHourMs;
    const qint64 current = byMinute ? m_minute.startMs : m_hourStartMs;
    const auto &rings = byMinute ? m_minuteTop : m_hourTop;
    std::vector<TopCounts> parts {topSince(byMinute ? m_minuteBase : m_hourBase, current)};
    for (int k = 1; k < (byMinute ? minutes : minutes / 60); ++k) {
        const TopCounts &t = rings[ring(current - k * unit, unit, rings.size())];
        if (t.startMs == current - k * unit)
            parts.push_back(t);
    }
    std::vector<WindowTotals::Cell> cells(m_previous.cellRequests.size(), WindowTotals::Cell {0, 0, 0, 0});
    std::vector<quint64> keys(m_previous.apiKeyRequests.size(), 0);
    for (const TopCounts &t : parts) {
        for (const WindowTotals::Cell &c : t.cells) {
            cells[size_t(c.cell)].requests += c.requests;
            cells[size_t(c.cell)].clientErrors += c.clientErrors;
            cells[size_t(c.cell)].serverErrors += c.serverErrors;
        }
        for (const auto &[slot, n] : t.keys)
            keys[size_t(slot)] += n;
    }
    for (size_t i = 0; i < cells.size(); ++i)
        if (cells[i].requests > 0)
            out.routes.append({int(i), cells[i].requests, cells[i].clientErrors, cells[i].serverErrors});
    for (size_t i = 0; i < keys.size(); ++i)
        if (keys[i] > 0)
            out.apiKeys.append({int(i), keys[i]});
    std::stable_sort(out.routes.begin(), out.routes.end(),
                     [](const auto &a, const auto &b) { return a.requests > b.requests; });
    std::stable_sort(out.apiKeys.begin(), out.apiKeys.end(),
                     [](const auto &a, const auto &b) { return a.second > b.second; });
}

QList<MinuteRow> MetricsSeries::takeRows(bool includeCurrent)
{
    std::lock_guard lock(m_mutex);
    QList<MinuteRow> out = std::move(m_pending);
    m_pending.clear();
    if (includeCurrent && m_minute.startMs >= 0) {
        HistogramSnapshot latency = m_minuteHistogram;
        const StoredHistogram &stored = m_minuteLatency[ring(m_minute.startMs, kMinuteMs, kMinuteHistograms)];
        if (stored.startMs == m_minute.startMs)
            stored.addTo(latency);
        out.append(MinuteRow {currentMinute(), latency.encode()});
    }
    return out;
}

void MetricsSeries::restore(const QList<MinuteRow> &rows)
{
    std::lock_guard lock(m_mutex);
    qint64 newest = -1;
    for (const MinuteRow &row : rows)
        newest = qMax(newest, row.point.startMs);
    for (const MinuteRow &row : rows) {
        const qint64 start = floorTo(row.point.startMs, kMinuteMs);
        if (start < 0 || start <= newest - kMinutes * kMinuteMs)
            continue;
        SeriesPoint &slot = m_minutes[ring(start, kMinuteMs, kMinutes)];
        if (slot.startMs > start)
            continue;
        slot = row.point;
        slot.startMs = start;
        const HistogramSnapshot latency = HistogramSnapshot::decode(row.latency);
        StoredHistogram &minute = m_minuteLatency[ring(start, kMinuteMs, kMinuteHistograms)];
        if (minute.startMs <= start)
            minute.assign(start, latency);
        StoredHistogram &hour = m_hourLatency[ring(start, kHourMs, kHours)];
        HistogramSnapshot merged = latency;
        if (hour.startMs == floorTo(start, kHourMs))
            hour.addTo(merged);
        if (hour.startMs <= floorTo(start, kHourMs))
            hour.assign(floorTo(start, kHourMs), merged);
        if (m_firstMs < 0 || start < m_firstMs)
            m_firstMs = start;
    }
}

} // namespace Outpost::Observe
