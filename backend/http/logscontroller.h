#pragma once

#include "router.h"

class QThreadPool;

namespace Outpost {
class Clock;
}
namespace Outpost::Store {
class Store;
}

namespace Outpost::Http {

// The audit log, read-only (permission logs:read: superusers, or keys with that scope):
//   GET /api/logs/audit   {page, perPage, totalItems, totalPages, items: [{id, time, actor, action,
//                         target, address, success, details}]}, newest first; page, perPage (default
//                         30, at most 500), sort and filter over those fields (and paths into details,
//                         "details.collection"), skipTotal, as PocketBase lists
// The log is append-only: there are no write routes. The query runs on `pool`: it waits for the
// entries already queued (Store::AuditLog::flush), then reads logs.db.
class LogsController
{
public:
    LogsController(Store::Store &store, const Clock &clock, QThreadPool *pool);
    void registerRoutes(Router &router) const;

private:
    void listAudit(const Request &request, const Responder &responder) const;

    Store::Store &m_store;
    const Clock &m_clock;
    QThreadPool *m_pool;
};

} // namespace Outpost::Http
