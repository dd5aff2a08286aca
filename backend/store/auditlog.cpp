#include "auditlog.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QLoggingCategory>

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
    : m_queue(std::move(writer),
              QueuedLogOptions {
                  .name = "audit",
                  .category = lcAudit,
                  .capacity = capacity,
                  .maxBatch = kMaxBatch,
                  .lingerMs = kLingerMs,
                  .threadName = "outpost-audit",
              })
{
}

AuditLog::~AuditLog() = default;

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
    m_queue.append(std::move(entry));
}

void AuditLog::append(std::vector<AuditEntry> entries)
{
    m_queue.append(std::move(entries));
}

} // namespace Outpost::Store
