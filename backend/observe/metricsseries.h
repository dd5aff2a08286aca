#pragma once

#include <QList>
#include <array>
#include <mutex>
#include <optional>
#include <vector>

#include "histogram.h"
#include "metrics.h"

namespace Outpost::Observe {

// One interval of a series: what was answered in [startMs, startMs + resolution).
struct SeriesPoint
{
    qint64 startMs = 0; // Unix ms
    quint64 requests = 0;
    quint64 clientErrors = 0; // 4xx
    quint64 serverErrors = 0; // 5xx
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;
    double p50Ms = 0; // latency quantiles of the interval's requests (0 when none)
    double p95Ms = 0;
    double p99Ms = 0;
};

// A closed minute as logs.db keeps it (metricsstore.h has the table): its point and its
// latency histogram (HistogramSnapshot::encode), so that windows of any length get exact
// quantiles after a restart too.
struct MinuteRow
{
    SeriesPoint point;
    QByteArray latency;
};

enum class Window : quint8 { FiveMinutes, Hour, Day, Week };
std::optional<Window> parseWindow(QStringView text); // "5m", "1h", "24h", "7d"
QByteArray windowName(Window window);

// What a window of the series adds up to (see MetricsSeries::summarize).
struct WindowTotals
{
    qint64 startMs = 0;
    qint64 endMs = 0;
    double seconds = 0; // the time the window covers with data (at most its length)
    SeriesPoint sums; // startMs, quantiles unused
    HistogramSnapshot latency;
    struct Cell
    {
        int cell; // Metrics::cell(route, method)
        quint64 requests, clientErrors, serverErrors;
    };
    QList<Cell> routes; // every (route, method) with requests, most requests first
    QList<QPair<int, quint64>> apiKeys; // CallerTable slot, requests; most first
};

// The request time series kept in memory: per second for the last hour (3600 points) and per minute
// for the last 7 days (10080 points), each with requests, 4xx, 5xx, bytes and latency p50/p95/p99
// from the interval's histogram delta. Whole-minute histograms are kept for the last hour and
// whole-hour ones for the last 7 days (u32 counts, 2.6 KB each, ~0.6 MB) so that any window's
// quantiles are exact to the histogram's ±1.6%; per-route and per-key counts likewise per minute
// and per hour, for the top tables. Memory in all: ~2 MB.
//
// tick() is driven by a timer once a second, ideally just after each second boundary: it reads
// Metrics::totals() and books what happened since the previous tick to the second before the one
// `nowMs` falls in. Ticks may come late or be missed (the gap reads as no traffic); a clock that
// goes back books into the latest second instead.
//
// Persistence: closed minutes queue up for takeRows(), which the owner writes to logs.db in one
// transaction; restore() puts rows read back at start-up into place. Top routes and keys are not
// persisted: after a restart they cover the time since.
//
// Thread-safety: tick() from one thread (the timer's); every other method from any thread,
// concurrently with it: an internal mutex serialises them (a tick holds it ~10 µs after reading
// Metrics::totals() for ~40 µs outside it; a 7-day summary ~25 µs). Metrics must outlive the series.
class MetricsSeries
{
public:
    static constexpr int kSeconds = 3600;
    static constexpr int kMinutes = 7 * 24 * 60;
    static constexpr int kHours = 7 * 24;

    explicit MetricsSeries(const Metrics &metrics);
    ~MetricsSeries();
    Q_DISABLE_COPY_MOVE(MetricsSeries)

    void tick(qint64 nowMs);

    // The last `count` seconds (up to kSeconds) or minutes (up to kMinutes, the current one partial)
    // up to the last tick, oldest first; intervals without data are zero points.
    QList<SeriesPoint> seconds(int count) const;
    QList<SeriesPoint> minutes(int count) const;

    // The last 5 min, 1 h or 24 h, 7 d up to the last tick, in whole minutes (whole hours for 24 h
    // and 7 d quantiles and top tables) plus the current partial one.
    WindowTotals summarize(Window window) const;

    // Minutes closed since the last call, oldest first, for logs.db; with `includeCurrent` also the
    // minute in progress (at shutdown: a restart within that minute adds to the row). At most
    // kMinutes are queued; older ones are dropped.
    QList<MinuteRow> takeRows(bool includeCurrent = false);
    // Puts rows read from logs.db back (any order; older than 7 days before the newest is ignored).
    // Call before the first tick.
    void restore(const QList<MinuteRow> &rows);

private:
    struct StoredHistogram
    {
        qint64 startMs = -1;
        std::vector<quint32> counts; // empty when no request
        void assign(qint64 start, const HistogramSnapshot &h);
        void addTo(HistogramSnapshot &h) const;
    };
    struct TopCounts
    {
        qint64 startMs = -1;
        QList<WindowTotals::Cell> cells;
        QList<QPair<int, quint64>> keys;
    };
    struct Cumulative
    {
        std::vector<quint64> requests, clientErrors, serverErrors, keys;
    };

    void bookSecond(qint64 second, const SeriesPoint &delta, const HistogramSnapshot &latency);
    void closeMinute();
    void closeHour();
    TopCounts topSince(const Cumulative &base, qint64 startMs) const;
    SeriesPoint currentMinute() const;
    void addLatency(WindowTotals &out, int minutes) const;
    void addTop(WindowTotals &out, int minutes) const;

    const Metrics &m_metrics;
    mutable std::mutex m_mutex;
    std::vector<SeriesPoint> m_seconds; // ring by second
    std::vector<SeriesPoint> m_minutes; // ring by minute; startMs tells whose
    std::vector<StoredHistogram> m_minuteLatency; // ring of 60
    std::vector<StoredHistogram> m_hourLatency; // ring of kHours
    std::vector<TopCounts> m_minuteTop; // ring of 60
    std::vector<TopCounts> m_hourTop; // ring of kHours
    qint64 m_lastSecond = -1; // the second the last tick booked into
    qint64 m_firstMs = -1; // the oldest data held
    HistogramSnapshot m_secondLatency; // the last booked second's
    SeriesPoint m_minute; // the current minute's, in memory (startMs -1: none yet)
    HistogramSnapshot m_minuteHistogram;
    qint64 m_hourStartMs = -1;
    HistogramSnapshot m_hourHistogram; // the current hour's closed minutes, in memory
    // Cumulative figures at the previous tick, and at the start of the current minute and hour.
    Metrics::Totals m_previous;
    Cumulative m_last, m_minuteBase, m_hourBase;
    QList<MinuteRow> m_pending;
};

} // namespace Outpost::Observe
