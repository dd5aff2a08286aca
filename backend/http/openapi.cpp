#include "openapi.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>
#include <algorithm>

#include "../auth/superusers.h"

namespace Outpost::Http {

using namespace Qt::StringLiterals;
using Data::Collection;
using Data::Field;
using Data::FieldType;

namespace {

// The project declares no licence yet; add an SPDX `identifier` next to the name when it does.
const QString kLicenseName = u"Proprietary"_s;

const QString kDatePattern = u"^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$"_s;
const QString kRecordIdPattern = u"^[a-z0-9]{15}$"_s;

const FieldType kFieldTypes[]
    = {FieldType::Text, FieldType::Number, FieldType::Bool, FieldType::Email,    FieldType::Url,
       FieldType::Date, FieldType::Select, FieldType::Json, FieldType::Relation, FieldType::AutoDate};

const QString kFixedTags[][2] = {
    {u"system"_s, u"Health and this document."_s},
    {u"auth"_s, u"Superuser authentication (PocketBase's `_superusers` auth collection)."_s},
    {u"collections"_s, u"Collection definitions: fields, indexes and access rules. Superusers only."_s},
    {u"batch"_s, u"Several record requests in one transaction."_s},
};

const QString kRuleKeys[] = {u"listRule"_s, u"viewRule"_s, u"createRule"_s, u"updateRule"_s, u"deleteRule"_s};

// ---- JSON Schema and OpenAPI building blocks ----------------------------------------------------

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

QJsonObject typed(const QString &type, const QString &description = {})
{
    QJsonObject s {{u"type"_s, type}};
    if (!description.isEmpty())
        s.insert(u"description"_s, description);
    return s;
}

QJsonObject bounded(const QString &type, const QJsonValue &minimum, const QJsonValue &maximum = {})
{
    QJsonObject s = with(typed(type), u"minimum"_s, minimum);
    if (!maximum.isNull())
        s.insert(u"maximum"_s, maximum);
    return s;
}

QJsonObject arrayOf(const QJsonObject &items, const QString &description = {})
{
    return with(typed(u"array"_s, description), u"items"_s, items);
}

QJsonObject objectSchema(const QJsonObject &properties, const QStringList &required = {},
                         const QString &description = {})
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

QJsonObject enumOf(const QStringList &values, const QString &description = {})
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
QJsonObject problemResponse(const QString &description, const QString &special = {})
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

// ---- Shared components --------------------------------------------------------------------------

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

QJsonObject sharedResponses()
{
    QJsonObject badRequest
        = problemResponse(u"The request is malformed or fails validation; `data` and `errors` name the fields."_s);
    badRequest[u"content"_s]
        = QJsonObject {{u"application/problem+json"_s,
                        QJsonObject {{u"schema"_s, schemaRef(u"Problem"_s)}, {u"example"_s, problemExample()}}}};
    const QJsonObject unauthorized
        = with(problemResponse(u"The token is missing, malformed, expired or revoked (RFC 6750 §3)."_s), u"headers"_s,
               QJsonObject {{u"WWW-Authenticate"_s, ref(u"headers"_s, u"WWW-Authenticate"_s)}});
    return {
        {u"BadRequest"_s, badRequest},
        {u"Unauthorized"_s, unauthorized},
        {u"Forbidden"_s, problemResponse(u"The caller may not do this: it needs a superuser's token."_s)},
        {u"NotFound"_s, problemResponse(u"No such resource, or the access rule hides it."_s)},
        {u"ContentTooLarge"_s, problemResponse(u"The body exceeds 16 MiB (refused from `Content-Length`)."_s)},
        {u"UnsupportedMediaType"_s, problemResponse(u"The body is not `application/json`."_s)},
        {u"InternalError"_s, problemResponse(u"An unexpected error; the server log has the details."_s)},
        {u"NotModified"_s, withETag({{u"description"_s, u"Unchanged since the `If-None-Match` tag; no body."_s}})},
    };
}

QJsonObject sharedHeaders()
{
    const QString etag = u"Entity tag of the representation (RFC 9110 §8.8.3); send it back in `If-None-Match` "
                         "to get 304 while nothing changed."_s;
    return {{u"ETag"_s, QJsonObject {{u"description"_s, etag}, {u"schema"_s, typed(u"string"_s)}}},
            {u"WWW-Authenticate"_s,
             QJsonObject {{u"description"_s, u"`Bearer` (RFC 6750)."_s}, {u"schema"_s, typed(u"string"_s)}}}};
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

// ---- Field definitions (the collections API) ---------------------------------------------------

QString fieldSchemaName(FieldType type)
{
    const QString name = Data::fieldTypeName(type);
    return name.left(1).toUpper() + name.mid(1) + u"Field"_s;
}

QJsonObject fieldOptionProperties(FieldType type)
{
    const QJsonObject count = bounded(u"integer"_s, 0);
    const QJsonObject maxSelect
        = with(bounded(u"integer"_s, 1), u"description"_s, u"More than 1: the value is an array."_s);
    const QJsonObject domains
        = with(nullable(u"array"_s, u"Domain names; null when none."_s), u"items"_s, typed(u"string"_s));
    const QJsonObject flag = typed(u"boolean"_s);
    switch (type) {
    case FieldType::Text:
        return {{u"min"_s, with(count, u"description"_s, u"Minimum length in characters."_s)},
                {u"max"_s, with(count, u"description"_s, u"Maximum length in characters; 0 means 5000."_s)},
                {u"pattern"_s, typed(u"string"_s, u"A Go (RE2) regular expression values must match."_s)},
                {u"autogeneratePattern"_s, typed(u"string"_s, u"Blank values on create get a random match."_s)},
                {u"primaryKey"_s, flag}};
    case FieldType::Number:
        return {{u"min"_s, nullable(u"number"_s, u"Lowest allowed value."_s)},
                {u"max"_s, nullable(u"number"_s, u"Highest allowed value."_s)},
                {u"onlyInt"_s, flag}};
    case FieldType::Bool:
        return {};
    case FieldType::Email:
    case FieldType::Url:
        return {{u"exceptDomains"_s, domains}, {u"onlyDomains"_s, domains}};
    case FieldType::Date:
        return {{u"min"_s, typed(u"string"_s, u"Earliest allowed date, or empty."_s)},
                {u"max"_s, typed(u"string"_s, u"Latest allowed date, or empty."_s)}};
    case FieldType::Select:
        return {{u"values"_s, with(with(arrayOf(typed(u"string"_s)), u"minItems"_s, 1), u"uniqueItems"_s, true)},
                {u"maxSelect"_s, maxSelect}};
    case FieldType::Json:
        return {{u"maxSize"_s, with(count, u"description"_s, u"Maximum serialised size in bytes; 0 means 1 MiB."_s)}};
    case FieldType::Relation:
        return {{u"collectionId"_s, typed(u"string"_s, u"The id of the related collection."_s)},
                {u"cascadeDelete"_s, flag},
                {u"minSelect"_s, count},
                {u"maxSelect"_s, maxSelect}};
    case FieldType::AutoDate:
        return {{u"onCreate"_s, flag}, {u"onUpdate"_s, flag}};
    }
    return {};
}

void addFieldSchemas(QJsonObject &schemas)
{
    QJsonObject mapping;
    QJsonArray variants;
    for (const FieldType type : kFieldTypes) {
        const QString name = fieldSchemaName(type);
        const QString typeName = Data::fieldTypeName(type);
        QJsonObject properties {
            {u"id"_s, typed(u"string"_s, u"Assigned when left out, e.g. `text1234567890`."_s)},
            {u"name"_s, with(typed(u"string"_s), u"pattern"_s, u"^[A-Za-z_][A-Za-z0-9_]{0,62}$"_s)},
            {u"type"_s, with(typed(u"string"_s), u"const"_s, typeName)},
            {u"required"_s, typed(u"boolean"_s, u"Blank values are refused."_s)},
            {u"hidden"_s, typed(u"boolean"_s, u"Left out of API responses, except to superusers."_s)},
            {u"system"_s, typed(u"boolean"_s)},
            {u"presentable"_s, typed(u"boolean"_s, u"A hint for admin UIs."_s)}};
        const QJsonObject options = fieldOptionProperties(type);
        for (auto it = options.begin(); it != options.end(); ++it)
            properties.insert(it.key(), it.value());
        schemas.insert(name,
                       objectSchema(properties, {u"name"_s, u"type"_s},
                                    u"A `%1` field and its options (PocketBase's shape)."_s.arg(typeName)));
        mapping.insert(typeName, QString(u"#/components/schemas/"_s + name));
        variants.append(schemaRef(name));
    }
    schemas.insert(
        u"CollectionField"_s,
        QJsonObject {{u"description"_s, u"One field of a collection; `type` selects its options."_s},
                     {u"oneOf"_s, variants},
                     {u"discriminator"_s, QJsonObject {{u"propertyName"_s, u"type"_s}, {u"mapping"_s, mapping}}}});
}

void addCollectionSchemas(QJsonObject &schemas)
{
    const QString ruleText = u"Access rule: null means superusers only, \"\" anyone, otherwise a filter expression "
                             "the request must satisfy (superusers always may)."_s;
    QJsonObject editable {
        {u"name"_s, with(typed(u"string"_s), u"pattern"_s, u"^[A-Za-z][A-Za-z0-9_]{0,62}$"_s)},
        {u"fields"_s,
         arrayOf(schemaRef(u"CollectionField"_s),
                 u"The system fields id, created and updated are added when left out."_s)},
        {u"indexes"_s, arrayOf(typed(u"string"_s), u"`CREATE [UNIQUE] INDEX` statements on this collection."_s)}};
    for (const QString &key : kRuleKeys)
        editable.insert(key, nullable(u"string"_s, ruleText));
    schemas.insert(u"CollectionPatch"_s,
                   objectSchema(editable, {}, u"The keys to change; fields are matched by id (see the operation)."_s));
    QJsonObject created = editable;
    created.insert(u"id"_s, typed(u"string"_s, u"Assigned when left out."_s));
    created.insert(u"type"_s, with(enumOf({u"base"_s}), u"default"_s, u"base"_s));
    schemas.insert(u"NewCollection"_s, objectSchema(created, {u"name"_s}, u"A collection definition."_s));

    QJsonObject full = created;
    full.insert(u"system"_s, typed(u"boolean"_s, u"System collections cannot be deleted."_s));
    full.insert(u"created"_s, dateString(u"Creation time (UTC)."_s));
    full.insert(u"updated"_s, dateString(u"Last change (UTC)."_s));
    schemas.insert(u"Collection"_s, objectSchema(full, full.keys(), u"A collection (PocketBase v0.23+ shape)."_s));
    schemas.insert(u"CollectionList"_s, listSchema(schemaRef(u"Collection"_s), u"A page of collections."_s));
}

void addSystemSchemas(QJsonObject &schemas)
{
    schemas.insert(u"Health"_s,
                   objectSchema({{u"status"_s, enumOf({u"ok"_s, u"degraded"_s})},
                                 {u"version"_s, typed(u"string"_s, u"The server's version."_s)},
                                 {u"uptimeSeconds"_s, bounded(u"integer"_s, 0)},
                                 {u"database"_s,
                                  enumOf({u"ok"_s, u"empty"_s, u"error"_s, u"unavailable"_s},
                                         u"The result of a read, at most a second old."_s)}},
                                {u"status"_s, u"version"_s, u"uptimeSeconds"_s, u"database"_s},
                                u"The server's state."_s));
    const QString superusers = QString::fromLatin1(Auth::Superusers::kCollectionName);
    schemas.insert(
        u"Superuser"_s,
        objectSchema({{u"collectionId"_s,
                       with(typed(u"string"_s), u"const"_s, QString::fromLatin1(Auth::Superusers::kCollectionId))},
                      {u"collectionName"_s, with(typed(u"string"_s), u"const"_s, superusers)},
                      {u"id"_s, with(typed(u"string"_s), u"pattern"_s, kRecordIdPattern)},
                      {u"email"_s, with(typed(u"string"_s), u"format"_s, u"email"_s)},
                      {u"emailVisibility"_s, typed(u"boolean"_s)},
                      {u"verified"_s, typed(u"boolean"_s)},
                      {u"created"_s, dateString(u"Creation time (UTC)."_s)},
                      {u"updated"_s, dateString(u"Last change (UTC)."_s)}},
                     {u"collectionId"_s, u"collectionName"_s, u"id"_s, u"email"_s, u"emailVisibility"_s, u"verified"_s,
                      u"created"_s, u"updated"_s},
                     u"A superuser account (a record of `_superusers`)."_s));
    schemas.insert(u"AuthResponse"_s,
                   objectSchema({{u"token"_s, typed(u"string"_s, u"A JWT (HS256) valid for one hour."_s)},
                                 {u"record"_s, schemaRef(u"Superuser"_s)}},
                                {u"token"_s, u"record"_s}));
    schemas.insert(u"PasswordAuth"_s,
                   objectSchema({{u"identity"_s, typed(u"string"_s, u"The superuser's e-mail address."_s)},
                                 {u"password"_s, with(typed(u"string"_s), u"format"_s, u"password"_s)}},
                                {u"identity"_s, u"password"_s}));
}

void addBatchAndImportSchemas(QJsonObject &schemas)
{
    const QJsonObject item = objectSchema(
        {{u"method"_s,
          enumOf({u"POST"_s, u"PUT"_s, u"PATCH"_s, u"DELETE"_s},
                 u"POST and PUT (create, or update when `body.id` exists) take "
                 "`/api/collections/{collection}/records`; PATCH and DELETE take `.../records/{id}`."_s)},
         {u"url"_s, typed(u"string"_s, u"A record route, optionally with `fields` and `expand` in its query."_s)},
         {u"headers"_s, with(typed(u"object"_s), u"additionalProperties"_s, typed(u"string"_s))},
         {u"body"_s, typed(u"object"_s, u"The JSON body of a create or update."_s)}},
        {u"method"_s, u"url"_s});
    schemas.insert(u"BatchRequest"_s,
                   objectSchema({{u"requests"_s, with(with(arrayOf(item), u"minItems"_s, 1), u"maxItems"_s, 50)}},
                                {u"requests"_s}));
    schemas.insert(u"BatchResult"_s,
                   objectSchema({{u"status"_s, typed(u"integer"_s, u"The request's HTTP status."_s)},
                                 {u"body"_s, QJsonObject {{u"description"_s, u"Its JSON body; null for 204."_s}}}},
                                {u"status"_s, u"body"_s}, u"The answer to one request of a batch."_s));
    schemas.insert(
        u"ImportRowError"_s,
        objectSchema({{u"row"_s, typed(u"integer"_s, u"The row's number, from 1 (a CSV header row is not counted)."_s)},
                      {u"message"_s, typed(u"string"_s)},
                      {u"data"_s,
                       with(typed(u"object"_s, u"Field errors keyed by field."_s), u"additionalProperties"_s,
                            schemaRef(u"FieldError"_s))}},
                     {u"row"_s, u"message"_s, u"data"_s}, u"Why one row was not imported."_s));
    schemas.insert(
        u"ImportResult"_s,
        objectSchema({{u"imported"_s, bounded(u"integer"_s, 0)},
                      {u"failed"_s, bounded(u"integer"_s, 0)},
                      {u"errors"_s, arrayOf(schemaRef(u"ImportRowError"_s), u"The first 1000 failed rows."_s)}},
                     {u"imported"_s, u"failed"_s, u"errors"_s}));
}

// ---- Record values ------------------------------------------------------------------------------

// Whether a Go (RE2) pattern means the same as a JSON Schema `pattern` (ECMAScript in Unicode mode,
// as Ajv compiles it). Conservative: literals, classes, (…) and (?:…) groups, quantifiers, anchors
// and the escapes both share. Flags, named groups, \A \z \p, POSIX classes and literal braces are not.
bool isPortablePattern(const QString &pattern)
{
    static const QString escapes = u"dDwWsSbBnrtfv^$\\.*+?()[]{}|/"_s;
    bool inClass = false;
    for (qsizetype i = 0; i < pattern.size(); ++i) {
        const QChar c = pattern.at(i);
        const QChar next = i + 1 < pattern.size() ? pattern.at(i + 1) : QChar();
        const QChar afterNext = i + 2 < pattern.size() ? pattern.at(i + 2) : QChar();
        if (c == u'\\') {
            if (next.isNull() || !(escapes.contains(next) || (inClass && next == u'-')))
                return false;
            if (inClass && u"dDwWsS"_s.contains(next) && afterNext == u'-') // [\w-z] is a Unicode-mode error
                return false;
            ++i;
        } else if (inClass) {
            inClass = c != u']';
            if (c == u'[' && next == u':')
                return false;
        } else if (c == u'[') {
            inClass = true;
            i += next == u'^' ? 1 : 0;
            if (i + 1 < pattern.size() && pattern.at(i + 1) == u']')
                return false; // RE2's leading literal "]"
        } else if (c == u']' || c == u'}' || (c == u'(' && next == u'?' && afterNext != u':')) {
            return false;
        } else if (c == u'{') {
            static const QRegularExpression quantifier(u"\\{[0-9]+(,[0-9]*)?\\}"_s);
            const QRegularExpressionMatch m = quantifier.match(pattern, i, QRegularExpression::NormalMatch,
                                                               QRegularExpression::AnchorAtOffsetMatchOption);
            if (!m.hasMatch())
                return false; // only the quantifiers {n}, {n,} and {n,m}
            i = m.capturedEnd() - 1;
        }
    }
    return !inClass;
}

// Names and tags of the collections, and relation targets.
struct Catalog
{
    const QList<Collection> &collections;
    QStringList schemaNames; // PascalCase, unique: <name>Record, <name>RecordList, <name>CreateBody, ...
    QStringList tags;

    qsizetype indexOf(const QString &idOrName) const
    {
        for (qsizetype i = 0; i < collections.size(); ++i)
            if (collections[i].id == idOrName)
                return i;
        for (qsizetype i = 0; i < collections.size(); ++i)
            if (collections[i].name.compare(idOrName, Qt::CaseInsensitive) == 0)
                return i;
        return -1;
    }
};

QString pascalCase(const QString &name)
{
    QString out;
    bool upper = true;
    for (const QChar c : name) {
        if (c != u'_')
            out += upper ? c.toUpper() : c;
        upper = c == u'_';
    }
    return out.isEmpty() ? u"Collection"_s : out;
}

Catalog makeCatalog(const QList<Collection> &collections)
{
    Catalog catalog {collections, {}, {}};
    QSet<QString> names, tags; // lower-cased: tools write one file per name on case-insensitive disks
    for (const auto &tag : kFixedTags)
        tags.insert(tag[0]);
    for (const Collection &c : collections) {
        QString name = pascalCase(c.name);
        for (int n = 2; names.contains(name.toLower()); ++n)
            name = pascalCase(c.name) + QString::number(n);
        QString tag = c.name;
        for (int n = 2; tags.contains(tag.toLower()); ++n)
            tag = c.name + u" records"_s + (n > 2 ? u" "_s + QString::number(n) : QString());
        names.insert(name.toLower());
        tags.insert(tag.toLower());
        catalog.schemaNames.append(name);
        catalog.tags.append(tag);
    }
    return catalog;
}

enum class Direction { Output, Input };

// PocketBase accepts and stores a blank value ("" or 0) in an optional field without checking its
// other constraints.
QJsonObject blankable(QJsonObject schema, const QJsonValue &blank)
{
    const QJsonValue type = schema.take(u"type"_s);
    return {{u"type"_s, type}, {u"anyOf"_s, QJsonArray {schema, QJsonObject {{u"const"_s, blank}}}}};
}

QJsonObject textValue(const Field &f, Direction direction, QStringList &notes)
{
    QJsonObject s = with(typed(u"string"_s), u"maxLength"_s, f.effectiveMaxLength());
    if (f.minLength > 0 || f.required)
        s.insert(u"minLength"_s, std::max(f.minLength, 1));
    if (f.pattern.isEmpty())
        ; // any text
    else if (isPortablePattern(f.pattern))
        s.insert(u"pattern"_s, f.pattern);
    else
        notes << u"Must match the Go (RE2) pattern %1."_s.arg(code(f.pattern));
    if (direction == Direction::Input && !f.autogeneratePattern.isEmpty())
        notes << u"Left out or blank on create: a random value matching %1."_s.arg(code(f.autogeneratePattern));
    return !f.required && (f.minLength > 0 || !f.pattern.isEmpty()) ? blankable(s, u""_s) : s;
}

QJsonObject numberValue(const Field &f)
{
    QJsonObject s = typed(f.onlyInt ? u"integer"_s : u"number"_s);
    if (f.min)
        s.insert(u"minimum"_s, *f.min);
    if (f.max)
        s.insert(u"maximum"_s, *f.max);
    const bool zeroOutside = (f.min && *f.min > 0) || (f.max && *f.max < 0);
    return !f.required && zeroOutside ? blankable(s, 0) : s;
}

QJsonObject addressValue(const Field &f, QStringList &notes)
{
    const bool email = f.type == FieldType::Email;
    if (!f.onlyDomains.isEmpty())
        notes << u"Only for the domains %1."_s.arg(f.onlyDomains.join(u", "_s));
    if (!f.exceptDomains.isEmpty())
        notes << u"Not for the domains %1."_s.arg(f.exceptDomains.join(u", "_s));
    const QJsonObject s = with(typed(u"string"_s), u"format"_s, email ? u"email"_s : u"uri"_s);
    return f.required ? s : blankable(s, u""_s);
}

QJsonObject dateValue(const Field &f, Direction direction, QStringList &notes)
{
    if (!f.minDate.isEmpty())
        notes << u"Not before %1."_s.arg(f.minDate);
    if (!f.maxDate.isEmpty())
        notes << u"Not after %1."_s.arg(f.maxDate);
    if (direction == Direction::Input) {
        notes << u"`2006-01-02 15:04:05.000Z`, RFC 3339 or a date alone (midnight UTC)."_s;
        return typed(u"string"_s);
    }
    const QJsonObject s = with(typed(u"string"_s), u"pattern"_s, kDatePattern);
    const bool blank = f.type == FieldType::AutoDate ? !f.onCreate : !f.required;
    return blank ? blankable(s, u""_s) : s;
}

QJsonObject selectValue(const Field &f)
{
    if (!f.isMultiple())
        return enumOf(f.required ? f.values : f.values + QStringList {QString()});
    QJsonObject s = with(arrayOf(enumOf(f.values)), u"uniqueItems"_s, true);
    s.insert(u"maxItems"_s, f.maxSelect);
    if (f.required)
        s.insert(u"minItems"_s, 1);
    return s;
}

QJsonObject relationValue(const Field &f, const Catalog &catalog, QStringList &notes)
{
    const qsizetype target = catalog.indexOf(f.collectionId);
    const QString name = target < 0 ? f.collectionId : catalog.collections[target].name;
    notes << (f.isMultiple() ? u"Ids of records of %1."_s : u"The id of a record of %1."_s).arg(code(name));
    const QJsonObject id = with(typed(u"string"_s), u"pattern"_s, kRecordIdPattern);
    if (!f.isMultiple())
        return f.required ? id : blankable(id, u""_s);
    QJsonObject s = with(arrayOf(id), u"uniqueItems"_s, true);
    s.insert(u"maxItems"_s, f.maxSelect);
    if (f.required || f.minSelect > 0)
        s.insert(u"minItems"_s, std::max(f.minSelect, 1));
    if (!f.required && f.minSelect > 0)
        notes << u"Empty, or at least %1."_s.arg(f.minSelect);
    return !f.required && f.minSelect > 0 ? blankable(s, QJsonArray()) : s;
}

QJsonObject valueSchema(const Field &f, Direction direction, const Catalog &catalog)
{
    QStringList notes;
    QJsonObject s;
    switch (f.type) {
    case FieldType::Text:
        s = textValue(f, direction, notes);
        break;
    case FieldType::Number:
        s = numberValue(f);
        break;
    case FieldType::Bool:
        s = typed(u"boolean"_s);
        if (f.required)
            notes << u"Required, so it must be true."_s;
        break;
    case FieldType::Email:
    case FieldType::Url:
        s = addressValue(f, notes);
        break;
    case FieldType::Date:
    case FieldType::AutoDate:
        s = dateValue(f, direction, notes);
        break;
    case FieldType::Select:
        s = selectValue(f);
        break;
    case FieldType::Json:
        notes << u"Any JSON value, at most %1 bytes serialised."_s.arg(f.effectiveMaxSize());
        break;
    case FieldType::Relation:
        s = relationValue(f, catalog, notes);
        break;
    }
    const QString kind = f.primaryKey ? u"The record's id."_s : u"`%1` field."_s.arg(Data::fieldTypeName(f.type));
    notes.prepend(kind);
    if (f.hidden && direction == Direction::Output)
        notes << u"Hidden: only superusers get it."_s;
    return with(s, u"description"_s, notes.join(u' '));
}

QJsonObject expandSchema(const Collection &c, const Catalog &catalog)
{
    QJsonObject properties;
    for (const Field &f : c.fields) {
        if (f.type != FieldType::Relation)
            continue;
        const qsizetype target = catalog.indexOf(f.collectionId);
        const QJsonObject record
            = target < 0 ? typed(u"object"_s) : schemaRef(catalog.schemaNames[target] + u"Record"_s);
        properties.insert(f.name, f.isMultiple() ? arrayOf(record) : record);
    }
    if (properties.isEmpty())
        return {};
    return objectSchema(properties, {}, u"The related records named in `expand`; only present with it."_s);
}

void addRecordSchemas(QJsonObject &schemas, const Catalog &catalog, qsizetype index)
{
    const Collection &c = catalog.collections[index];
    const QString name = catalog.schemaNames[index];
    QJsonObject output {{u"collectionId"_s, with(typed(u"string"_s), u"const"_s, c.id)},
                        {u"collectionName"_s, with(typed(u"string"_s), u"const"_s, c.name)}};
    QStringList outputRequired {u"collectionId"_s, u"collectionName"_s}, createRequired;
    QJsonObject create, update;
    for (const Field &f : c.fields) {
        output.insert(f.name, valueSchema(f, Direction::Output, catalog));
        if (!f.hidden)
            outputRequired << f.name;
        if (f.type == FieldType::AutoDate)
            continue;
        create.insert(f.name, valueSchema(f, Direction::Input, catalog));
        if (f.required && f.autogeneratePattern.isEmpty())
            createRequired << f.name;
        if (!f.primaryKey)
            update.insert(f.name, create.value(f.name));
    }
    if (const QJsonObject expand = expandSchema(c, catalog); !expand.isEmpty())
        output.insert(u"expand"_s, expand);
    const QString about = u"A record of %1; `fields` can leave keys out."_s.arg(code(c.name));
    schemas.insert(name + u"Record"_s, objectSchema(output, outputRequired, about));
    schemas.insert(name + u"RecordList"_s,
                   listSchema(schemaRef(name + u"Record"_s), u"A page of %1 records."_s.arg(code(c.name))));
    schemas.insert(
        name + u"CreateBody"_s,
        objectSchema(create, createRequired, u"A new %1 record; unknown keys are ignored."_s.arg(code(c.name))));
    schemas.insert(name + u"UpdateBody"_s,
                   objectSchema(update, {}, u"The %1 fields to change; unknown keys are ignored."_s.arg(code(c.name))));
}

// ---- Operations ---------------------------------------------------------------------------------

enum class Access {
    Public, // no token needed
    Token, // a token is optional; the collection's rule decides
    Superuser,
};

struct Operation
{
    Operation(QString id, QString tag, QString summary, QString description, Access access = Access::Superuser)
        : id(std::move(id))
        , tag(std::move(tag))
        , summary(std::move(summary))
        , description(std::move(description))
        , access(access)
    {
    }

    QString id;
    QString tag;
    QString summary;
    QString description;
    Access access;
    QJsonArray parameters;
    QJsonObject requestBody;
    QJsonObject responses; // the successes and operation-specific errors
    QList<int> shared; // statuses answered with a shared response (413 and 500 are added)
    QJsonValue rule = QJsonValue::Undefined; // the access rule, for x-outpost-rule
};

QString sharedResponseName(int status)
{
    switch (status) {
    case 304:
        return u"NotModified"_s;
    case 400:
        return u"BadRequest"_s;
    case 401:
        return u"Unauthorized"_s;
    case 403:
        return u"Forbidden"_s;
    case 404:
        return u"NotFound"_s;
    case 413:
        return u"ContentTooLarge"_s;
    case 415:
        return u"UnsupportedMediaType"_s;
    default:
        return u"InternalError"_s;
    }
}

QJsonObject operationJson(const Operation &op)
{
    QJsonObject responses = op.responses;
    QList<int> shared = op.shared;
    if (!op.requestBody.isEmpty())
        shared << 413;
    for (const int status : shared << 500) {
        if (!responses.contains(QString::number(status)))
            responses.insert(QString::number(status), ref(u"responses"_s, sharedResponseName(status)));
    }
    const QJsonObject bearer {{u"bearerAuth"_s, QJsonArray()}};
    const QJsonArray security = op.access == Access::Public ? QJsonArray()
        : op.access == Access::Token                        ? QJsonArray {QJsonObject(), bearer}
                                                            : QJsonArray {bearer};
    QString description = op.description;
    if (!op.rule.isUndefined())
        ; // the rule's description says who may call it
    else if (op.access == Access::Superuser)
        description += u"\n\nSuperusers only: send a superuser's token."_s;
    else if (op.access == Access::Public)
        description += u"\n\nNo token needed."_s;
    QJsonObject json {{u"operationId"_s, op.id},
                      {u"summary"_s, op.summary},
                      {u"description"_s, description},
                      {u"tags"_s, QJsonArray {op.tag}},
                      {u"security"_s, security},
                      {u"responses"_s, responses},
                      {u"x-outpost-access"_s,
                       op.access == Access::Public      ? u"public"_s
                           : op.access == Access::Token ? u"rule"_s
                                                        : u"superuser"_s}};
    if (!op.parameters.isEmpty())
        json.insert(u"parameters"_s, op.parameters);
    if (!op.requestBody.isEmpty())
        json.insert(u"requestBody"_s, op.requestBody);
    if (!op.rule.isUndefined())
        json.insert(u"x-outpost-rule"_s, op.rule);
    return json;
}

void addOperation(QJsonObject &paths, const QString &path, const QString &method, const Operation &op)
{
    QJsonObject item = paths.value(path).toObject();
    item.insert(method, operationJson(op));
    paths.insert(path, item);
}

QJsonArray parameterRefs(const QStringList &names, QJsonArray refs = {})
{
    for (const QString &name : names)
        refs.append(ref(u"parameters"_s, name));
    return refs;
}

void addSystemPaths(QJsonObject &paths)
{
    Operation health {u"getHealth"_s, u"system"_s, u"Check the server's health"_s,
                      u"Whether the server runs and its database can be read (checked at most once a second)."_s,
                      Access::Public};
    health.responses = {{u"200"_s, jsonResponse(u"Healthy."_s, schemaRef(u"Health"_s))},
                        {u"503"_s, jsonResponse(u"Degraded: the database cannot be read."_s, schemaRef(u"Health"_s))},
                        {u"400"_s, problemResponse(u"A malformed request, refused by the request guard."_s)}};
    addOperation(paths, u"/api/health"_s, u"get"_s, health);

    Operation document {u"getOpenApiDocument"_s, u"system"_s, u"Get this OpenAPI document"_s,
                        u"This description of the API, with a path and schemas for each collection as it is now."_s};
    document.responses = {{u"200"_s, jsonResponse(u"The document."_s, typed(u"object"_s, u"OpenAPI 3.1."_s))}};
    document.shared = {401, 403};
    addOperation(paths, u"/api/openapi.json"_s, u"get"_s, document);
}

void addBatchPath(QJsonObject &paths)
{
    Operation batch {u"batch"_s, u"batch"_s, u"Run several record requests in one transaction"_s,
                     u"Runs the requests in order in one transaction: all of them take effect, or none does. Each is "
                     "checked against its collection's rules with the caller's token, as if sent alone."_s,
                     Access::Token};
    batch.requestBody = jsonBody(schemaRef(u"BatchRequest"_s), u"The requests, in order."_s);
    const QJsonObject payload
        = objectSchema({{u"@jsonPayload"_s, typed(u"string"_s, u"The JSON body as text (file parts are refused)."_s)}},
                       {u"@jsonPayload"_s}, u"How the PocketBase SDK sends a batch."_s);
    batch.requestBody[u"content"_s] = with(batch.requestBody[u"content"_s].toObject(), u"multipart/form-data"_s,
                                           QJsonObject {{u"schema"_s, payload}});
    const QString failed = u"The batch is malformed (`data` names a bad request as `requests.N`), or a request "
                           "failed and none took effect: `detail` names it and `data.requests` holds its answer."_s;
    batch.responses
        = {{u"200"_s, jsonResponse(u"All succeeded: their answers, in order."_s, arrayOf(schemaRef(u"BatchResult"_s)))},
           {u"400"_s, problemResponse(failed, u"BatchProblem"_s)}};
    addOperation(paths, u"/api/batch"_s, u"post"_s, batch);
}

void addAuthPaths(QJsonObject &paths)
{
    Operation login {u"authWithPassword"_s, u"auth"_s, u"Log in as a superuser"_s,
                     u"Exchanges a superuser's e-mail address and password for a token. Every attempt is recorded "
                     "in the audit log."_s,
                     Access::Public};
    login.requestBody = jsonBody(schemaRef(u"PasswordAuth"_s), u"The credentials."_s);
    login.responses = {{u"200"_s, jsonResponse(u"Logged in."_s, schemaRef(u"AuthResponse"_s))},
                       {u"400"_s,
                        problemResponse(u"A blank identity or password (named in `data`), or wrong "
                                        "credentials: a wrong password and an unknown account get the same "
                                        "answer after the same work."_s)}};
    addOperation(paths, u"/api/collections/_superusers/auth-with-password"_s, u"post"_s, login);

    Operation refresh {u"authRefresh"_s, u"auth"_s, u"Refresh a superuser's token"_s,
                       u"A new token for the account of the (still valid) token sent."_s};
    refresh.responses = {{u"200"_s, jsonResponse(u"A new token."_s, schemaRef(u"AuthResponse"_s))}};
    refresh.shared = {401};
    addOperation(paths, u"/api/collections/_superusers/auth-refresh"_s, u"post"_s, refresh);
}

void addCollectionsPaths(QJsonObject &paths)
{
    const QString path = u"/api/collections"_s, tag = u"collections"_s;
    Operation list {u"listCollections"_s, tag, u"List collections"_s, u"A page of collection definitions."_s};
    list.parameters = parameterRefs({u"Page"_s, u"PerPage"_s, u"Filter"_s, u"Sort"_s});
    list.responses = {{u"200"_s, jsonResponse(u"A page of collections."_s, schemaRef(u"CollectionList"_s))}};
    list.shared = {400, 401, 403};
    addOperation(paths, path, u"get"_s, list);

    Operation create {u"createCollection"_s, tag, u"Create a collection"_s,
                      u"Validates the definition, then creates the collection's table and indexes in one "
                      "transaction."_s};
    create.requestBody = jsonBody(schemaRef(u"NewCollection"_s), u"The definition."_s);
    create.responses = {{u"200"_s, jsonResponse(u"The new collection."_s, schemaRef(u"Collection"_s))}};
    create.shared = {400, 401, 403};
    addOperation(paths, path, u"post"_s, create);
}

void addCollectionPaths(QJsonObject &paths)
{
    const QString path = u"/api/collections/{collectionIdOrName}"_s, tag = u"collections"_s;
    const QJsonArray idOrName = parameterRefs({u"CollectionIdOrName"_s});
    Operation view {u"getCollection"_s, tag, u"View a collection"_s, u"One collection definition."_s};
    view.parameters = idOrName;
    view.responses = {{u"200"_s, jsonResponse(u"The collection."_s, schemaRef(u"Collection"_s))}};
    view.shared = {401, 403, 404};
    addOperation(paths, path, u"get"_s, view);

    Operation update {u"updateCollection"_s, tag, u"Update a collection"_s,
                      u"Changes the keys sent. Fields are matched by id: an unknown id adds a field, a missing one "
                      "removes it. Existing values of changed fields are converted and checked; if any fails, "
                      "nothing changes."_s};
    update.parameters = idOrName;
    update.requestBody = jsonBody(schemaRef(u"CollectionPatch"_s), u"The keys to change."_s);
    update.responses = {{u"200"_s, jsonResponse(u"The updated collection."_s, schemaRef(u"Collection"_s))}};
    update.shared = {400, 401, 403, 404};
    addOperation(paths, path, u"patch"_s, update);

    Operation remove {u"deleteCollection"_s, tag, u"Delete a collection"_s,
                      u"Drops the collection and its records. System collections cannot be deleted (403)."_s};
    remove.parameters = idOrName;
    remove.responses = {{u"204"_s, QJsonObject {{u"description"_s, u"Deleted."_s}}}};
    remove.shared = {400, 401, 403, 404};
    addOperation(paths, path, u"delete"_s, remove);
}

// How a rule governs an operation, for its description.
QString ruleDescription(const std::optional<QString> &rule, const QString &key, const QString &effect)
{
    if (!rule)
        return u"Superusers only: the collection's `%1` is null."_s.arg(key);
    if (rule->isEmpty())
        return u"Public: the collection's `%1` is empty, so anyone may call it, with or without a token."_s.arg(key);
    return u"Allowed when the request satisfies the collection's `%1` %2 (superusers always are); %3"_s.arg(
        key, code(*rule), effect);
}

enum class Rule { List, View, Create, Update, Delete }; // the order of kRuleKeys

// A record operation of `catalog.collections[index]`, governed by its rule `rule`. `id` and
// `summary` get the schema name and the collection name for %1.
Operation recordOperation(const Catalog &catalog, qsizetype index, Rule rule, const QString &id, const QString &summary,
                          const QString &effect)
{
    const Collection &c = catalog.collections[index];
    const std::optional<QString> *rules[] = {&c.listRule, &c.viewRule, &c.createRule, &c.updateRule, &c.deleteRule};
    const std::optional<QString> &value = *rules[int(rule)];
    Operation op {id.arg(catalog.schemaNames[index]), catalog.tags[index], summary.arg(c.name),
                  ruleDescription(value, kRuleKeys[int(rule)], effect), value ? Access::Token : Access::Superuser};
    op.rule = value ? QJsonValue(*value) : QJsonValue(QJsonValue::Null);
    if (!value)
        op.shared << 403; // an invalid or expired token counts as none here: 403, not 401
    return op;
}

QString recordsPath(const Collection &c)
{
    return u"/api/collections/"_s + c.name + u"/records"_s;
}

void addRecordsPaths(QJsonObject &paths, const Catalog &catalog, qsizetype index)
{
    const QString name = catalog.schemaNames[index], path = recordsPath(catalog.collections[index]);
    Operation list = recordOperation(catalog, index, Rule::List, u"list%1Records"_s, u"List %1 records"_s,
                                     u"records it excludes are left out."_s);
    list.parameters = parameterRefs(
        {u"Page"_s, u"PerPage"_s, u"Sort"_s, u"Filter"_s, u"Fields"_s, u"Expand"_s, u"SkipTotal"_s, u"IfNoneMatch"_s});
    list.responses = {{u"200"_s, withETag(jsonResponse(u"A page of records."_s, schemaRef(name + u"RecordList"_s)))}};
    list.shared << 304 << 400;
    addOperation(paths, path, u"get"_s, list);

    Operation create = recordOperation(catalog, index, Rule::Create, u"create%1Record"_s, u"Create a %1 record"_s,
                                       u"a record it excludes is refused (400)."_s);
    create.parameters = parameterRefs({u"Fields"_s, u"Expand"_s});
    create.requestBody = jsonBody(schemaRef(name + u"CreateBody"_s), u"The new record's values."_s);
    create.responses = {{u"200"_s, jsonResponse(u"The new record."_s, schemaRef(name + u"Record"_s))}};
    create.shared << 400 << 415;
    addOperation(paths, path, u"post"_s, create);
}

void addRecordPaths(QJsonObject &paths, const Catalog &catalog, qsizetype index)
{
    const Collection &c = catalog.collections[index];
    const QString name = catalog.schemaNames[index], path = recordsPath(c) + u"/{id}"_s;
    const QJsonObject record = schemaRef(name + u"Record"_s);
    const Field *idField = c.field(u"id"_s);
    const QJsonObject idSchema = idField ? valueSchema(*idField, Direction::Output, catalog)
                                         : with(typed(u"string"_s), u"pattern"_s, kRecordIdPattern);
    const QJsonObject id = parameter(u"id"_s, u"path"_s, idSchema, u"The record's id."_s);
    const QString hides = u"a record it excludes answers 404."_s;

    Operation view = recordOperation(catalog, index, Rule::View, u"get%1Record"_s, u"View a %1 record"_s, hides);
    view.parameters = parameterRefs({u"Fields"_s, u"Expand"_s, u"IfNoneMatch"_s}, {id});
    view.responses = {{u"200"_s, withETag(jsonResponse(u"The record."_s, record))}};
    view.shared << 304 << 404;
    addOperation(paths, path, u"get"_s, view);

    Operation update
        = recordOperation(catalog, index, Rule::Update, u"update%1Record"_s, u"Update a %1 record"_s, hides);
    update.parameters = parameterRefs({u"Fields"_s, u"Expand"_s}, {id});
    update.requestBody = jsonBody(schemaRef(name + u"UpdateBody"_s), u"The values to change."_s);
    update.responses = {{u"200"_s, jsonResponse(u"The updated record."_s, record)}};
    update.shared << 400 << 404 << 415;
    addOperation(paths, path, u"patch"_s, update);

    Operation remove
        = recordOperation(catalog, index, Rule::Delete, u"delete%1Record"_s, u"Delete a %1 record"_s, hides);
    remove.parameters = {id};
    remove.responses = {{u"204"_s, QJsonObject {{u"description"_s, u"Deleted."_s}}}};
    remove.shared << 400 << 404;
    addOperation(paths, path, u"delete"_s, remove);
}

void addExportPath(QJsonObject &paths, const Catalog &catalog, qsizetype index)
{
    const Collection &c = catalog.collections[index];
    const QString name = catalog.schemaNames[index];
    Operation op = recordOperation(catalog, index, Rule::List, u"export%1Records"_s, u"Export %1 records"_s,
                                   u"records it excludes are left out."_s);
    op.description.prepend(u"Every record (optionally filtered and sorted), streamed; superusers also get hidden "
                           "fields. At most 4 exports run at once.\n\n"_s);
    op.parameters = parameterRefs({u"ExportFormat"_s, u"Filter"_s, u"Sort"_s});
    QJsonObject media = content(u"application/json"_s, arrayOf(schemaRef(name + u"Record"_s)));
    media.insert(u"text/csv"_s,
                 QJsonObject {{u"schema"_s,
                               typed(u"string"_s,
                                     u"RFC 4180: a header row of field "
                                     "names in schema order, then a row per "
                                     "record; arrays and json values as "
                                     "JSON text."_s)}});
    const QJsonObject disposition {{u"description"_s, u"`attachment; filename=\"%1.csv\"` (or `.json`)."_s.arg(c.name)},
                                   {u"schema"_s, typed(u"string"_s)}};
    op.responses = {{u"200"_s,
                     QJsonObject {{u"description"_s, u"The records."_s},
                                  {u"headers"_s, QJsonObject {{u"Content-Disposition"_s, disposition}}},
                                  {u"content"_s, media}}},
                    {u"503"_s, problemResponse(u"Too many exports are running; try again later."_s)}};
    op.shared << 400;
    addOperation(paths, u"/api/collections/"_s + c.name + u"/export"_s, u"get"_s, op);
}

void addImportPath(QJsonObject &paths, const Catalog &catalog, qsizetype index)
{
    const Collection &c = catalog.collections[index];
    Operation op = recordOperation(catalog, index, Rule::Create, u"import%1Records"_s, u"Import %1 records"_s,
                                   u"a row it excludes fails."_s);
    op.description.prepend(u"Creates a record per row (at most 100,000), each checked as a create is. CSV cells "
                           "are read like form values; superusers may also set `created` and `updated`.\n\n"_s);
    op.parameters = parameterRefs({u"ImportOnError"_s});
    QJsonObject rows = content(u"application/json"_s, arrayOf(schemaRef(catalog.schemaNames[index] + u"CreateBody"_s)));
    rows.insert(u"text/csv"_s,
                QJsonObject {{u"schema"_s,
                              typed(u"string"_s,
                                    u"A header row of field names, then a "
                                    "row per record (RFC 4180)."_s)}});
    op.requestBody = {{u"required"_s, true}, {u"description"_s, u"The rows."_s}, {u"content"_s, rows}};
    op.responses = {{u"200"_s, jsonResponse(u"What was imported."_s, schemaRef(u"ImportResult"_s))},
                    {u"400"_s,
                     problemResponse(u"The body or a parameter is malformed, or rows failed with `onError=abort`: "
                                     "nothing was imported and `errors` lists the failed rows."_s,
                                     u"ImportProblem"_s)},
                    {u"415"_s, problemResponse(u"The body is neither `text/csv` nor `application/json`."_s)}};
    addOperation(paths, u"/api/collections/"_s + c.name + u"/import"_s, u"post"_s, op);
}

// ---- The document -------------------------------------------------------------------------------

QJsonObject info(const QString &version)
{
    const QString description
        = u"The HTTP API of an Outpost server, in PocketBase's (v0.23+) wire format.\n\n"
          "**Authentication.** Log in with `POST /api/collections/_superusers/auth-with-password` and send the "
          "token as `Authorization: Bearer TOKEN` (the bare token is accepted too). Each operation says whether it "
          "needs a superuser; record operations follow the collection's access rules, quoted in each (there an "
          "invalid or expired token counts as none, as in PocketBase).\n\n"
          "**Errors** are RFC 9457 `application/problem+json` bodies that also carry PocketBase's `message` and "
          "`data`. Besides the statuses listed per operation, the request guard answers any request that breaks "
          "its limits: 400 (malformed), 405 (wrong method, with `Allow`), 408 (too slow), 413 (body over 16 MiB), "
          "414 (request line over 8 KiB), 431 (head over 32 KiB or 64 fields), 501 (unknown method) or 505 (not "
          "HTTP/1.1).\n\n"
          "**Values.** Dates are UTC strings like `2006-01-02 15:04:05.000Z`; record ids are 15 characters of "
          "`[a-z0-9]`."_s;
    return {{u"title"_s, u"Outpost"_s},
            {u"version"_s, version},
            {u"description"_s, description},
            {u"license"_s, QJsonObject {{u"name"_s, kLicenseName}}}};
}

QJsonArray servers(QString url)
{
    while (url.size() > 1 && url.endsWith(u'/'))
        url.chop(1); // redocly no-server-trailing-slash
    return {QJsonObject {{u"url"_s, url.isEmpty() ? u"/"_s : url}}};
}

QJsonObject components(const QJsonObject &schemas)
{
    const QJsonObject bearer {{u"type"_s, u"http"_s},
                              {u"scheme"_s, u"bearer"_s},
                              {u"bearerFormat"_s, u"JWT"_s},
                              {u"description"_s,
                               u"`Authorization: Bearer TOKEN` with a token from auth-with-password or auth-refresh "
                               "(HS256, valid one hour); the bare token is accepted too."_s}};
    return {{u"schemas"_s, schemas},
            {u"parameters"_s, sharedParameters()},
            {u"responses"_s, sharedResponses()},
            {u"headers"_s, sharedHeaders()},
            {u"securitySchemes"_s, QJsonObject {{u"bearerAuth"_s, bearer}}}};
}

// Drops the components nothing refers to (redocly no-unused-components, spectral
// oas3-unused-component), e.g. the record parameters when there is no collection.
void pruneUnusedComponents(QJsonObject &document)
{
    QJsonObject components = document.value(u"components"_s).toObject();
    for (bool removed = true; removed;) {
        removed = false;
        document.insert(u"components"_s, components);
        const QByteArray text = QJsonDocument(document).toJson(QJsonDocument::Compact);
        for (const QString &kind : {u"schemas"_s, u"parameters"_s, u"responses"_s, u"headers"_s}) {
            QJsonObject group = components.value(kind).toObject();
            for (const QString &name : group.keys()) {
                if (!text.contains(QString(u"\"#/components/"_s + kind + u'/' + name + u'"').toUtf8())) {
                    group.remove(name);
                    removed = true;
                }
            }
            components.insert(kind, group);
        }
    }
}

} // namespace

QJsonObject buildOpenApiDocument(const QList<Data::Collection> &collections, const QString &serverUrl,
                                 const QString &version)
{
    const Catalog catalog = makeCatalog(collections);
    QJsonObject schemas, paths;
    addProblemSchemas(schemas);
    addFieldSchemas(schemas);
    addCollectionSchemas(schemas);
    addSystemSchemas(schemas);
    addBatchAndImportSchemas(schemas);
    addSystemPaths(paths);
    addAuthPaths(paths);
    addBatchPath(paths);
    addCollectionsPaths(paths);
    addCollectionPaths(paths);
    QJsonArray tags;
    for (const auto &tag : kFixedTags)
        tags.append(QJsonObject {{u"name"_s, tag[0]}, {u"description"_s, tag[1]}});
    for (qsizetype i = 0; i < collections.size(); ++i) {
        addRecordSchemas(schemas, catalog, i);
        addRecordsPaths(paths, catalog, i);
        addRecordPaths(paths, catalog, i);
        addExportPath(paths, catalog, i);
        addImportPath(paths, catalog, i);
        tags.append(
            QJsonObject {{u"name"_s, catalog.tags[i]},
                         {u"description"_s, u"Records of the %1 collection."_s.arg(code(collections[i].name))}});
    }
    QJsonObject document {{u"openapi"_s, u"3.1.0"_s},
                          {u"info"_s, info(version)},
                          {u"servers"_s, servers(serverUrl)},
                          {u"tags"_s, tags},
                          {u"paths"_s, paths},
                          {u"security"_s, QJsonArray {QJsonObject {{u"bearerAuth"_s, QJsonArray()}}}},
                          {u"components"_s, components(schemas)}};
    pruneUnusedComponents(document);
    return document;
}

} // namespace Outpost::Http
