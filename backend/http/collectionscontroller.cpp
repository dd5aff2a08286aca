#include "collectionscontroller.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <mutex>

#include "../data/collections.h"
#include "../data/filter.h"
#include "../store/sqlite.h"
#include "clientaddress.h"
#include "listing.h"
#include "openapi.h"
#include "requestcontext.h"

namespace Outpost::Http {

namespace {

// Filters and sorts over `_collections`: its columns, and any other top-level key of the stored
// definition (system, listRule, ...) through json_extract.
class CollectionFieldResolver final : public Data::FieldResolver
{
public:
    Result<Data::ResolvedField> resolve(const QStringList &path) const override
    {
        static const QStringList columns {QStringLiteral("id"), QStringLiteral("name"), QStringLiteral("type"),
                                          QStringLiteral("created"), QStringLiteral("updated")};
        if (path.size() != 1)
            return makeError(ErrorCode::InvalidArgument, QStringLiteral("unknown field \"%1\"").arg(path.join(u'.')));
        if (columns.contains(path.first()))
            return Data::ResolvedField {Data::quoteIdentifier(path.first()).value(), false};
        // An identifier (validated by the filter compiler) inside a fixed literal.
        return Data::ResolvedField {QStringLiteral("json_extract(definition, '$.%1')").arg(path.first()), false};
    }
};

Response collectionResponse(const Result<Data::Collection> &c)
{
    return c ? Response::json(c->toJson()) : Response::fromError(c.error());
}

} // namespace

struct CollectionsController::OpenApiCache
{
    std::mutex mutex;
    std::weak_ptr<const Data::CollectionSet> builtFor; // the snapshot the body describes
    QByteArray body;
};

CollectionsController::CollectionsController(Data::Collections &collections, const Clock &clock,
                                             QThreadPool *blockingPool, QList<QPair<QHostAddress, int>> trustedProxies)
    : m_collections(collections)
    , m_clock(clock)
    , m_pool(blockingPool)
    , m_trustedProxies(std::move(trustedProxies))
    , m_version(QStringLiteral(OUTPOST_VERSION))
    , m_openApi(std::make_shared<OpenApiCache>())
{
}

void CollectionsController::registerRoutes(Router &router) const
{
    router.add(Method::Get, "/api/collections", Policy::needs(Auth::Permission::CollectionsManage),
               [this](const Request &q, const Responder &r) { list(q, r); });
    router.add(Method::Post, "/api/collections", Policy::needs(Auth::Permission::CollectionsManage),
               [this](const Request &q, const Responder &r) { create(q, r); });
    router.add(Method::Get, "/api/collections/{c}", Policy::needs(Auth::Permission::CollectionsManage),
               [this](const Request &q, const Responder &r) { view(q, r); });
    router.add(Method::Patch, "/api/collections/{c}", Policy::needs(Auth::Permission::CollectionsManage),
               [this](const Request &q, const Responder &r) { update(q, r); });
    router.add(Method::Delete, "/api/collections/{c}", Policy::needs(Auth::Permission::CollectionsManage),
               [this](const Request &q, const Responder &r) { remove(q, r); });
    router.add(Method::Get, "/api/openapi.json", Policy::needs(Auth::Permission::CollectionsManage),
               [this](const Request &q, const Responder &r) { openApi(q, r); });
}

void CollectionsController::list(const Request &request, const Responder &responder) const
{
    ListParams params;
    if (auto bad = parseListParams(request, 30, 1000, params))
        return responder.send(*bad);
    auto snapshot = m_collections.snapshot();
    if (!snapshot)
        return responder.send(Response::fromError(snapshot.error()));
    const CollectionFieldResolver resolver;
    const TableListing listing {.columns = QStringLiteral("id"),
                                .table = QStringLiteral("_collections"),
                                .resolver = &resolver,
                                .defaultSort = {},
                                .tieBreak = QStringLiteral("name COLLATE NOCASE"),
                                .item = [set = *snapshot](const Store::Statement &row) {
                                    const Data::Collection *c = set->find(row.text(0));
                                    return c ? QJsonValue(c->toJson()) : QJsonValue(QJsonValue::Undefined);
                                }};
    auto page = listTable(*request.reader, listing, params, contextFor(request, m_clock).access.context);
    responder.send(withETag(page ? Response::json(*page) : Response::fromError(page.error()), request));
}

void CollectionsController::view(const Request &request, const Responder &responder) const
{
    auto snapshot = m_collections.snapshot();
    if (!snapshot)
        return responder.send(Response::fromError(snapshot.error()));
    const Data::Collection *c = (*snapshot)->find(request.params.value(0));
    if (!c)
        return responder.send(Response::problem(404, QStringLiteral("The requested resource wasn't found.")));
    responder.send(withETag(Response::json(c->toJson()), request));
}

void CollectionsController::create(const Request &request, const Responder &responder) const
{
    QJsonObject body;
    if (auto bad = parseJsonBody(request, body))
        return responder.send(*bad);
    responder.runBlocking(m_pool, [this, body, actor = auditActor(request, m_trustedProxies)] {
        return collectionResponse(m_collections.create(body, actor));
    });
}

void CollectionsController::update(const Request &request, const Responder &responder) const
{
    QJsonObject body;
    if (auto bad = parseJsonBody(request, body))
        return responder.send(*bad);
    responder.runBlocking(m_pool,
                          [this, body, id = request.params.value(0), actor = auditActor(request, m_trustedProxies)] {
                              return collectionResponse(m_collections.update(id, body, actor));
                          });
}

void CollectionsController::remove(const Request &request, const Responder &responder) const
{
    responder.runBlocking(m_pool, [this, id = request.params.value(0), actor = auditActor(request, m_trustedProxies)] {
        const Status s = m_collections.remove(id, actor);
        return s ? Response::empty(204) : Response::fromError(s.error());
    });
}

void CollectionsController::openApi(const Request &request, const Responder &responder) const
{
    // Superusers only: the document describes every collection, field and rule.
    auto snapshot = m_collections.snapshot();
    if (!snapshot)
        return responder.send(Response::fromError(snapshot.error()));
    {
        std::lock_guard lock(m_openApi->mutex);
        if (m_openApi->builtFor.lock() == *snapshot)
            return responder.send(withETag(Response {200, "application/json", m_openApi->body, {}}, request));
    }
    // A large schema takes tens of milliseconds to describe: not on the network thread. The server
    // URL is "/", relative to where the document was fetched (OpenAPI 3.1 §4.8.5), so the same
    // document serves HTTP, HTTPS and any host name.
    responder.runBlocking(m_pool, [cache = m_openApi, set = *snapshot, version = m_version, request] {
        const QByteArray body
            = QJsonDocument(buildOpenApiDocument(set->all(), QString(), version)).toJson(QJsonDocument::Compact);
        {
            std::lock_guard lock(cache->mutex);
            cache->builtFor = set;
            cache->body = body;
        }
        return withETag(Response {200, "application/json", body, {}}, request);
    });
}

} // namespace Outpost::Http
