#include "auditlog.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <algorithm>
#include <chrono>
#include <exception>
#include <iterator>

#include "sqlite.h"
#include "store.h"

Q_LOGGING_CATEGORY(lcAudit, "outpost.audit")

namespace Outpost::Store {

AuditLog::AuditLog(Store &store, qsizetype capacity)
    : AuditLog(
        [&store](const std::vector<AuditEntry> &entries) {
            return store.writeLog([&entries](Database &db) { return insert(db, entries); });
        },
        capacity)
{
}

AuditLog::AuditLog(BatchWriter writer, qsizetype capacity)
    : m_writer(std::move(writer))
    , m_capacity(qMax<qsizetype>(1, capacity))
{
    m_thread = std::thread([this] { run(); });
}

AuditLog::~AuditLog()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_one();
    if (m_thread.joinable())
        m_thread.join();
}

QString AuditLog::timestamp(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz")) + u'Z';
}

Status AuditLog::insert(Database &db, const std::vector<AuditEntry> &entries)
{
    Statement *insert = db.cached("INSERT INTO audit_log(time, actor, action, target, address, success, details) "
                                  "VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!insert)
        return db.lastError(QStringLiteral("prepare audit insert"));
    for (const AuditEntry &e : entries) {
        const QByteArray details = QJsonDocument(e.details).toJson(QJsonDocument::Compact);
        if (auto s = insert->bind(1, timestamp(e.timeMs))
                         .bind(2, e.actor)
                         .bind(3, e.action)
                         .bind(4, e.target)
                         .bind(5, e.address)
                         .bind(6, int(e.success))
                         .bind(7, QString::fromUtf8(details))
                         .run();
            !s)
            return s;
    }
    return {};
}

void AuditLog::append(AuditEntry entry)
{
    std::vector<AuditEntry> one;
    one.push_back(std::move(entry));
    append(std::move(one));
}

void AuditLog::append(std::vector<AuditEntry> entries)
{
    if (entries.empty())
        return;
    const auto count = quint64(entries.size());
    bool warn = false;
    bool stopped = false;
    {
        std::lock_guard lock(m_mutex);
        if (!m_stopping && std::ssize(m_queue) + std::ssize(entries) <= m_capacity) {
            const bool wasEmpty = m_queue.empty();
            std::move(entries.begin(), entries.end(), std::back_inserter(m_queue));
            m_accepted += count;
            // The thread waits for the first entry, then lingers until a batch is full: no wake-up
            // (and no futex call on data.db's writer thread) for the entries in between.
            if (wasEmpty || std::ssize(m_queue) >= kMaxBatch)
                m_wake.notify_one();
            return;
        }
        stopped = m_stopping;
        if (!stopped) {
            m_overflowDropped += count;
            warn = !m_overflowing;
            m_overflowing = true;
        }
    }
    m_dropped.fetch_add(count, std::memory_order_relaxed);
    // Once per overflow: the thread reports the total when the queue has drained.
    if (warn)
        qCWarning(lcAudit, "audit queue full (%lld entries): dropping entries until it drains", qint64(m_capacity));
    if (stopped)
        qCWarning(lcAudit, "audit log stopped: dropped %llu entries", count);
}

void AuditLog::flush()
{
    std::unique_lock lock(m_mutex);
    const quint64 target = m_accepted;
    ++m_flushing;
    m_wake.notify_one(); // cut the linger short
    m_progress.wait(lock, [&] { return m_done >= target; });
    --m_flushing;
}

void AuditLog::drop(quint64 count, const char *reason)
{
    m_dropped.fetch_add(count, std::memory_order_relaxed);
    qCWarning(lcAudit, "dropped %llu audit entries: %s", count, reason);
}

void AuditLog::run()
{
    std::vector<AuditEntry> batch;
    batch.reserve(size_t(kMaxBatch));
    for (;;) {
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_queue.empty())
                return; // stopping, and everything queued has been written
            m_wake.wait_for(lock, std::chrono::milliseconds(kLingerMs),
                            [this] { return m_stopping || m_flushing > 0 || std::ssize(m_queue) >= kMaxBatch; });
            const auto end = m_queue.begin() + std::min<std::ptrdiff_t>(std::ssize(m_queue), kMaxBatch);
            std::move(m_queue.begin(), end, std::back_inserter(batch));
            m_queue.erase(m_queue.begin(), end);
        }
        Status status;
        try {
            status = m_writer(batch);
        } catch (const std::exception &e) {
            status = makeError(ErrorCode::Internal, QString::fromUtf8(e.what()));
        } catch (...) {
            status = makeError(ErrorCode::Internal, QStringLiteral("unknown exception"));
        }
        const auto count = quint64(batch.size());
        if (status)
            m_written.fetch_add(count, std::memory_order_relaxed);
        else
            drop(count, qPrintable(status.error().message));
        batch.clear();
        quint64 overflowDropped = 0;
        {
            std::lock_guard lock(m_mutex);
            if (m_overflowing && m_queue.empty()) {
                overflowDropped = m_overflowDropped;
                m_overflowing = false;
                m_overflowDropped = 0;
            }
        }
        // Before flush() returns: whoever waited for the queue sees the report too.
        if (overflowDropped > 0)
            qCWarning(lcAudit, "the audit queue has drained; %llu entries were dropped while it was full",
                      overflowDropped);
        {
            std::lock_guard lock(m_mutex);
            m_done += count;
        }
        m_progress.notify_all();
    }
}

} // namespace Outpost::Store
