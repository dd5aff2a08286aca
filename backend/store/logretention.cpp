#include "logretention.h"

#include <QFileInfo>
#include <QLoggingCategory>
#include <QThreadPool>
#include <cmath>

#include "auditlog.h"
#include "sqlite.h"
#include "store.h"

namespace Outpost::Store {

namespace {

Q_LOGGING_CATEGORY(lcRetention, "outpost.retention")

// Rounds of measure-and-delete one size prune may take: a round deletes what its measure says is
// too much, so the second one only corrects the estimate of bytes per row.
constexpr int kMaxSizeRounds = 4;
// The size check measures exactly (dbstat walks every page: ~130 ms for 250 MB) when the estimate
// comes this near the limit, or when the last measure is older than kRemeasureMs (rows may have
// grown longer since).
constexpr double kMeasureAbove = 0.95;
constexpr qint64 kRemeasureMs = 60 * 60 * 1000;
// Without dbstat: what a row of the request log takes, about (measured with dbstat: ~160 bytes).
constexpr qint64 kEstimatedRowBytes = 200;

QByteArray sql(const char *text, const char *table)
{
    return QByteArray(text).replace("%T", table);
}

Result<qint64> singleInt(Database &db, const QByteArray &query)
{
    auto select = db.prepare(query.constData());
    if (!select)
        return select.error();
    auto row = select->step();
    if (!row)
        return row.error();
    return *row ? select->int64(0) : qint64(0);
}

Result<qint64> rowSpanOf(Database &db, const char *table)
{
    // Two lookups at the ends of the primary key; max(id) - min(id) in one SELECT would scan.
    return singleInt(db, sql("SELECT coalesce((SELECT max(id) FROM %T) - (SELECT min(id) FROM %T) + 1, 0)", table));
}

} // namespace

LogRetention::LogRetention(Store &store, const Clock &clock, RetentionPolicy policy, QThreadPool *pool, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_clock(clock)
    , m_policy(policy)
    , m_pool(pool)
{
    m_timer.setInterval(m_policy.timerMs);
    connect(&m_timer, &QTimer::timeout, this, [this] { pruneIfDue(); });
}

LogRetention::~LogRetention()
{
    std::unique_lock lock(m_jobsMutex);
    m_jobsDone.wait(lock, [this] { return m_jobs == 0; });
}

void LogRetention::start()
{
    if (m_policy.maxAgeDays <= 0 && m_policy.maxBytes <= 0)
        return;
    if (m_policy.startBlocks) {
        if (auto pruned = pruneByAge(); !pruned)
            qCWarning(lcRetention) << m_policy.table << "pruning failed:" << pruned.error().message;
    }
    // Measuring a large table takes a while: the first size check runs on the pool at once (and
    // the first age prune, when start() is not to wait for it).
    pruneIfDue();
    m_timer.start();
}

Result<qint64> LogRetention::pruneByAge()
{
    m_lastAgeMs = m_clock.nowMs();
    if (m_policy.maxAgeDays <= 0)
        return qint64(0);
    return deleteOlderThan(m_lastAgeMs - m_policy.maxAgeDays * RetentionPolicy::kDayMs);
}

Result<qint64> LogRetention::deleteOlderThan(qint64 cutoffMs)
{
    const QByteArray remove
        = sql("DELETE FROM %T WHERE id IN (SELECT id FROM %T WHERE time < ? LIMIT ?)", m_policy.table);
    const QVariant cutoff = m_policy.timeFormat == RetentionPolicy::TimeFormat::UnixMs
        ? QVariant(cutoffMs)
        : QVariant(AuditLog::timestamp(cutoffMs));
    qint64 removed = 0;
    for (;;) {
        int changed = 0;
        const Status s = m_store.writeLog([&](Database &db) -> Status {
            auto statement = db.prepare(remove.constData());
            if (!statement)
                return statement.error();
            if (auto run = statement->bind(1, cutoff).bind(2, kDeleteBatch).run(); !run)
                return run;
            changed = db.changes();
            return {};
        });
        if (!s)
            return s.error();
        removed += changed;
        if (changed < kDeleteBatch)
            break;
    }
    if (removed > 0)
        qCInfo(lcRetention) << "deleted" << removed << "rows of" << m_policy.table << "older than"
                            << AuditLog::timestamp(cutoffMs);
    return removed;
}

Result<qint64> LogRetention::deleteOldest(qint64 rows)
{
    const QByteArray remove = sql("DELETE FROM %T WHERE id IN (SELECT id FROM %T ORDER BY id LIMIT ?)", m_policy.table);
    qint64 removed = 0;
    while (removed < rows) {
        int changed = 0;
        const Status s = m_store.writeLog([&](Database &db) -> Status {
            auto statement = db.prepare(remove.constData());
            if (!statement)
                return statement.error();
            if (auto run = statement->bind(1, qMin(kDeleteBatch, rows - removed)).run(); !run)
                return run;
            changed = db.changes();
            return {};
        });
        if (!s)
            return s.error();
        if (changed == 0)
            break;
        removed += changed;
    }
    return removed;
}

Result<qint64> LogRetention::tableBytes(Database &db, const char *table)
{
    auto names = db.prepare("SELECT name FROM sqlite_schema WHERE tbl_name = ? AND type IN ('table', 'index')");
    if (!names)
        return names.error();
    names->bind(1, QString::fromLatin1(table));
    // dbstat's aggregate form: one row per b-tree, found by name without walking the others.
    auto pages = db.prepare("SELECT coalesce(sum(pgsize), 0) FROM dbstat('main', 1) WHERE name = ?");
    if (!pages) {
        // SQLite built without SQLITE_ENABLE_DBSTAT_VTAB (Debian's has it).
        auto rows = rowSpanOf(db, table);
        if (!rows)
            return rows.error();
        return *rows * kEstimatedRowBytes;
    }
    qint64 bytes = 0;
    for (;;) {
        auto row = names->step();
        if (!row)
            return row.error();
        if (!*row)
            break;
        pages->bind(1, names->text(0));
        auto measured = pages->step();
        if (!measured)
            return measured.error();
        bytes += pages->int64(0);
        pages->reset();
    }
    return bytes;
}

Result<qint64> LogRetention::rowSpan()
{
    qint64 rows = 0;
    const Status s = m_store.readLog([&](Database &db) -> Status {
        auto span = rowSpanOf(db, m_policy.table);
        if (!span)
            return span.error();
        rows = *span;
        return {};
    });
    if (!s)
        return s.error();
    return rows;
}

Result<qint64> LogRetention::pruneBySize()
{
    if (m_policy.maxBytes <= 0)
        return qint64(0);
    qint64 removed = 0;
    qint64 bytes = 0;
    for (int round = 0; round < kMaxSizeRounds; ++round) {
        qint64 rows = 0;
        const Status s = m_store.readLog([&](Database &db) -> Status {
            auto measured = tableBytes(db, m_policy.table);
            if (!measured)
                return measured.error();
            bytes = *measured;
            auto span = rowSpanOf(db, m_policy.table);
            if (!span)
                return span.error();
            rows = *span;
            return {};
        });
        if (!s)
            return s.error();
        m_lastMeasureMs = m_clock.nowMs();
        if (rows > 0)
            m_bytesPerRow = qMax<qint64>(1, bytes / rows);
        if (bytes <= m_policy.maxBytes || rows == 0)
            break;
        const double excess = double(bytes) - double(m_policy.maxBytes) * kTrimTo;
        auto deleted = deleteOldest(qMax<qint64>(1, qint64(std::ceil(excess / double(bytes) * double(rows)))));
        if (!deleted)
            return deleted.error();
        removed += *deleted;
        if (*deleted == 0)
            break;
    }
    if (removed > 0)
        qCInfo(lcRetention) << "deleted the oldest" << removed << "rows of" << m_policy.table << "to keep it under"
                            << m_policy.maxBytes << "bytes; it takes" << bytes;
    return removed;
}

void LogRetention::checkSize()
{
    const qint64 perRow = m_bytesPerRow.load();
    // The estimate (rows times the last measured bytes per row) is trusted only while the whole
    // file is below the limit too: rows much larger than those measured would otherwise go unseen.
    const bool fileUnder = QFileInfo(m_store.logsPath()).size() < m_policy.maxBytes;
    if (perRow > 0 && fileUnder && m_clock.nowMs() - m_lastMeasureMs.load() < kRemeasureMs) {
        auto rows = rowSpan();
        if (rows && double(*rows) * double(perRow) < double(m_policy.maxBytes) * kMeasureAbove)
            return;
    }
    if (auto pruned = pruneBySize(); !pruned)
        qCWarning(lcRetention) << m_policy.table << "size pruning failed:" << pruned.error().message;
}

void LogRetention::runOnPool(std::function<void()> job)
{
    {
        std::lock_guard lock(m_jobsMutex);
        ++m_jobs;
    }
    m_pool->start([this, job = std::move(job)] {
        job();
        std::lock_guard lock(m_jobsMutex);
        if (--m_jobs == 0)
            m_jobsDone.notify_all();
    });
}

bool LogRetention::pruneIfDue()
{
    const qint64 now = m_clock.nowMs();
    bool queued = false;
    if (m_policy.maxAgeDays > 0 && now - m_lastAgeMs >= m_policy.ageIntervalMs) {
        m_lastAgeMs = now;
        runOnPool([this, cutoff = now - m_policy.maxAgeDays * RetentionPolicy::kDayMs] {
            if (auto pruned = deleteOlderThan(cutoff); !pruned)
                qCWarning(lcRetention) << m_policy.table << "pruning failed:" << pruned.error().message;
        });
        queued = true;
    }
    // One size check at a time: a slow one is not queued again behind itself.
    if (m_policy.maxBytes > 0 && now - m_lastSizeMs >= m_policy.sizeIntervalMs && !m_sizeRunning.exchange(true)) {
        m_lastSizeMs = now;
        runOnPool([this] {
            checkSize();
            m_sizeRunning = false;
        });
        queued = true;
    }
    return queued;
}

} // namespace Outpost::Store
