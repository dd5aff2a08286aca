#include "requestcontext.h"

#include <QJsonDocument>

namespace Outpost::Http {

namespace {

QJsonObject headersObject(const Request &request)
{
    QJsonObject headers;
    for (const auto &[name, value] : request.headers) {
        QString key = QString::fromLatin1(name).toLower();
        key.replace(u'-', u'_');
        if (!headers.contains(key))
            headers.insert(key, QString::fromUtf8(value));
    }
    return headers;
}

QJsonObject queryObject(const Request &request)
{
    QJsonObject query;
    for (const auto &[key, value] : request.query.queryItems(QUrl::FullyDecoded))
        if (!query.contains(key))
            query.insert(key, value);
    return query;
}

} // namespace

RequestContext contextFor(const Request &request, const Clock &clock, const Data::CollectionSet *schema)
{
    RequestContext context;
    context.access.context.clock = &clock;
    context.sentToken = request.caller.sentToken;
    const Caller::Kind kind = request.caller.kind;
    context.access.superuser = kind == Caller::Kind::Superuser || kind == Caller::Kind::ApiKey;
    if (kind == Caller::Kind::Superuser || kind == Caller::Kind::User)
        context.access.context.auth = request.caller.record;
    if (!schema || schema->rulesUseRequestQuery())
        context.access.context.query = queryObject(request);
    if (!schema || schema->rulesUseRequestHeaders())
        context.access.context.headers = headersObject(request);
    return context;
}

std::optional<Response> checkKeyScope(const Request &request, Auth::Permission permission, const QString &collection)
{
    if (request.caller.kind != Caller::Kind::ApiKey || request.caller.scopes.grants(permission, collection))
        return std::nullopt;
    return Response::problem(403,
                             QStringLiteral("The API key's scopes do not include %1 for the collection \"%2\".")
                                 .arg(Auth::permissionName(permission), collection));
}

std::optional<Response> parseJsonBody(const Request &request, QJsonObject &out)
{
    out = {};
    if (request.body.trimmed().isEmpty())
        return std::nullopt;
    const QByteArray type = request.header("content-type").trimmed().toLower();
    if (!type.isEmpty() && !type.startsWith("application/json") && !type.startsWith("text/plain"))
        return Response::problem(415,
                                 QStringLiteral("Unsupported Content-Type \"%1\": send the record as "
                                                "application/json.")
                                     .arg(QString::fromLatin1(type)));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(request.body, &error);
    if (error.error != QJsonParseError::NoError)
        return Response::problem(400,
                                 QStringLiteral("The request body is not valid JSON: %1 at offset %2.")
                                     .arg(error.errorString())
                                     .arg(error.offset));
    if (!doc.isObject())
        return Response::problem(400, QStringLiteral("The request body must be a JSON object."));
    out = doc.object();
    return std::nullopt;
}

Response withETag(Response response, const Request &request)
{
    if (response.status != 200)
        return response;
    // FNV-1a, 64 bits: cheap, and stable across restarts (qHash is seeded per process).
    quint64 hash = 14695981039346656037ULL;
    for (const char c : std::as_const(response.body)) {
        hash ^= quint8(c);
        hash *= 1099511628211ULL;
    }
    const QByteArray tag = '"' + QByteArray::number(hash, 16).rightJustified(16, '0') + '"';
    const QByteArray ifNoneMatch = request.header("if-none-match");
    if (!ifNoneMatch.isEmpty()) {
        for (QByteArray candidate : ifNoneMatch.split(',')) {
            candidate = candidate.trimmed();
            if (candidate.startsWith("W/"))
                candidate = candidate.mid(2); // weak comparison, RFC 9110 §13.1.2
            if (candidate == tag || candidate == "*") {
                Response notModified = Response::empty(304);
                notModified.withHeader("ETag", tag);
                return notModified;
            }
        }
    }
    response.withHeader("ETag", tag);
    return response;
}

Response missingCollection()
{
    return Response::problem(404, QStringLiteral("Missing collection context."));
}

std::optional<CollectionRoute> openCollectionRoute(const Data::Collections &collections, const Clock &clock,
                                                   const Request &request, const Responder &responder,
                                                   Auth::Permission permission, RuleOf rule)
{
    auto current = collections.snapshot();
    if (!current) {
        responder.send(Response::fromError(current.error()));
        return std::nullopt;
    }
    CollectionRoute route;
    route.snapshot = *current;
    route.collection = route.snapshot->find(request.params.value(0));
    if (!route.collection) {
        responder.send(missingCollection());
        return std::nullopt;
    }
    if (auto refused = checkKeyScope(request, permission, route.collection->name)) {
        responder.send(std::move(*refused));
        return std::nullopt;
    }
    route.context = contextFor(request, clock, route.snapshot.get());
    if (rule) {
        if (auto s = Data::Records::checkRuleExists(route.collection->*rule, route.context.access); !s) {
            responder.send(Response::fromError(s.error()));
            return std::nullopt;
        }
    }
    return route;
}

Data::Shape shapeOf(const Request &request)
{
    return Data::Shape {request.query.queryItemValue(QStringLiteral("fields"), QUrl::FullyDecoded),
                        request.query.queryItemValue(QStringLiteral("expand"), QUrl::FullyDecoded)};
}

} // namespace Outpost::Http
