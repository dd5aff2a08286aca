#pragma once

#include <QHostAddress>
#include <QList>
#include <QPair>
#include <functional>

#include "../store/auditlog.h"
#include "requestcontext.h"

class QThreadPool;

namespace Outpost::Store {
class Store;
}
namespace Outpost::Auth {
class AppUsers;
class Sessions;
} // namespace Outpost::Auth

namespace Outpost::Http {

// PocketBase's record API over base collections:
//   GET    /api/collections/{c}/records         list (page, perPage, sort, filter, fields, expand, skipTotal)
//   POST   /api/collections/{c}/records         create
//   GET    /api/collections/{c}/records/{id}    view (fields, expand)
//   PATCH  /api/collections/{c}/records/{id}    update
//   DELETE /api/collections/{c}/records/{id}    delete (204)
//   POST   /api/batch                           several creates/updates/upserts/deletes, all or nothing
// Reads run on the network thread with its own reader. Writes are queued to the store's writer
// (Store::submitWrite), which groups concurrent writes into one transaction and one fsync; the
// answer is posted back when the group has committed, so a 2xx means the change is durable.
//
// Records of auth collections (accounts) are written on `passwordPool` instead: the password is
// checked against the password rules (and, for a user changing their own, against `oldPassword`)
// and hashed there (Auth::AppUsers::prepareWrite). A password change ends every other session of
// the account in the same transaction (the caller's own session, when it is the account's, stays).
//
// Every committed create, update and delete (batches too, and the changes a delete's relations make
// to other records) is audited, one entry per record (Data::auditEntries), with the caller's label
// and its client address as `trustedProxies` resolve it. A failed or rolled-back write is not.
class RecordsController
{
public:
    RecordsController(Data::Collections &collections, const Data::Records &records, Store::Store &store,
                      const Clock &clock, const Auth::AppUsers &users, const Auth::Sessions &sessions,
                      QThreadPool *passwordPool, QList<QPair<QHostAddress, int>> trustedProxies = {});
    void registerRoutes(Router &router) const;

private:
    void list(const Request &request, const Responder &responder) const;
    void view(const Request &request, const Responder &responder) const;
    void create(const Request &request, const Responder &responder) const;
    void update(const Request &request, const Responder &responder) const;
    void remove(const Request &request, const Responder &responder) const;
    void batch(const Request &request, const Responder &responder) const;

    // create() and update(): the route, its rule, the JSON body, then `write` on the writer.
    using RecordWrite = std::function<Result<QJsonObject>(
        Store::Database &, const Data::CollectionSet &, const Data::Collection &, const QJsonObject &body,
        const Data::Shape &, const Data::Access &, Data::RecordChanges *)>;
    void writeRecord(const Request &request, const Responder &responder, RuleOf rule, const RecordWrite &write) const;
    void writeAccount(const Request &request, const Responder &responder, CollectionRoute route,
                      const QJsonObject &body, const RecordWrite &write) const;
    // Queues the audit entries of committed `changes`; any thread.
    void audit(const Store::AuditActor &actor, const Data::RecordChanges &changes) const;

    Data::Collections &m_collections;
    const Data::Records &m_records;
    Store::Store &m_store;
    const Clock &m_clock;
    const Auth::AppUsers &m_users;
    const Auth::Sessions &m_sessions;
    QThreadPool *m_pool;
    QList<QPair<QHostAddress, int>> m_trustedProxies;
};

} // namespace Outpost::Http
