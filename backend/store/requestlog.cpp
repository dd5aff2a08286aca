#include "requestlog.h"

#include <QLoggingCategory>

#include "sqlite.h"
#include "store.h"

Q_LOGGING_CATEGORY(lcRequestLog, "outpost.requestlog")

namespace Outpost::Store {

QString RequestEntry::callerLabel() const
{
    switch (callerKind) {
    case CallerKind::Superuser:
        return QStringLiteral("superuser:") + callerId;
    case CallerKind::ApiKey:
        return QStringLiteral("apikey:") + callerId;
    case CallerKind::User:
        return QStringLiteral("user:") + callerCollection + u':' + callerId;
    case CallerKind::Guest:
        break;
    }
    return QStringLiteral("guest");
}

RequestLog::RequestLog(Store &store, qsizetype capacity)
    : RequestLog(
        [&store](const std::vector<RequestEntry> &entries) {
            return store.writeLog([&entries](Database &db) { return insert(db, entries); });
        },
        capacity)
{
}

RequestLog::RequestLog(BatchWriter writer, qsizetype capacity)
    : m_queue(std::move(writer),
              QueuedLogOptions {
                  .name = "request log",
                  .category = lcRequestLog,
                  .capacity = capacity,
                  .maxBatch = kMaxBatch,
                  .lingerMs = kLingerMs,
              })
{
}

RequestLog::~RequestLog() = default;

Status RequestLog::insert(Database &db, const std::vector<RequestEntry> &entries)
{
    Statement *insert = db.cached("INSERT INTO requests(time, method, path, route, status, duration_us, client, "
                                  "caller, request_id, bytes_in, bytes_out) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert)
        return db.lastError(QStringLiteral("prepare request log insert"));
    // Statement::bind(QByteArray) binds a BLOB, which a STRICT TEXT column refuses: text goes as
    // QString. Paths are percent-encoded ASCII, except what a client sent raw (shown as U+FFFD).
    for (const RequestEntry &e : entries) {
        if (auto s = insert->bind(1, e.timeMs)
                         .bind(2, QString::fromLatin1(e.method))
                         .bind(3, QString::fromUtf8(e.path))
                         .bind(4, QString::fromUtf8(e.route))
                         .bind(5, e.status)
                         .bind(6, e.durationUs)
                         .bind(7, e.client.isNull() ? QString() : e.client.toString())
                         .bind(8, e.callerLabel())
                         .bind(9, QString::fromLatin1(e.requestId))
                         .bind(10, e.bytesIn)
                         .bind(11, e.bytesOut)
                         .run();
            !s)
            return s;
    }
    return {};
}

} // namespace Outpost::Store
