#pragma once

#include <QHostAddress>
#include <QList>
#include <QPair>
#include <memory>

#include "router.h"

class QThreadPool;

namespace Outpost {
class Clock;
}
namespace Outpost::Data {
class Collections;
}

namespace Outpost::Http {

// PocketBase's collections API, for superusers only:
//   GET    /api/collections                    list (page, perPage, filter, sort over id, name, type,
//                                              system, created, updated)
//   POST   /api/collections                    create (200 with the collection)
//   GET    /api/collections/{idOrName}         view
//   PATCH  /api/collections/{idOrName}         update (schema changes with data; see Collections)
//   DELETE /api/collections/{idOrName}         delete (204)
//   GET    /api/openapi.json                   the OpenAPI 3.1 document of the live schema (built on
//                                              `blockingPool` once per schema change, then cached)
// Writes change the schema and wait for the writer: they run on `blockingPool`. Data::Collections
// audits them with the caller's label and client address (as `trustedProxies` resolve it).
class CollectionsController
{
public:
    CollectionsController(Data::Collections &collections, const Clock &clock, QThreadPool *blockingPool,
                          QList<QPair<QHostAddress, int>> trustedProxies = {});
    void registerRoutes(Router &router) const;

private:
    void list(const Request &request, const Responder &responder) const;
    void view(const Request &request, const Responder &responder) const;
    void create(const Request &request, const Responder &responder) const;
    void update(const Request &request, const Responder &responder) const;
    void remove(const Request &request, const Responder &responder) const;
    void openApi(const Request &request, const Responder &responder) const;

    Data::Collections &m_collections;
    const Clock &m_clock;
    QThreadPool *m_pool;
    QList<QPair<QHostAddress, int>> m_trustedProxies;
    QString m_version;
    struct OpenApiCache;
    std::shared_ptr<OpenApiCache> m_openApi;
};

} // namespace Outpost::Http
