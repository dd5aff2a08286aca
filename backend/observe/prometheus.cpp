#include "prometheus.h"

#include <QLocale>
#include <cmath>

namespace Outpost::Observe {

namespace {

// Round values an operator expects, in ns; each becomes the fine bucket edge nearest to it.
constexpr quint64 kTargets[]
    = {50'000,        100'000,       250'000,        500'000,        1'000'000,     2'500'000,   5'000'000,
       10'000'000,    25'000'000,    50'000'000,     100'000'000,    250'000'000,   500'000'000, 1'000'000'000,
       2'500'000'000, 5'000'000'000, 10'000'000'000, 30'000'000'000, 60'000'000'000};

QByteArray number(quint64 value)
{
    return QByteArray::number(value);
}

QByteArray number(double value)
{
    if (std::isnan(value))
        return QByteArrayLiteral("NaN");
    if (std::isinf(value))
        return value > 0 ? QByteArrayLiteral("+Inf") : QByteArrayLiteral("-Inf");
    return QByteArray::number(value, 'g', QLocale::FloatingPointShortest);
}

// Integral nanoseconds as exact decimal seconds: 1015808 -> "0.001015808".
QByteArray seconds(quint64 ns)
{
    QByteArray out = QByteArray::number(ns / 1'000'000'000);
    const quint64 fraction = ns % 1'000'000'000;
    if (fraction == 0)
        return out;
    QByteArray digits = QByteArray::number(fraction).rightJustified(9, '0');
    while (digits.endsWith('0'))
        digits.chop(1);
    return out.append('.').append(digits);
}

QByteArray escapeHelp(QByteArrayView text)
{
    QByteArray out;
    for (char c : text) {
        if (c == '\\')
            out.append("\\\\");
        else if (c == '\n')
            out.append("\\n");
        else
            out.append(c);
    }
    return out;
}

class Writer
{
public:
    void family(const char *name, const char *type, const char *help)
    {
        m_out.append("# HELP ").append(name).append(' ').append(escapeHelp(help)).append('\n');
        m_out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }
    // `labels` is a list of name, value pairs; values are escaped here.
    void sample(QByteArrayView name, std::initializer_list<std::pair<const char *, QByteArrayView>> labels,
                const QByteArray &value)
    {
        m_out.append(name);
        if (labels.size() > 0) {
            m_out.append('{');
            bool first = true;
            for (const auto &[label, text] : labels) {
                if (!first)
                    m_out.append(',');
                first = false;
                m_out.append(label).append("=\"").append(escapeLabelValue(text)).append('"');
            }
            m_out.append('}');
        }
        m_out.append(' ').append(value).append('\n');
    }
    void gauge(const char *name, const char *help, const QByteArray &value)
    {
        family(name, "gauge", help);
        sample(name, {}, value);
    }
    void histogram(const char *name, const HistogramSnapshot &h, QByteArrayView route, QByteArrayView method)
    {
        const bool labelled = !route.isEmpty();
        const auto put = [&](const QByteArray &suffix, QByteArrayView le, const QByteArray &value) {
            const QByteArray metric = QByteArray(name).append(suffix);
            if (labelled && !le.isEmpty())
                sample(metric, {{"route", route}, {"method", method}, {"le", le}}, value);
            else if (labelled)
                sample(metric, {{"route", route}, {"method", method}}, value);
            else if (!le.isEmpty())
                sample(metric, {{"le", le}}, value);
            else
                sample(metric, {}, value);
        };
        for (quint64 bound : prometheusBounds()) {
            // Clamped values sit in the last bucket but are above its upper edge.
            const quint64 n = h.countBelow(bound) - (bound >= Buckets::kMaxTracked ? h.overflow : 0);
            put(QByteArrayLiteral("_bucket"), seconds(bound), number(n));
        }
        const quint64 count = h.count();
        put(QByteArrayLiteral("_bucket"), "+Inf", number(count));
        put(QByteArrayLiteral("_sum"), {}, seconds(h.sumNs));
        put(QByteArrayLiteral("_count"), {}, number(count));
    }
    QByteArray take() { return std::move(m_out); }

private:
    QByteArray m_out;
};

void writeRequests(Writer &w, const Metrics::Snapshot &s)
{
    w.family("outpost_http_requests_total", "counter",
             "HTTP requests answered, by route template, method and status class.");
    for (const auto &c : s.counts) {
        const QByteArray method = methodName(c.method);
        for (int cls = 1; cls <= 5; ++cls) {
            const QByteArray status = QByteArray::number(cls).append("xx");
            if (const quint64 n = c.byClass[size_t(cls - 1)])
                w.sample("outpost_http_requests_total", {{"route", c.route}, {"method", method}, {"status", status}},
                         number(n));
        }
    }
    w.family("outpost_http_request_duration_seconds", "histogram",
             "Time from dispatch to the response written, by route template and method.");
    for (const auto &l : s.latencies)
        w.histogram("outpost_http_request_duration_seconds", l.latency, l.route, l.method);
    w.family("outpost_http_request_duration_out_of_range_total", "counter",
             "Durations outside the histogram's range, counted in its first or last bucket.");
    quint64 below = 0;
    quint64 above = 0;
    for (const auto &l : s.latencies) {
        below += l.latency.underflow;
        above += l.latency.overflow;
    }
    w.sample("outpost_http_request_duration_out_of_range_total", {{"side", "below"}}, number(below));
    w.sample("outpost_http_request_duration_out_of_range_total", {{"side", "above"}}, number(above));
    w.family("outpost_store_duration_seconds", "histogram", "Time a request spent waiting for and in the store.");
    w.histogram("outpost_store_duration_seconds", s.store, {}, {});
}

void writeTraffic(Writer &w, const Metrics::Snapshot &s)
{
    w.family("outpost_http_request_bytes_total", "counter", "Bytes received in requests (head and body).");
    w.sample("outpost_http_request_bytes_total", {}, number(s.bytesIn));
    w.family("outpost_http_response_bytes_total", "counter", "Bytes sent in responses.");
    w.sample("outpost_http_response_bytes_total", {}, number(s.bytesOut));
    if (s.inflight >= 0)
        w.gauge("outpost_http_requests_in_flight", "Requests dispatched and not yet answered.",
                number(quint64(s.inflight)));
    if (s.connections >= 0)
        w.gauge("outpost_http_open_connections", "Open client connections.", number(quint64(s.connections)));
    if (!s.rateLimited.isEmpty()) {
        w.family("outpost_rate_limited_requests_total", "counter",
                 "Requests refused with 429 by a rate limit, by route group.");
        for (const auto &[group, count] : s.rateLimited)
            w.sample("outpost_rate_limited_requests_total", {{"group", group}}, number(count));
    }
    w.family("outpost_http_requests_by_caller_total", "counter", "HTTP requests by the kind of caller.");
    for (int k = 0; k < kCallerKindCount; ++k)
        w.sample("outpost_http_requests_by_caller_total", {{"caller", callerKindName(CallerKind(k))}},
                 number(s.byCaller[size_t(k)]));
    w.family("outpost_apikey_requests_total", "counter",
             "HTTP requests per API key id; key=\"_other\" once the table of keys is full.");
    for (const auto &e : s.apiKeys)
        w.sample("outpost_apikey_requests_total", {{"key", e.id}}, number(e.count));
    w.family("outpost_user_requests_total", "counter",
             "HTTP requests per user and superuser id; user=\"_other\" once the table of users is full.");
    for (const auto &e : s.users)
        w.sample("outpost_user_requests_total", {{"user", e.id}}, number(e.count));
}

void writeLogs(Writer &w, const Metrics::Snapshot &s)
{
    if (s.logs.isEmpty())
        return;
    w.family("outpost_log_entries_written_total", "counter", "Entries written to logs.db, by log (audit, request).");
    for (const LogCounts &log : s.logs)
        w.sample("outpost_log_entries_written_total", {{"log", log.log}}, number(log.written));
    w.family("outpost_log_entries_dropped_total", "counter",
             "Entries a log dropped because its queue was full or a write failed, by log (audit, request).");
    for (const LogCounts &log : s.logs)
        w.sample("outpost_log_entries_dropped_total", {{"log", log.log}}, number(log.dropped));
}

void writeProcess(Writer &w, const ProcessStats &p)
{
    if (p.residentBytes >= 0)
        w.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", number(quint64(p.residentBytes)));
    if (p.virtualBytes >= 0)
        w.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", number(quint64(p.virtualBytes)));
    if (p.cpuSeconds >= 0) {
        w.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
        w.sample("process_cpu_seconds_total", {}, number(p.cpuSeconds));
    }
    if (p.openFds >= 0)
        w.gauge("process_open_fds", "Number of open file descriptors.", number(quint64(p.openFds)));
    if (p.maxFds >= 0)
        w.gauge("process_max_fds", "Maximum number of open file descriptors.", number(quint64(p.maxFds)));
    if (p.startTimeSeconds >= 0)
        w.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                number(p.startTimeSeconds));
    if (p.uptimeSeconds >= 0)
        w.gauge("outpost_uptime_seconds", "Seconds since the process started.", number(p.uptimeSeconds));
}

} // namespace

QByteArray escapeLabelValue(QByteArrayView text)
{
    QByteArray out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\\')
            out.append("\\\\");
        else if (c == '"')
            out.append("\\\"");
        else if (c == '\n')
            out.append("\\n");
        else
            out.append(c);
    }
    return out;
}

const QList<quint64> &prometheusBounds()
{
    static const QList<quint64> bounds = [] {
        QList<quint64> out;
        for (quint64 target : kTargets) {
            const int i = Buckets::indexOf(target);
            const quint64 lower = Buckets::lowerBound(i);
            const quint64 upper = Buckets::upperBound(i);
            out.append(target - lower <= upper - target && i > 0 ? lower : upper);
        }
        return out;
    }();
    return bounds;
}

QByteArray renderPrometheus(const Metrics::Snapshot &snapshot, const ProcessStats &process)
{
    Writer w;
    writeRequests(w, snapshot);
    writeTraffic(w, snapshot);
    writeLogs(w, snapshot);
    writeProcess(w, process);
    return w.take();
}

} // namespace Outpost::Observe
