#pragma once

#include <functional>

#include "requestcontext.h"

namespace Outpost::Store {
class Store;
}

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
class RecordsController
{
public:
    RecordsController(Data::Collections &collections, const Data::Records &records, Store::Store &store,
                      const Clock &clock);
    void registerRoutes(Router &router) const;

private:
    void list(const Request &request, const Responder &responder) const;
    void view(const Request &request, const Responder &responder) const;
    void create(const Request &request, const Responder &responder) const;
    void update(const Request &request, const Responder &responder) const;
    void remove(const Request &request, const Responder &responder) const;
    void batch(const Request &request, const Responder &responder) const;

    // create() and update(): the route, its rule, the JSON body, then `write` on the writer.
    using RecordWrite
        = std::function<Result<QJsonObject>(Store::Database &, const Data::CollectionSet &, const Data::Collection &,
                                            const QJsonObject &body, const Data::Shape &, const Data::Access &)>;
    void writeRecord(const Request &request, const Responder &responder, RuleOf rule, const RecordWrite &write) const;

    Data::Collections &m_collections;
    const Data::Records &m_records;
    Store::Store &m_store;
    const Clock &m_clock;
};

} // namespace Outpost::Http
