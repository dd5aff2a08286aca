#include "collectionscontroller.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <mutex>

#include "../data/collections.h"
#include "../data/filter.h"
#include "../store/sqlite.h"
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

Result<QString> collectionOrder(const QString &sort, const CollectionFieldResolver &resolver)
{
    QStringList terms;
    for (QString item : sort.split(u',', Qt::SkipEmptyParts)) {
        item = item.trimmed();
        const bool descending = item.startsWith(u'-');
        if (descending || item.startsWith(u'+'))
            item = item.mid(1);
        if (!Data::isValidIdentifier(item))
            return makeError(ErrorCode::InvalidArgument, QStringLiteral("Invalid sort field \"%1\".").arg(item));
        auto resolved = resolver.resolve({item});
        if (!resolved)
            return resolved.error();
        terms.append(resolved->sqlExpression + (descending ? QStringLiteral(" DESC") : QString()));
    }
    terms.append(QStringLiteral("name COLLATE NOCASE"));
    return QString(QStringLiteral(" ORDER BY ") + terms.join(u','));
}

std::optional<Response> positiveInt(const Request &request, const QString &name, int fallback, int &out)
{
    out = fallback;
    const QString text = request.query.queryItemValue(name, QUrl::FullyDecoded).trimmed();
    if (text.isEmpty())
        return std::nullopt;
    bool ok = false;
    const int value = text.toInt(&ok);
    if (!ok)
        return Response::problem(400,
                                 QStringLiteral("The %1 parameter must be an integer, not \"%2\".").arg(name, text));
    if (value > 0)
        out = value;
    return std::nullopt;
}

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
                                             QThreadPool *blockingPool)
    : m_collections(collections)
    , m_clock(clock)
    , m_pool(blockingPool)
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
    int page = 1, perPage = 30;
    if (auto bad = positiveInt(request, QStringLiteral("page"), 1, page))
        return responder.send(*bad);
    if (auto bad = positiveInt(request, QStringLiteral("perPage"), 30, perPage))
        return responder.send(*bad);
    perPage = qMin(perPage, 1000);
    const CollectionFieldResolver resolver;
    QString where;
    QVariantList params;
    const QString filter = request.query.queryItemValue(QStringLiteral("filter"), QUrl::FullyDecoded);
    if (!filter.trimmed().isEmpty()) {
        const RequestContext context = contextFor(request, m_clock);
        auto compiled = Data::compileFilter(filter, resolver, context.access.context);
        if (!compiled)
            return responder.send(
                Response::problem(400, QStringLiteral("Invalid filter: %1").arg(compiled.error().message)));
        where = QStringLiteral(" WHERE ") + compiled->sql;
        params = compiled->params;
    }
    auto order = collectionOrder(request.query.queryItemValue(QStringLiteral("sort"), QUrl::FullyDecoded), resolver);
    if (!order)
        return responder.send(Response::fromError(order.error()));
    Store::Database &db = *request.reader;
    auto s = db.prepare(
        (QStringLiteral("SELECT id FROM _collections") + where + *order + QStringLiteral(" LIMIT ? OFFSET ?"))
            .toUtf8()
            .constData());
    if (!s)
        return responder.send(Response::fromError(s.error()));
    for (qsizetype i = 0; i < params.size(); ++i)
        s->bind(int(i) + 1, params[i]);
    s->bind(int(params.size()) + 1, qint64(perPage)).bind(int(params.size()) + 2, qint64(page - 1) * perPage);
    auto snapshot = m_collections.snapshot();
    if (!snapshot)
        return responder.send(Response::fromError(snapshot.error()));
    QJsonArray items;
    for (;;) {
        auto row = s->step();
        if (!row)
            return responder.send(Response::fromError(row.error()));
        if (!*row)
            break;
        if (const Data::Collection *c = (*snapshot)->find(s->text(0)))
            items.append(c->toJson());
    }
    auto count = db.prepare((QStringLiteral("SELECT COUNT(*) FROM _collections") + where).toUtf8().constData());
    if (!count)
        return responder.send(Response::fromError(count.error()));
    for (qsizetype i = 0; i < params.size(); ++i)
        count->bind(int(i) + 1, params[i]);
    auto row = count->step();
    if (!row)
        return responder.send(Response::fromError(row.error()));
    const qint64 total = count->int64(0);
    responder.send(withETag(Response::json(QJsonObject {{QStringLiteral("page"), page},
                                                        {QStringLiteral("perPage"), perPage},
                                                        {QStringLiteral("totalItems"), total},
                                                        {QStringLiteral("totalPages"), (total + perPage - 1) / perPage},
                                                        {QStringLiteral("items"), items}}),
                            request));
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
    responder.runBlocking(m_pool, [this, body] { return collectionResponse(m_collections.create(body)); });
}

void CollectionsController::update(const Request &request, const Responder &responder) const
{
    QJsonObject body;
    if (auto bad = parseJsonBody(request, body))
        return responder.send(*bad);
    responder.runBlocking(m_pool, [this, body, id = request.params.value(0)] {
        return collectionResponse(m_collections.update(id, body));
    });
}

void CollectionsController::remove(const Request &request, const Responder &responder) const
{
    responder.runBlocking(m_pool, [this, id = request.params.value(0)] {
        const Status s = m_collections.remove(id);
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
