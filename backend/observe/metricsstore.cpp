#include "metricsstore.h"

#include "../store/sqlite.h"

namespace Outpost::Observe {

namespace {

constexpr qint64 kRetentionMs = qint64(MetricsSeries::kMinutes) * 60'000;

} // namespace

Status saveMinuteRows(Store::Database &db, const QList<MinuteRow> &rows, qint64 nowMs)
{
    Store::Statement *insert = db.cached(
        "INSERT OR REPLACE INTO metrics_minute(minute, requests, client_errors, server_errors, bytes_in, bytes_out,"
        " p50_ms, p95_ms, p99_ms, latency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert)
        return db.lastError(QStringLiteral("preparing the metrics insert"));
    for (const MinuteRow &row : rows) {
        const SeriesPoint &p = row.point;
        Store::ResetOnExit reset(*insert);
        insert->bind(1, p.startMs)
            .bind(2, qint64(p.requests))
            .bind(3, qint64(p.clientErrors))
            .bind(4, qint64(p.serverErrors))
            .bind(5, qint64(p.bytesIn))
            .bind(6, qint64(p.bytesOut))
            .bind(7, p.p50Ms)
            .bind(8, p.p95Ms)
            .bind(9, p.p99Ms)
            .bind(10, row.latency);
        if (auto s = insert->run(); !s)
            return s;
    }
    Store::Statement *prune = db.cached("DELETE FROM metrics_minute WHERE minute < ?");
    if (!prune)
        return db.lastError(QStringLiteral("preparing the metrics pruning"));
    Store::ResetOnExit reset(*prune);
    prune->bind(1, nowMs - kRetentionMs);
    return prune->run();
}

Result<QList<MinuteRow>> loadMinuteRows(Store::Database &db, qint64 nowMs)
{
    auto select = db.prepare("SELECT minute, requests, client_errors, server_errors, bytes_in, bytes_out,"
                             " p50_ms, p95_ms, p99_ms, latency FROM metrics_minute WHERE minute >= ? ORDER BY minute");
    if (!select)
        return select.error();
    select->bind(1, nowMs - kRetentionMs);
    QList<MinuteRow> rows;
    for (;;) {
        auto more = select->step();
        if (!more)
            return more.error();
        if (!*more)
            break;
        MinuteRow row;
        row.point.startMs = select->int64(0);
        row.point.requests = quint64(select->int64(1));
        row.point.clientErrors = quint64(select->int64(2));
        row.point.serverErrors = quint64(select->int64(3));
        row.point.bytesIn = quint64(select->int64(4));
        row.point.bytesOut = quint64(select->int64(5));
        row.point.p50Ms = select->real(6);
        row.point.p95Ms = select->real(7);
        row.point.p99Ms = select->real(8);
        row.latency = select->blob(9);
        rows.append(std::move(row));
    }
    return rows;
}

} // namespace Outpost::Observe
