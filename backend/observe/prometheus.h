#pragma once

#include <QByteArray>
#include <QList>

#include "metrics.h"
#include "processstats.h"

namespace Outpost::Observe {

// The Prometheus text exposition format 0.0.4 of a metrics snapshot and the process figures, for
// `GET /metrics`. `promtool check metrics` accepts it (tst_metrics runs it).
//
// Latency histograms are exposed with the fixed `le` set of prometheusBounds(): 19 edges of the
// fine histogram (Buckets), each the one nearest to 50 µs, 100 µs, 250 µs … 30 s, 60 s, so every
// cumulative count is exact (values are in seconds, e.g. le="0.000999424" for 1 ms).
//
// Pure function of its arguments; thread-safe.
QByteArray renderPrometheus(const Metrics::Snapshot &snapshot, const ProcessStats &process);

// The `le` edges in nanoseconds, ascending (the +Inf bucket is implied).
const QList<quint64> &prometheusBounds();

inline QByteArray prometheusContentType()
{
    return QByteArrayLiteral("text/plain; version=0.0.4; charset=utf-8");
}

// `text` escaped for a label value (backslash, double quote, line feed), per the format's rules.
QByteArray escapeLabelValue(QByteArrayView text);

} // namespace Outpost::Observe
