#pragma once

#include "router.h"

class QThreadPool;

namespace Outpost {
class Clock;
}
namespace Outpost::Store {
class Store;
class RequestLog;
} // namespace Outpost::Store

namespace Outpost::Http {

// The audit log and the request log, read-only (permission logs:read: superusers, or keys with that
// scope):
//   GET /api/logs/audit      {page, perPage, totalItems, totalPages, items: [{id, time, actor, action,
//                            target, address, success, details}]}, newest first; page, perPage (default
//                            30, at most 500), sort and filter over those fields (and paths into details,
//                            "details.collection"), skipTotal, as PocketBase lists
//   GET /api/logs/requests   the same over logs.db's `requests`: items [{id, time, timeMs, method,
//                            path, route, status, durationUs, client, caller, requestId, bytesIn,
//                            bytesOut}], newest (highest id) first; `time` filters and sorts as
//                            PocketBase text like the audit log's, `timeMs` (Unix ms) by the index
// The logs are append-only: there are no write routes. Queries run on `pool`: each waits for the
// entries already queued (AuditLog::flush, RequestLog::flush), then reads logs.db.
class LogsController
{
public:
    // `requestLog` may be null (the request log is off): the request list then shows what is stored.
    LogsController(Store::Store &store, Store::RequestLog *requestLog, const Clock &clock, QThreadPool *pool);
    void registerRoutes(Router &router) const;

private:
    void listAudit(const Request &request, const Responder &responder) const;
    void listRequests(const Request &request, const Responder &responder) const;

    Store::Store &m_store;
    Store::RequestLog *m_requestLog;
    const Clock &m_clock;
    QThreadPool *m_pool;
};

} // namespace Outpost::Http
