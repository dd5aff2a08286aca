#include "logscontroller.h"

#include <QHash>
#include <QJsonDocument>

#include "../store/auditlog.h"
#include "../store/requestlog.h"
#include "../store/store.h"
#include "listing.h"
#include "requestcontext.h"

namespace Outpost::Http {

namespace {

constexpr int kDefaultPerPage = 30;
constexpr int kMaxPerPage = 500; // PocketBase's cap

// Filters and sorts over audit_log's columns, and paths into `details` ("details.collection",
// "details.after.title").
class AuditFieldResolver final : public Data::FieldResolver
{
public:
    Result<Data::ResolvedField> resolve(const QStringList &path) const override
    {
        static const QStringList columns {QStringLiteral("id"),     QStringLiteral("time"),   QStringLiteral("actor"),
                                          QStringLiteral("action"), QStringLiteral("target"), QStringLiteral("address"),
                                          QStringLiteral("success")};
        if (path.size() > 1 && path.first() == u"details")
            // Identifiers only (the filter compiler and the sort parser check every element), so
            // they are safe inside the fixed literal.
            return Data::ResolvedField {QStringLiteral("json_extract(\"details\", '$.%1')").arg(path.mid(1).join(u'.')),
                                        false};
        if (path.size() != 1 || !columns.contains(path.first()))
            return makeError(ErrorCode::InvalidArgument, QStringLiteral("unknown field \"%1\"").arg(path.join(u'.')));
        return Data::ResolvedField {Data::quoteIdentifier(path.first()).value(), false};
    }
};

QJsonValue auditEntry(const Store::Statement &row)
{
    return QJsonObject {{QStringLiteral("id"), row.int64(0)},
                        {QStringLiteral("time"), row.text(1)},
                        {QStringLiteral("actor"), row.text(2)},
                        {QStringLiteral("action"), row.text(3)},
                        {QStringLiteral("target"), row.text(4)},
                        {QStringLiteral("address"), row.text(5)},
                        {QStringLiteral("success"), row.int64(6) != 0},
                        {QStringLiteral("details"), QJsonDocument::fromJson(row.blob(7)).object()}};
}

// The request log's fields as its items name them, and the SQL each stands for. `time` is shown
// as PocketBase text, so it filters as text too (like the audit log's: `time >= @todayStart`);
// `timeMs` is the indexed column itself, for ranges over large logs.
class RequestFieldResolver final : public Data::FieldResolver
{
public:
    Result<Data::ResolvedField> resolve(const QStringList &path) const override
    {
        static const QHash<QString, QString> columns {
            {QStringLiteral("id"), QStringLiteral("\"id\"")},
            {QStringLiteral("time"), QStringLiteral("strftime('%Y-%m-%d %H:%M:%fZ', \"time\" / 1000.0, 'unixepoch')")},
            {QStringLiteral("timeMs"), QStringLiteral("\"time\"")},
            {QStringLiteral("method"), QStringLiteral("\"method\"")},
            {QStringLiteral("path"), QStringLiteral("\"path\"")},
            {QStringLiteral("route"), QStringLiteral("\"route\"")},
            {QStringLiteral("status"), QStringLiteral("\"status\"")},
            {QStringLiteral("durationUs"), QStringLiteral("\"duration_us\"")},
            {QStringLiteral("client"), QStringLiteral("\"client\"")},
            {QStringLiteral("caller"), QStringLiteral("\"caller\"")},
            {QStringLiteral("requestId"), QStringLiteral("\"request_id\"")},
            {QStringLiteral("bytesIn"), QStringLiteral("\"bytes_in\"")},
            {QStringLiteral("bytesOut"), QStringLiteral("\"bytes_out\"")},
        };
        const auto it = path.size() == 1 ? columns.constFind(path.first()) : columns.constEnd();
        if (it == columns.constEnd())
            return makeError(ErrorCode::InvalidArgument, QStringLiteral("unknown field \"%1\"").arg(path.join(u'.')));
        return Data::ResolvedField {*it, false};
    }
};

QJsonValue requestEntry(const Store::Statement &row)
{
    return QJsonObject {
        {QStringLiteral("id"), row.int64(0)},       {QStringLiteral("time"), Store::AuditLog::timestamp(row.int64(1))},
        {QStringLiteral("timeMs"), row.int64(1)},   {QStringLiteral("method"), row.text(2)},
        {QStringLiteral("path"), row.text(3)},      {QStringLiteral("route"), row.text(4)},
        {QStringLiteral("status"), row.int64(5)},   {QStringLiteral("durationUs"), row.int64(6)},
        {QStringLiteral("client"), row.text(7)},    {QStringLiteral("caller"), row.text(8)},
        {QStringLiteral("requestId"), row.text(9)}, {QStringLiteral("bytesIn"), row.int64(10)},
        {QStringLiteral("bytesOut"), row.int64(11)}};
}

} // namespace

LogsController::LogsController(Store::Store &store, Store::RequestLog *requestLog, const Clock &clock,
                               QThreadPool *pool)
    : m_store(store)
    , m_requestLog(requestLog)
    , m_clock(clock)
    , m_pool(pool)
{
}

void LogsController::registerRoutes(Router &router) const
{
    router.add(Method::Get, "/api/logs/audit", Policy::needs(Auth::Permission::LogsRead),
               [this](const Request &q, const Responder &r) { listAudit(q, r); });
    router.add(Method::Get, "/api/logs/requests", Policy::needs(Auth::Permission::LogsRead),
               [this](const Request &q, const Responder &r) { listRequests(q, r); });
}

void LogsController::listAudit(const Request &request, const Responder &responder) const
{
    ListParams params;
    if (auto bad = parseListParams(request, kDefaultPerPage, kMaxPerPage, params))
        return responder.send(*bad);
    responder.runBlocking(m_pool, [this, params, context = contextFor(request, m_clock).access.context] {
        // Entries are queued before the change they record is answered: waiting for the queue
        // makes every change a client has seen an answer to visible here.
        m_store.auditLog().flush();
        static const AuditFieldResolver resolver;
        const TableListing listing {
            .columns = QStringLiteral("id, time, actor, action, target, address, success, details"),
            .table = QStringLiteral("audit_log"),
            .resolver = &resolver,
            .defaultSort = QStringLiteral("-time,-id"),
            .tieBreak = QStringLiteral("id DESC"),
            .item = auditEntry,
        };
        Result<QJsonObject> page = QJsonObject();
        const Status read = m_store.readLog([&](Store::Database &db) -> Status {
            page = listTable(db, listing, params, context);
            return page ? Status() : Status(page.error());
        });
        return read ? Response::json(*page) : Response::fromError(read.error());
    });
}

void LogsController::listRequests(const Request &request, const Responder &responder) const
{
    ListParams params;
    if (auto bad = parseListParams(request, kDefaultPerPage, kMaxPerPage, params))
        return responder.send(*bad);
    responder.runBlocking(m_pool, [this, params, context = contextFor(request, m_clock).access.context] {
        // A request's entry is queued just after its answer is written: waiting for the queue shows
        // every request answered before this one (but those whose entry is still being queued).
        if (m_requestLog)
            m_requestLog->flush();
        static const RequestFieldResolver resolver;
        const TableListing listing {
            .columns = QStringLiteral("id, time, method, path, route, status, duration_us, client, caller, "
                                      "request_id, bytes_in, bytes_out"),
            .table = QStringLiteral("requests"),
            .resolver = &resolver,
            .defaultSort = QStringLiteral("-id"),
            .tieBreak = QStringLiteral("id DESC"),
            .item = requestEntry,
        };
        Result<QJsonObject> page = QJsonObject();
        const Status read = m_store.readLog([&](Store::Database &db) -> Status {
            page = listTable(db, listing, params, context);
            return page ? Status() : Status(page.error());
        });
        return read ? Response::json(*page) : Response::fromError(read.error());
    });
}

} // namespace Outpost::Http
