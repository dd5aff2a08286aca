#pragma once

#include <QList>

#include "../core/result.h"
#include "metricsseries.h"

namespace Outpost::Store {
class Database;
}

namespace Outpost::Observe {

// The minute series in logs.db, so that it survives a restart: one row per closed minute, ~60-150
// bytes with a typical latency spread, 10,080 rows at most.
//
// The schema step for Store::logsMigrations(), which the store's owner lists with the next number
// (a constant, so that it fits the constexpr Migration table):
//   {3, "metrics minute series", Observe::kMetricsMinuteSchema},
inline constexpr const char kMetricsMinuteSchema[] = "CREATE TABLE metrics_minute ("
                                                     " minute INTEGER PRIMARY KEY," // start of the minute, Unix ms
                                                     " requests INTEGER NOT NULL,"
                                                     " client_errors INTEGER NOT NULL,"
                                                     " server_errors INTEGER NOT NULL,"
                                                     " bytes_in INTEGER NOT NULL,"
                                                     " bytes_out INTEGER NOT NULL,"
                                                     " p50_ms REAL NOT NULL,"
                                                     " p95_ms REAL NOT NULL,"
                                                     " p99_ms REAL NOT NULL,"
                                                     " latency BLOB NOT NULL) STRICT;"; // HistogramSnapshot::encode()

// Writes `rows` (a minute already stored is replaced: a restart within a minute re-sends it with
// what came after) and deletes rows older than 7 days before `nowMs`. Run it inside one
// transaction (Store::writeLog), on the logs writer.
Status saveMinuteRows(Store::Database &db, const QList<MinuteRow> &rows, qint64 nowMs);

// The rows of the 7 days before `nowMs`, oldest first, for MetricsSeries::restore().
Result<QList<MinuteRow>> loadMinuteRows(Store::Database &db, qint64 nowMs);

} // namespace Outpost::Observe
