#pragma once

#include <QJsonObject>
#include <QString>
#include <functional>
#include <vector>

#include "../core/result.h"
#include "queuedlog.h"

namespace Outpost::Store {

class Database;
class Store;

// One row of logs.db's audit_log.
struct AuditEntry
{
    qint64 timeMs = 0; // Unix ms; stored as PocketBase's "2006-01-02 15:04:05.000Z" (UTC)
    QString actor; // "superuser:ID", "apikey:ID", "user:COLLECTION:ID", "cli", or a login's identity
    QString action; // "auth.login", "record.update", "collection.create", ...
    QString target; // what it was done to: "_superusers", a key id, "COLLECTION/RECORDID", ...
    QString address; // the client address, or "" when there is none
    bool success = true;
    QJsonObject details; // action-specific; stored as JSON text
};

// Who asks for an audited change, for services that write the entry themselves.
struct AuditActor
{
    QString label = QStringLiteral("local"); // the entry's actor; "local" for in-process callers
    QString address = QStringLiteral("local");
};

// The single writer of logs.db's audit_log. append() queues an entry and returns at once; a thread
// of this object's own writes what is queued in batches, one transaction each, so that an entry
// never costs a network thread or data.db's writer thread a logs.db commit. Once woken by an
// entry, the thread waits up to kLingerMs for more (unless kMaxBatch are queued or flush() asks),
// so that a steady stream of entries makes a few large transactions rather than many small ones.
//
// The queue is bounded (`capacity` entries): when it is full, append() drops the entry, counts it
// (droppedCount()) and logs a warning (outpost.audit) once per overflow; entries whose batch fails
// to commit are dropped and counted the same way. The destructor writes everything queued. The
// queue is a QueuedLog (queuedlog.h), which says more.
//
// Threads: every method is thread-safe; append() only takes a short lock and never waits for I/O,
// so it is fine on network threads and inside data.db's writer jobs and completions. flush()
// blocks: never call it on a network thread.
class AuditLog
{
public:
    static constexpr qsizetype kDefaultCapacity = 50'000;
    static constexpr qsizetype kMaxBatch = 1000; // entries per transaction
    static constexpr int kLingerMs = 20;

    // Writes one batch; called on the log's thread. An error drops the batch.
    using BatchWriter = std::function<Status(const std::vector<AuditEntry> &)>;

    // Writes to `store`'s logs.db (Store::writeLog), which must outlive this object.
    explicit AuditLog(Store &store, qsizetype capacity = kDefaultCapacity);
    // Hands batches to `writer` instead (tests).
    explicit AuditLog(BatchWriter writer, qsizetype capacity = kDefaultCapacity);
    // Writes everything queued, then stops the thread. Later append()s are dropped and counted.
    ~AuditLog();
    AuditLog(const AuditLog &) = delete;
    AuditLog &operator=(const AuditLog &) = delete;

    void append(AuditEntry entry);
    // All or, when they do not fit, none of them.
    void append(std::vector<AuditEntry> entries);
    // Returns once every entry appended before the call is written (or dropped). Blocks.
    void flush() { m_queue.flush(); }

    // Entries lost since construction: the queue was full, the log had stopped, or a write failed.
    quint64 droppedCount() const { return m_queue.droppedCount(); }
    // Entries committed to logs.db since construction.
    quint64 writtenCount() const { return m_queue.writtenCount(); }

    // PocketBase's timestamp format, "2006-01-02 15:04:05.000Z", of `ms` since the epoch (UTC).
    static QString timestamp(qint64 ms);
    // Inserts `entries` with `db` (inside the caller's transaction).
    static Status insert(Database &db, const std::vector<AuditEntry> &entries);

private:
    QueuedLog<AuditEntry> m_queue;
};

} // namespace Outpost::Store
