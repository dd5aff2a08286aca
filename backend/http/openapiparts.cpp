#include "openapiparts.h"

#include <QHash>

namespace Outpost::Http::OpenApi {

using namespace Qt::StringLiterals;

QJsonObject ref(const QString &kind, const QString &name)
{
    return {{u"$ref"_s, QString(u"#/components/"_s + kind + u'/' + name)}};
}

QJsonObject schemaRef(const QString &name)
{
    return ref(u"schemas"_s, name);
}

QJsonObject with(QJsonObject object, const QString &key, const QJsonValue &value)
{
    object.insert(key, value);
    return object;
}

QJsonObject typed(const QString &type, const QString &description)
{
    QJsonObject s {{u"type"_s, type}};
    if (!description.isEmpty())
        s.insert(u"description"_s, description);
    return s;
}

QJsonObject bounded(const QString &type, const QJsonValue &minimum, const QJsonValue &maximum)
{
    QJsonObject s = with(typed(type), u"minimum"_s, minimum);
    if (!maximum.isNull())
        s.insert(u"maximum"_s, maximum);
    return s;
}

QJsonObject arrayOf(const QJsonObject &items, const QString &description)
{
    return with(typed(u"array"_s, description), u"items"_s, items);
}

QJsonObject objectSchema(const QJsonObject &properties, const QStringList &required, const QString &description)
{
    QJsonObject s = with(typed(u"object"_s, description), u"properties"_s, properties);
    if (!required.isEmpty())
        s.insert(u"required"_s, QJsonArray::fromStringList(required));
    return s;
}

QJsonObject nullable(const QString &type, const QString &description)
{
    return {{u"type"_s, QJsonArray {type, u"null"_s}}, {u"description"_s, description}};
}

QJsonObject enumOf(const QStringList &values, const QString &description)
{
    return with(typed(u"string"_s, description), u"enum"_s, QJsonArray::fromStringList(values));
}

QJsonObject dateString(const QString &description)
{
    return with(typed(u"string"_s, description), u"pattern"_s, kDatePattern);
}

QJsonObject content(const QString &mediaType, const QJsonObject &schema)
{
    return {{mediaType, QJsonObject {{u"schema"_s, schema}}}};
}

QJsonObject jsonResponse(const QString &description, const QJsonObject &schema)
{
    return {{u"description"_s, description}, {u"content"_s, content(u"application/json"_s, schema)}};
}

QJsonObject withETag(QJsonObject response)
{
    return with(std::move(response), u"headers"_s, QJsonObject {{u"ETag"_s, ref(u"headers"_s, u"ETag"_s)}});
}

// A problem response; with `special`, the body is a Problem or that schema.
QJsonObject problemResponse(const QString &description, const QString &special)
{
    const QJsonObject schema = special.isEmpty()
        ? schemaRef(u"Problem"_s)
        : QJsonObject {{u"anyOf"_s, QJsonArray {schemaRef(u"Problem"_s), schemaRef(special)}}};
    return {{u"description"_s, description}, {u"content"_s, content(u"application/problem+json"_s, schema)}};
}

QJsonObject jsonBody(const QJsonObject &schema, const QString &description)
{
    return {
        {u"required"_s, true}, {u"description"_s, description}, {u"content"_s, content(u"application/json"_s, schema)}};
}

QJsonObject parameter(const QString &name, const QString &in, const QJsonObject &schema, const QString &description)
{
    QJsonObject p {{u"name"_s, name}, {u"in"_s, in}, {u"description"_s, description}, {u"schema"_s, schema}};
    if (in == u"path")
        p.insert(u"required"_s, true);
    return p;
}

// A CommonMark code span for any text: a fence longer than any run of backticks inside.
QString code(const QString &text)
{
    QString fence = u"`"_s;
    while (text.contains(fence))
        fence += u'`';
    const QString pad = text.startsWith(u'`') || text.endsWith(u'`') ? u" "_s : QString();
    return fence + pad + text + pad + fence;
}

QJsonObject blankable(QJsonObject schema, const QJsonValue &blank)
{
    const QJsonValue type = schema.take(u"type"_s);
    return {{u"type"_s, type}, {u"anyOf"_s, QJsonArray {schema, QJsonObject {{u"const"_s, blank}}}}};
}

// ---- Shared components --------------------------------------------------------------------------

namespace {

// The members every problem body has (Response::problem()).
QJsonObject problemProperties()
{
    return {
        {u"type"_s, with(typed(u"string"_s, u"`about:blank` (RFC 9457 §4.2.1)."_s), u"format"_s, u"uri-reference"_s)},
        {u"title"_s, typed(u"string"_s, u"The status's reason phrase."_s)},
        {u"status"_s, bounded(u"integer"_s, 400, 599)},
        {u"detail"_s, typed(u"string"_s, u"What went wrong, for people."_s)},
        {u"message"_s, typed(u"string"_s, u"The same as `detail` (PocketBase's key, shown by its SDK)."_s)}};
}

QJsonObject problemSchema(const QJsonObject &data, const QJsonObject &errors, const QString &description)
{
    QJsonObject properties = problemProperties();
    properties.insert(u"data"_s, data);
    properties.insert(u"errors"_s, errors);
    return objectSchema(properties, {u"type"_s, u"title"_s, u"status"_s, u"detail"_s, u"message"_s, u"data"_s},
                        description);
}

} // namespace

QJsonObject mapOf(const QJsonObject &values, const QString &description)
{
    return with(typed(u"object"_s, description), u"additionalProperties"_s, values);
}

void addProblemSchemas(QJsonObject &schemas)
{
    const QJsonObject codeAndMessage {
        {u"code"_s, typed(u"string"_s, u"PocketBase-style validation code, e.g. `validation_required`."_s)},
        {u"message"_s, typed(u"string"_s)}};
    schemas.insert(u"FieldError"_s,
                   objectSchema(codeAndMessage, {u"code"_s, u"message"_s}, u"What is wrong with one field."_s));
    const QJsonObject listed = with(codeAndMessage, u"field"_s, typed(u"string"_s, u"The key, as in `data`."_s));
    schemas.insert(u"Problem"_s,
                   problemSchema(mapOf(schemaRef(u"FieldError"_s), u"Field errors by field; empty when none."_s),
                                 arrayOf(objectSchema(listed, {u"field"_s, u"code"_s, u"message"_s}),
                                         u"The entries of `data` as a list; only present when there are some."_s),
                                 u"RFC 9457 problem details, with PocketBase's `message` and `data`."_s));
    const QJsonObject failed = objectSchema(
        {{u"code"_s, with(typed(u"string"_s), u"const"_s, u"batch_request_failed"_s)},
         {u"message"_s, typed(u"string"_s)},
         {u"response"_s, with(schemaRef(u"Problem"_s), u"description"_s, u"The failed request's own answer."_s)}},
        {u"code"_s, u"message"_s, u"response"_s});
    schemas.insert(u"BatchProblem"_s,
                   problemSchema(objectSchema({{u"requests"_s, mapOf(failed, u"The failed request, by its index."_s)}},
                                              {u"requests"_s}),
                                 arrayOf(typed(u"object"_s)), u"A batch whose request failed; nothing took effect."_s));
    schemas.insert(u"ImportProblem"_s,
                   problemSchema(objectSchema({{u"rows"_s,
                                                mapOf(mapOf(schemaRef(u"FieldError"_s), u"By field."_s),
                                                      u"Field errors of the failed rows, by row number."_s)}},
                                              {u"rows"_s}),
                                 arrayOf(schemaRef(u"ImportRowError"_s)),
                                 u"An aborted import; nothing was imported."_s));
}

namespace {

QJsonObject problemExample()
{
    const QJsonObject error {{u"code"_s, u"validation_required"_s}, {u"message"_s, u"Cannot be blank."_s}};
    return {{u"type"_s, u"about:blank"_s},
            {u"title"_s, u"Bad Request"_s},
            {u"status"_s, 400},
            {u"detail"_s, u"Failed to create record."_s},
            {u"message"_s, u"Failed to create record."_s},
            {u"data"_s, QJsonObject {{u"title"_s, error}}},
            {u"errors"_s, QJsonArray {with(error, u"field"_s, u"title"_s)}}};
}

} // namespace

QJsonObject sharedResponses()
{
    QJsonObject badRequest
        = problemResponse(u"The request is malformed or fails validation; `data` and `errors` name the fields."_s);
    badRequest[u"content"_s]
        = QJsonObject {{u"application/problem+json"_s,
                        QJsonObject {{u"schema"_s, schemaRef(u"Problem"_s)}, {u"example"_s, problemExample()}}}};
    const QJsonObject unauthorized
        = with(problemResponse(u"The token or API key is missing, malformed, expired or revoked (RFC 6750 §3). Where a "
                               "collection's rule decides, a token that does not verify counts as none; an API key "
                               "that does not is refused everywhere."_s),
               u"headers"_s, QJsonObject {{u"WWW-Authenticate"_s, ref(u"headers"_s, u"WWW-Authenticate"_s)}});
    return {
        {u"BadRequest"_s, badRequest},
        {u"Unauthorized"_s, unauthorized},
        {u"Forbidden"_s,
         problemResponse(u"The caller may not do this: it needs a superuser's token, or an API key whose "
                         "scopes grant the operation's `x-outpost-scope`, used from an address its "
                         "`allowedCidrs` allow."_s)},
        {u"NotFound"_s, problemResponse(u"No such resource, or the access rule hides it."_s)},
        {u"ContentTooLarge"_s, problemResponse(u"The body exceeds 16 MiB (refused from `Content-Length`)."_s)},
        {u"UnsupportedMediaType"_s, problemResponse(u"The body is not `application/json`."_s)},
        {u"InternalError"_s, problemResponse(u"An unexpected error; the server log has the details."_s)},
        {u"NotModified"_s, withETag({{u"description"_s, u"Unchanged since the `If-None-Match` tag; no body."_s}})},
        {u"TooManyRequests"_s,
         with(problemResponse(u"The caller's rate limit for this route's group is spent (see `RateLimit-Policy`); "
                              "retry after `Retry-After` seconds."_s),
              u"headers"_s,
              QJsonObject {{u"Retry-After"_s, ref(u"headers"_s, u"Retry-After"_s)},
                           {u"RateLimit-Policy"_s, ref(u"headers"_s, u"RateLimit-Policy"_s)},
                           {u"RateLimit"_s, ref(u"headers"_s, u"RateLimit"_s)}})},
    };
}

QJsonObject sharedHeaders()
{
    const QString etag = u"Entity tag of the representation (RFC 9110 §8.8.3); send it back in `If-None-Match` "
                         "to get 304 while nothing changed."_s;
    return {{u"ETag"_s, QJsonObject {{u"description"_s, etag}, {u"schema"_s, typed(u"string"_s)}}},
            {u"WWW-Authenticate"_s,
             QJsonObject {{u"description"_s, u"`Bearer` (RFC 6750)."_s}, {u"schema"_s, typed(u"string"_s)}}},
            {u"Retry-After"_s,
             QJsonObject {{u"description"_s, u"Seconds until a request can succeed again."_s},
                          {u"schema"_s, typed(u"integer"_s)}}},
            {u"RateLimit-Policy"_s,
             QJsonObject {{u"description"_s,
                           u"The route group's quota policy (draft-ietf-httpapi-ratelimit-headers-10), e.g. "
                           "`\"read\";q=2000;w=10`: 2000 requests per 10 s per caller, as a token bucket."_s},
                          {u"schema"_s, typed(u"string"_s)}}},
            {u"RateLimit"_s,
             QJsonObject {{u"description"_s,
                           u"The caller's remaining quota (`r`) and the seconds until it is whole again (`t`), e.g. "
                           "`\"read\";r=1999;t=1`."_s},
                          {u"schema"_s, typed(u"string"_s)}}}};
}

QJsonObject sharedParameters()
{
    const QString query = u"query"_s;
    const QString listCsv
        = u"`json`: an array of records; `csv`: a header row of field names, then a row per record."_s;
    const QString onError = u"`abort`: when any row fails, nothing is imported and the answer is 400, listing the "
                            "failed rows; `skip`: the other rows are imported and the failed ones listed in "
                            "`errors`."_s;
    return {
        {u"Page"_s,
         parameter(u"page"_s, query, with(bounded(u"integer"_s, 1), u"default"_s, 1), u"The page, from 1."_s)},
        {u"PerPage"_s,
         parameter(u"perPage"_s, query, with(bounded(u"integer"_s, 1, 1000), u"default"_s, 30), u"Items per page."_s)},
        {u"Sort"_s,
         parameter(u"sort"_s, query, typed(u"string"_s),
                   u"Comma-separated fields, `-` for descending, e.g. `-created,title`."_s)},
        {u"Filter"_s,
         with(parameter(u"filter"_s, query, typed(u"string"_s),
                        u"A PocketBase filter expression; only matching items are returned."_s),
              u"example"_s, u"created > '2024-01-01' && title ~ 'news'"_s)},
        {u"Fields"_s,
         parameter(u"fields"_s, query, typed(u"string"_s),
                   u"Comma-separated keys to return (`*` for all, `expand.author.name` inside expanded "
                   "records); the other keys are left out."_s)},
        {u"Expand"_s,
         parameter(u"expand"_s, query, typed(u"string"_s),
                   u"Comma-separated relation fields whose records to embed under `expand` (dotted for "
                   "nested relations, e.g. `author.team`)."_s)},
        {u"SkipTotal"_s,
         parameter(u"skipTotal"_s, query, with(typed(u"boolean"_s), u"default"_s, false),
                   u"Skip counting: `totalItems` and `totalPages` are then -1 (faster)."_s)},
        {u"IfNoneMatch"_s,
         parameter(u"If-None-Match"_s, u"header"_s, typed(u"string"_s),
                   u"An `ETag` from an earlier answer: 304 with no body while unchanged."_s)},
        {u"CollectionIdOrName"_s,
         parameter(u"collectionIdOrName"_s, u"path"_s, typed(u"string"_s),
                   u"The collection's id or name (names are case-insensitive)."_s)},
        {u"AuthCollection"_s,
         parameter(u"collection"_s, u"path"_s, typed(u"string"_s),
                   u"`_superusers`, or the name or id of an auth collection (such as `users`)."_s)},
        {u"ExportFormat"_s,
         parameter(u"format"_s, query, with(enumOf({u"csv"_s, u"json"_s}), u"default"_s, u"csv"_s), listCsv)},
        {u"ImportOnError"_s,
         parameter(u"onError"_s, query, with(enumOf({u"abort"_s, u"skip"_s}), u"default"_s, u"abort"_s), onError)},
    };
}

QJsonObject listSchema(const QJsonObject &item, const QString &description)
{
    const QJsonObject total = with(bounded(u"integer"_s, -1), u"description"_s, u"-1 with `skipTotal`."_s);
    return objectSchema({{u"page"_s, bounded(u"integer"_s, 1)},
                         {u"perPage"_s, bounded(u"integer"_s, 1)},
                         {u"totalItems"_s, total},
                         {u"totalPages"_s, total},
                         {u"items"_s, arrayOf(item)}},
                        {u"page"_s, u"perPage"_s, u"totalItems"_s, u"totalPages"_s, u"items"_s}, description);
}

// ---- Operations ---------------------------------------------------------------------------------

namespace {

QString sharedResponseName(int status)
{
    static const QHash<int, QString> names {{304, u"NotModified"_s},
                                            {400, u"BadRequest"_s},
                                            {401, u"Unauthorized"_s},
                                            {403, u"Forbidden"_s},
                                            {404, u"NotFound"_s},
                                            {413, u"ContentTooLarge"_s},
                                            {415, u"UnsupportedMediaType"_s},
                                            {429, u"TooManyRequests"_s}};
    return names.value(status, u"InternalError"_s);
}

// Alternatives, any one of which lets the caller in (OpenAPI 3.1 §4.8.30); {} means none needed.
QJsonArray security(const Operation &op)
{
    if (op.access == Access::Public)
        return {};
    QJsonArray alternatives;
    if (op.access == Access::Token)
        alternatives.append(QJsonObject());
    alternatives.append(QJsonObject {{u"bearerAuth"_s, QJsonArray()}});
    if (op.scope)
        alternatives.append(QJsonObject {{u"apiKey"_s, QJsonArray()}});
    return alternatives;
}

// Who may call it, unless the rule's description (x-outpost-rule) says so already.
QString callers(const Operation &op)
{
    if (op.access == Access::Public)
        return u"No token needed."_s;
    if (op.access == Access::Account)
        return u"Send the account's token: a superuser's, or an app user's of this collection."_s;
    if (!op.rule.isUndefined())
        return {}; // the rule's description says who may call it
    const QString scope = op.scope ? Auth::permissionName(*op.scope) : QString();
    if (op.access == Access::Token) {
        if (scope.isEmpty())
            return {};
        return u"API keys need the %1 scope, or %2 for each collection NAME involved; they then pass the "
               "collections' rules as superusers do."_s.arg(code(scope), code(scope + u":NAME"_s));
    }
    return scope.isEmpty() ? u"Superusers only: send a superuser's token."_s
                           : u"Superusers, or API keys with the %1 scope."_s.arg(code(scope));
}

QString accessName(Access access)
{
    switch (access) {
    case Access::Public:
        return u"public"_s;
    case Access::Token:
        return u"rule"_s;
    case Access::Account:
        return u"account"_s;
    case Access::Superuser:
        break;
    }
    return u"superuser"_s;
}

QJsonObject operationJson(const Operation &op)
{
    QJsonObject responses = op.responses;
    QList<int> shared = op.shared;
    if (!op.requestBody.isEmpty())
        shared << 413;
    if (op.scope)
        shared << 401 << 403; // a key that does not check out (Gate), or one without the scope
    else if (op.access == Access::Superuser || op.access == Access::Account)
        shared << 401;
    if (op.path != u"/api/health")
        shared << 429; // every route but the health check is rate-limited (Http::rateGroupOf)
    for (const int status : shared << 500) {
        if (!responses.contains(QString::number(status)))
            responses.insert(QString::number(status), ref(u"responses"_s, sharedResponseName(status)));
    }
    const QString who = callers(op);
    QJsonObject json {{u"operationId"_s, op.id},
                      {u"summary"_s, op.summary},
                      {u"description"_s, who.isEmpty() ? op.description : op.description + u"\n\n"_s + who},
                      {u"tags"_s, QJsonArray {op.tag}},
                      {u"security"_s, security(op)},
                      {u"responses"_s, responses},
                      {u"x-outpost-access"_s, accessName(op.access)}};
    if (op.scope)
        json.insert(u"x-outpost-scope"_s, Auth::permissionName(*op.scope));
    if (!op.parameters.isEmpty())
        json.insert(u"parameters"_s, op.parameters);
    if (!op.requestBody.isEmpty())
        json.insert(u"requestBody"_s, op.requestBody);
    if (!op.rule.isUndefined())
        json.insert(u"x-outpost-rule"_s, op.rule);
    return json;
}

} // namespace

void addOperation(QJsonObject &paths, const Operation &op)
{
    QJsonObject item = paths.value(op.path).toObject();
    item.insert(op.method, operationJson(op));
    paths.insert(op.path, item);
}

void addOperations(QJsonObject &paths, const QList<Operation> &operations, const QString &tag,
                   std::optional<Auth::Permission> scope)
{
    for (Operation op : operations) {
        if (op.tag.isEmpty())
            op.tag = tag;
        if (!op.scope)
            op.scope = scope;
        addOperation(paths, op);
    }
}

QJsonArray parameterRefs(const QStringList &names, QJsonArray refs)
{
    for (const QString &name : names)
        refs.append(ref(u"parameters"_s, name));
    return refs;
}

} // namespace Outpost::Http::OpenApi
