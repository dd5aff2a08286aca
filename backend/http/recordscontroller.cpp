#include "recordscontroller.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QThreadPool>
#include <QUrl>
#include <variant>

#include "../auth/appusers.h"
#include "../auth/sessions.h"
#include "../data/collections.h"
#include "../data/records.h"
#include "../store/store.h"
#include "clientaddress.h"
#include "listing.h"
#include "requestcontext.h"

namespace Outpost::Http {

namespace {

constexpr int kMaxBatchRequests = 50;

Response recordResponse(const Result<QJsonObject> &record, int status = 200)
{
    if (!record)
        return Response::fromError(record.error());
    return Response::json(*record, status);
}

// Queues `write` for the store's writer (it runs in the group's transaction) and answers with the
// record it returns once the group has committed, or with the error. What the write changed goes
// to `audit` after the commit, before the answer: a client never sees a change its log lacks.
void submitRecordWrite(Store::Store &store, const Responder &responder,
                       std::function<Result<QJsonObject>(Store::Database &, Data::RecordChanges *)> write,
                       std::function<void(const Data::RecordChanges &)> audit)
{
    struct Outcome
    {
        std::optional<Result<QJsonObject>> record;
        Data::RecordChanges changes;
    };
    auto outcome = std::make_shared<Outcome>();
    store.submitWrite(
        [outcome, write = std::move(write)](Store::Database &db) -> Status {
            outcome->record = write(db, &outcome->changes);
            return *outcome->record ? Status() : Status(outcome->record->error());
        },
        [outcome, responder, audit = std::move(audit)](const Status &status) {
            if (status)
                audit(outcome->changes);
            responder.post(status ? recordResponse(*outcome->record) : Response::fromError(status.error()));
        });
}

} // namespace

RecordsController::RecordsController(Data::Collections &collections, const Data::Records &records, Store::Store &store,
                                     const Clock &clock, const Auth::AppUsers &users, const Auth::Sessions &sessions,
                                     QThreadPool *passwordPool, QList<QPair<QHostAddress, int>> trustedProxies)
    : m_collections(collections)
    , m_records(records)
    , m_store(store)
    , m_clock(clock)
    , m_users(users)
    , m_sessions(sessions)
    , m_pool(passwordPool)
    , m_trustedProxies(std::move(trustedProxies))
{
}

void RecordsController::registerRoutes(Router &router) const
{
    router.add(Method::Get, "/api/collections/{c}/records", Policy::rules(Auth::Permission::RecordsRead),
               [this](const Request &q, const Responder &r) { list(q, r); });
    router.add(Method::Post, "/api/collections/{c}/records", Policy::rules(Auth::Permission::RecordsWrite),
               [this](const Request &q, const Responder &r) { create(q, r); });
    router.add(Method::Get, "/api/collections/{c}/records/{id}", Policy::rules(Auth::Permission::RecordsRead),
               [this](const Request &q, const Responder &r) { view(q, r); });
    router.add(Method::Patch, "/api/collections/{c}/records/{id}", Policy::rules(Auth::Permission::RecordsWrite),
               [this](const Request &q, const Responder &r) { update(q, r); });
    router.add(Method::Delete, "/api/collections/{c}/records/{id}", Policy::rules(Auth::Permission::RecordsWrite),
               [this](const Request &q, const Responder &r) { remove(q, r); });
    router.add(Method::Post, "/api/batch", Policy::rules(Auth::Permission::RecordsWrite),
               [this](const Request &q, const Responder &r) { batch(q, r); });
}

void RecordsController::list(const Request &request, const Responder &responder) const
{
    auto route = openCollectionRoute(m_collections, m_clock, request, responder, Auth::Permission::RecordsRead);
    if (!route)
        return;
    ListParams params;
    if (auto bad = parseListParams(request, Data::kDefaultPerPage, Data::kMaxPerPage, params))
        return responder.send(*bad);
    Data::ListQuery query;
    query.page = params.page;
    query.perPage = params.perPage;
    query.sort = params.sort;
    query.filter = params.filter;
    query.skipTotal = params.skipTotal;
    query.shape = shapeOf(request);
    auto result = m_records.list(*request.reader, *route->snapshot, *route->collection, query, route->context.access);
    responder.send(withETag(recordResponse(result), request));
}

void RecordsController::view(const Request &request, const Responder &responder) const
{
    auto route = openCollectionRoute(m_collections, m_clock, request, responder, Auth::Permission::RecordsRead);
    if (!route)
        return;
    auto json = m_records.viewJson(*request.reader, *route->snapshot, *route->collection, request.params.value(1),
                                   shapeOf(request), route->context.access);
    responder.send(withETag(json ? Response::json(*json) : Response::fromError(json.error()), request));
}

void RecordsController::writeRecord(const Request &request, const Responder &responder, RuleOf rule,
                                    const RecordWrite &write) const
{
    auto route = openCollectionRoute(m_collections, m_clock, request, responder, Auth::Permission::RecordsWrite, rule);
    if (!route)
        return;
    QJsonObject body;
    if (auto bad = parseJsonBody(request, body))
        return responder.send(*bad);
    route->context.access.context.body = body; // what rules see as @request.body
    if (route->collection->type == u"auth")
        return writeAccount(request, responder, std::move(*route), body, write);
    // The snapshot travels with the job and keeps the collection it points into alive.
    submitRecordWrite(
        m_store, responder,
        [write, set = route->snapshot, c = route->collection, body, shape = shapeOf(request),
         access = route->context.access](Store::Database &db, Data::RecordChanges *changes) {
            return write(db, *set, *c, body, shape, access, changes);
        },
        [this, actor = auditActor(request, m_trustedProxies)](const Data::RecordChanges &changes) {
            audit(actor, changes);
        });
}

void RecordsController::audit(const Store::AuditActor &actor, const Data::RecordChanges &changes) const
{
    if (!changes.isEmpty())
        m_store.auditLog().append(Data::auditEntries(changes, actor, m_clock.nowMs()));
}

void RecordsController::writeAccount(const Request &request, const Responder &responder, CollectionRoute route,
                                     const QJsonObject &body, const RecordWrite &write) const
{
    const Caller &caller = request.caller;
    const QString recordId = request.method == Method::Post ? QString() : request.params.value(1);
    // The caller's own session survives their password change; every other one ends.
    const QString keep
        = caller.kind == Caller::Kind::User && caller.id == recordId && caller.collection == route.collection->name
        ? caller.sessionId
        : QString();
    const Auth::AppUsers::Writer writer {route.context.access.superuser};
    const Store::AuditActor actor = auditActor(request, m_trustedProxies);
    responder.runBlocking(
        m_pool, [this, route = std::move(route), body, write, writer, recordId, keep, shape = shapeOf(request), actor] {
            auto prepared = m_users.prepareWrite(*route.collection, body, writer, recordId);
            if (!prepared)
                return Response::fromError(prepared.error());
            Result<QJsonObject> written = makeError(ErrorCode::Internal, QStringLiteral("not written"));
            Data::RecordChanges changes;
            int sessionsEnded = 0;
            Status s = m_store.write([&](Store::Database &db) -> Status {
                written = write(db, *route.snapshot, *route.collection, prepared->body, shape, route.context.access,
                                &changes);
                if (!written)
                    return written.error();
                if (!prepared->passwordChanged)
                    return {};
                auto ended = m_sessions.revokeAccount(db, route.collection->id, recordId, keep,
                                                      QStringLiteral("password_change"));
                if (!ended)
                    return ended.error();
                sessionsEnded = *ended;
                return {};
            });
            if (!s)
                return Response::fromError(s.error());
            audit(actor, changes); // committed
            if (prepared->passwordChanged) // the record change leaves the password out: say it here
                m_store.auditLog().append(
                    Store::AuditEntry {m_clock.nowMs(), actor.label, QStringLiteral("auth.password_change"),
                                       route.collection->name + u'/' + recordId, actor.address, true,
                                       QJsonObject {{QStringLiteral("sessionsEnded"), sessionsEnded}}});
            return recordResponse(written);
        });
}

void RecordsController::create(const Request &request, const Responder &responder) const
{
    writeRecord(
        request, responder, &Data::Collection::createRule,
        [this](Store::Database &db, const Data::CollectionSet &set, const Data::Collection &c, const QJsonObject &body,
               const Data::Shape &shape, const Data::Access &access,
               Data::RecordChanges *changes) { return m_records.create(db, set, c, body, shape, access, changes); });
}

void RecordsController::update(const Request &request, const Responder &responder) const
{
    writeRecord(request, responder, &Data::Collection::updateRule,
                [this, id = request.params.value(1)](Store::Database &db, const Data::CollectionSet &set,
                                                     const Data::Collection &c, const QJsonObject &body,
                                                     const Data::Shape &shape, const Data::Access &access,
                                                     Data::RecordChanges *changes) {
                    return m_records.update(db, set, c, id, body, shape, access, changes);
                });
}

void RecordsController::remove(const Request &request, const Responder &responder) const
{
    auto route = openCollectionRoute(m_collections, m_clock, request, responder, Auth::Permission::RecordsWrite,
                                     &Data::Collection::deleteRule);
    if (!route)
        return;
    auto changes = std::make_shared<Data::RecordChanges>();
    m_store.submitWrite(
        [this, set = route->snapshot, c = route->collection, id = request.params.value(1),
         access = route->context.access,
         changes](Store::Database &db) -> Status { return m_records.remove(db, *set, *c, id, access, changes.get()); },
        [this, responder, changes, actor = auditActor(request, m_trustedProxies)](const Status &status) {
            if (status)
                audit(actor, *changes);
            responder.post(status ? Response::empty(204) : Response::fromError(status.error()));
        });
}

namespace {

// One parsed entry of a batch.
struct BatchItem
{
    enum class Action { Create, Update, Upsert, Delete } action = Action::Create;
    QString collection;
    QString id;
    QJsonObject body;
    Data::Shape shape;
};

std::optional<QString> parseBatchItem(const QJsonValue &value, BatchItem &item)
{
    static const QRegularExpression route(QStringLiteral("^/api/collections/([^/?#]+)/records(?:/([^/?#]+))?/?$"));
    const QJsonObject object = value.toObject();
    const QString method = object.value(u"method").toString().toUpper();
    const QUrl url(object.value(u"url").toString());
    const auto m = route.match(url.path(QUrl::FullyDecoded));
    if (!value.isObject() || !m.hasMatch())
        return QStringLiteral("the url must be /api/collections/{collection}/records[/{id}]");
    item.collection = m.captured(1);
    item.id = m.captured(2);
    item.body = object.value(u"body").toObject();
    const QUrlQuery query(url);
    item.shape = {query.queryItemValue(QStringLiteral("fields"), QUrl::FullyDecoded),
                  query.queryItemValue(QStringLiteral("expand"), QUrl::FullyDecoded)};
    if (method == u"POST" && item.id.isEmpty())
        item.action = BatchItem::Action::Create;
    else if (method == u"PUT" && item.id.isEmpty())
        item.action = BatchItem::Action::Upsert;
    else if (method == u"PATCH" && !item.id.isEmpty())
        item.action = BatchItem::Action::Update;
    else if (method == u"DELETE" && !item.id.isEmpty())
        item.action = BatchItem::Action::Delete;
    else
        return QStringLiteral(
                   "unsupported method %1 for this url (POST/PUT .../records, PATCH/DELETE .../records/{id})")
            .arg(method.isEmpty() ? QStringLiteral("(none)") : method);
    return std::nullopt;
}

// PocketBase's SDK sends a batch as multipart/form-data whose "@jsonPayload" part holds the JSON
// ({"requests": [...]}); other parts are files ("requests.N.field"), which Outpost does not take.
// Returns the JSON bytes, or a 400 response.
std::variant<QByteArray, Response> batchPayload(const Request &request)
{
    const QByteArray type = request.header("content-type").trimmed();
    if (!type.toLower().startsWith("multipart/form-data"))
        return request.body;
    QByteArray boundary;
    for (const QByteArray &param : type.split(';')) {
        const QByteArray p = param.trimmed();
        if (p.toLower().startsWith("boundary="))
            boundary = p.mid(9);
    }
    if (boundary.size() >= 2 && boundary.startsWith('"') && boundary.endsWith('"'))
        boundary = boundary.mid(1, boundary.size() - 2);
    if (boundary.isEmpty())
        return Response::problem(400, QStringLiteral("The multipart body has no boundary."));
    const QByteArray delimiter = "--" + boundary;
    const QByteArray separator = "\r\n" + delimiter;
    std::optional<QByteArray> payload;
    qsizetype at = request.body.indexOf(delimiter);
    while (at >= 0) {
        at += delimiter.size();
        if (request.body.mid(at, 2) == "--")
            break; // the closing delimiter
        const qsizetype next = request.body.indexOf(separator, at);
        if (next < 0)
            break;
        const QByteArray part = request.body.mid(at, next - at);
        const qsizetype headEnd = part.indexOf("\r\n\r\n");
        if (headEnd < 0)
            return Response::problem(400, QStringLiteral("A multipart part has no header end."));
        if (!part.left(headEnd).toLower().contains("name=\"@jsonpayload\""))
            return Response::problem(400, QStringLiteral("File uploads in batch requests are not supported."));
        payload = part.mid(headEnd + 4);
        at = next + 2;
    }
    if (!payload)
        return Response::problem(400, QStringLiteral("The multipart batch has no @jsonPayload part."));
    return *payload;
}

QJsonObject problemBody(const Response &response)
{
    return QJsonDocument::fromJson(response.body).object();
}

} // namespace

void RecordsController::batch(const Request &request, const Responder &responder) const
{
    auto payload = batchPayload(request);
    if (auto *bad = std::get_if<Response>(&payload))
        return responder.send(*bad);
    Request json = request;
    json.body = std::get<QByteArray>(payload);
    if (request.header("content-type").trimmed().toLower().startsWith("multipart/form-data"))
        json.headers.removeIf([](const auto &h) { return h.first.toLower() == "content-type"; });
    QJsonObject body;
    if (auto bad = parseJsonBody(json, body))
        return responder.send(*bad);
    const QJsonArray requests = body.value(u"requests").toArray();
    if (requests.isEmpty())
        return responder.send(Response::problem(
            400, QStringLiteral("The batch needs a non-empty \"requests\" array."),
            QJsonObject {{QStringLiteral("requests"),
                          QJsonObject {{QStringLiteral("code"), QStringLiteral("validation_required")},
                                       {QStringLiteral("message"), QStringLiteral("Cannot be blank.")}}}}));
    if (requests.size() > kMaxBatchRequests)
        return responder.send(Response::problem(400,
                                                QStringLiteral("A batch holds at most %1 requests; this one has %2.")
                                                    .arg(kMaxBatchRequests)
                                                    .arg(requests.size())));
    QList<BatchItem> items;
    for (qsizetype i = 0; i < requests.size(); ++i) {
        BatchItem item;
        if (auto error = parseBatchItem(requests[i], item))
            return responder.send(Response::problem(
                400, QStringLiteral("Batch request %1: %2.").arg(i).arg(*error),
                QJsonObject {{QStringLiteral("requests.%1").arg(i),
                              QJsonObject {{QStringLiteral("code"), QStringLiteral("batch_request_invalid")},
                                           {QStringLiteral("message"), *error}}}}));
        items.append(std::move(item));
    }
    auto snapshot = m_collections.snapshot();
    if (!snapshot)
        return responder.send(Response::fromError(snapshot.error()));
    for (const BatchItem &item : std::as_const(items)) {
        // A key needs records:write on every collection the batch touches, checked up front.
        const Data::Collection *target = (*snapshot)->find(item.collection);
        if (auto refused
            = checkKeyScope(request, Auth::Permission::RecordsWrite, target ? target->name : item.collection))
            return responder.send(std::move(*refused));
        // Account writes hash passwords and apply the password rules: one at a time, through the
        // record routes (deletes need neither).
        if (target && target->type == u"auth" && item.action != BatchItem::Action::Delete)
            return responder.send(Response::problem(
                400,
                QStringLiteral("Records of the auth collection \"%1\" can only be deleted in a batch; create "
                               "and update accounts through the record API.")
                    .arg(target->name)));
    }
    const RequestContext context = contextFor(request, m_clock, snapshot->get());

    struct Outcome
    {
        QJsonArray results;
        std::optional<Response> failure;
        Data::RecordChanges changes; // of every request, audited only when the whole batch commits
    };
    auto outcome = std::make_shared<Outcome>();
    m_store.submitWrite(
        [this, outcome, set = *snapshot, items, access = context.access](Store::Database &db) -> Status {
            for (qsizetype i = 0; i < items.size(); ++i) {
                const BatchItem &item = items[i];
                Data::Access itemAccess = access;
                itemAccess.context.body = item.body;
                Response response;
                const Data::Collection *c = set->find(item.collection);
                if (!c) {
                    response = missingCollection();
                } else {
                    BatchItem::Action action = item.action;
                    QString id = item.id;
                    if (action == BatchItem::Action::Upsert) {
                        id = item.body.value(u"id").toString();
                        Data::Access probe = itemAccess;
                        probe.superuser = true;
                        const bool exists = !id.isEmpty() && m_records.view(db, *set, *c, id, {}, probe).ok();
                        action = exists ? BatchItem::Action::Update : BatchItem::Action::Create;
                    }
                    switch (action) {
                    case BatchItem::Action::Create:
                        response = recordResponse(
                            m_records.create(db, *set, *c, item.body, item.shape, itemAccess, &outcome->changes));
                        break;
                    case BatchItem::Action::Update:
                        response = recordResponse(
                            m_records.update(db, *set, *c, id, item.body, item.shape, itemAccess, &outcome->changes));
                        break;
                    case BatchItem::Action::Delete: {
                        const Status s = m_records.remove(db, *set, *c, id, itemAccess, &outcome->changes);
                        response = s ? Response::empty(204) : Response::fromError(s.error());
                        break;
                    }
                    case BatchItem::Action::Upsert:
                        break;
                    }
                }
                if (response.status >= 400) {
                    QJsonObject failed {{QStringLiteral("code"), QStringLiteral("batch_request_failed")},
                                        {QStringLiteral("message"), QStringLiteral("Batch request %1 failed.").arg(i)},
                                        {QStringLiteral("response"), problemBody(response)}};
                    outcome->failure = Response::problem(
                        400,
                        QStringLiteral("Batch transaction failed: request %1 (%2) answered %3: %4")
                            .arg(i)
                            .arg(item.collection)
                            .arg(response.status)
                            .arg(problemBody(response).value(u"message").toString()),
                        QJsonObject {{QStringLiteral("requests"), QJsonObject {{QString::number(i), failed}}}});
                    // Any error makes the store roll back every request of the batch.
                    return makeError(ErrorCode::InvalidArgument, QStringLiteral("batch failed"));
                }
                QJsonObject result {{QStringLiteral("status"), response.status}};
                result.insert(QStringLiteral("body"),
                              response.body.isEmpty() ? QJsonValue(QJsonValue::Null)
                                                      : QJsonValue(QJsonDocument::fromJson(response.body).object()));
                outcome->results.append(result);
            }
            return {};
        },
        [this, outcome, responder, actor = auditActor(request, m_trustedProxies)](const Status &status) {
            if (status) {
                audit(actor, outcome->changes);
                Response r {
                    200, "application/json", QJsonDocument(outcome->results).toJson(QJsonDocument::Compact), {}};
                return responder.post(std::move(r));
            }
            responder.post(outcome->failure ? *outcome->failure : Response::fromError(status.error()));
        });
}

} // namespace Outpost::Http
