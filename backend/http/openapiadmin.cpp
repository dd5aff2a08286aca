#include <QJsonArray>

#include "../auth/superusers.h"
#include "openapiparts.h"

// The fixed part of the API, the same whatever the collections: field and collection definitions,
// health, batch and this document (the API keys are in openapikeys.cpp).
namespace Outpost::Http::OpenApi {

using namespace Qt::StringLiterals;
using Data::FieldType;

namespace {

const FieldType kFieldTypes[] = {FieldType::Text,     FieldType::Number,   FieldType::Bool,    FieldType::Email,
                                 FieldType::Url,      FieldType::Date,     FieldType::Select,  FieldType::Json,
                                 FieldType::Relation, FieldType::AutoDate, FieldType::Password};

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
    case FieldType::Password:
        return {{u"min"_s,
                 with(count, u"description"_s,
                      u"Minimum length in characters (never less than 8). Auth collections only."_s)}};
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
    created.insert(u"type"_s, with(enumOf({u"base"_s, u"auth"_s}), u"default"_s, u"base"_s));
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
                      {u"role"_s, schemaRef(u"SuperuserRole"_s)},
                      {u"created"_s, dateString(u"Creation time (UTC)."_s)},
                      {u"updated"_s, dateString(u"Last change (UTC)."_s)}},
                     {u"collectionId"_s, u"collectionName"_s, u"id"_s, u"email"_s, u"emailVisibility"_s, u"verified"_s,
                      u"role"_s, u"created"_s, u"updated"_s},
                     u"A superuser account (a record of `_superusers`)."_s));
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

// ---- Operations ---------------------------------------------------------------------------------

QJsonObject batchBody()
{
    QJsonObject body = jsonBody(schemaRef(u"BatchRequest"_s), u"The requests, in order."_s);
    const QJsonObject payload
        = objectSchema({{u"@jsonPayload"_s, typed(u"string"_s, u"The JSON body as text (file parts are refused)."_s)}},
                       {u"@jsonPayload"_s}, u"How the PocketBase SDK sends a batch."_s);
    body[u"content"_s]
        = with(body[u"content"_s].toObject(), u"multipart/form-data"_s, QJsonObject {{u"schema"_s, payload}});
    return body;
}

QList<Operation> operations()
{
    using P = Auth::Permission;
    const QString batchFailed
        = u"The batch is malformed (`data` names a bad request as `requests.N`), or a request failed and none took "
          "effect: `detail` names it and `data.requests` holds its answer."_s;
    return {
        {.method = u"get"_s,
         .path = u"/api/health"_s,
         .id = u"getHealth"_s,
         .tag = u"system"_s,
         .summary = u"Check the server's health"_s,
         .description = u"Whether the server runs and its database can be read (checked at most once a second)."_s,
         .access = Access::Public,
         .responses = {{u"200"_s, jsonResponse(u"Healthy."_s, schemaRef(u"Health"_s))},
                       {u"503"_s, jsonResponse(u"Degraded: the database cannot be read."_s, schemaRef(u"Health"_s))},
                       {u"400"_s, problemResponse(u"A malformed request, refused by the request guard."_s)}}},
        {.method = u"get"_s,
         .path = u"/api/openapi.json"_s,
         .id = u"getOpenApiDocument"_s,
         .tag = u"system"_s,
         .summary = u"Get this OpenAPI document"_s,
         .description = u"This description of the API, with a path and schemas for each collection as it is now."_s,
         .scope = P::CollectionsManage,
         .responses = {{u"200"_s, jsonResponse(u"The document."_s, typed(u"object"_s, u"OpenAPI 3.1."_s))}}},
        {.method = u"post"_s,
         .path = u"/api/batch"_s,
         .id = u"batch"_s,
         .tag = u"batch"_s,
         .summary = u"Run several record requests in one transaction"_s,
         .description = u"Runs the requests in order in one transaction: all of them take effect, or none does. "
                        "Each is checked against its collection's rules with the caller's token, as if sent alone."_s,
         .access = Access::Token,
         .scope = P::RecordsWrite,
         .requestBody = batchBody(),
         .responses
         = {{u"200"_s,
             jsonResponse(u"All succeeded: their answers, in order."_s, arrayOf(schemaRef(u"BatchResult"_s)))},
            {u"400"_s, problemResponse(batchFailed, u"BatchProblem"_s)}}},
    };
}

QList<Operation> collectionOperations()
{
    const QString collections = u"/api/collections"_s, collection = u"/api/collections/{collectionIdOrName}"_s;
    const QJsonArray idOrName = parameterRefs({u"CollectionIdOrName"_s});
    return {
        {.method = u"get"_s,
         .path = collections,
         .id = u"listCollections"_s,
         .summary = u"List collections"_s,
         .description = u"A page of collection definitions."_s,
         .parameters = parameterRefs({u"Page"_s, u"PerPage"_s, u"Filter"_s, u"Sort"_s}),
         .responses = {{u"200"_s, jsonResponse(u"A page of collections."_s, schemaRef(u"CollectionList"_s))}},
         .shared = {400}},
        {.method = u"post"_s,
         .path = collections,
         .id = u"createCollection"_s,
         .summary = u"Create a collection"_s,
         .description = u"Validates the definition, then creates the collection's table and indexes in one "
                        "transaction."_s,
         .requestBody = jsonBody(schemaRef(u"NewCollection"_s), u"The definition."_s),
         .responses = {{u"200"_s, jsonResponse(u"The new collection."_s, schemaRef(u"Collection"_s))}},
         .shared = {400, 415}},
        {.method = u"get"_s,
         .path = collection,
         .id = u"getCollection"_s,
         .summary = u"View a collection"_s,
         .description = u"One collection definition."_s,
         .parameters = idOrName,
         .responses = {{u"200"_s, jsonResponse(u"The collection."_s, schemaRef(u"Collection"_s))}},
         .shared = {404}},
        {.method = u"patch"_s,
         .path = collection,
         .id = u"updateCollection"_s,
         .summary = u"Update a collection"_s,
         .description = u"Changes the keys sent. Fields are matched by id: an unknown id adds a field, a missing "
                        "one removes it. Existing values of changed fields are converted and checked; if any "
                        "fails, nothing changes."_s,
         .parameters = idOrName,
         .requestBody = jsonBody(schemaRef(u"CollectionPatch"_s), u"The keys to change."_s),
         .responses = {{u"200"_s, jsonResponse(u"The updated collection."_s, schemaRef(u"Collection"_s))}},
         .shared = {400, 404, 415}},
        {.method = u"delete"_s,
         .path = collection,
         .id = u"deleteCollection"_s,
         .summary = u"Delete a collection"_s,
         .description = u"Drops the collection and its records. System collections cannot be deleted (403)."_s,
         .parameters = idOrName,
         .responses = {{u"204"_s, QJsonObject {{u"description"_s, u"Deleted."_s}}}},
         .shared = {400, 404}},
    };
}

} // namespace

void addAdminSchemas(QJsonObject &schemas)
{
    addFieldSchemas(schemas);
    addCollectionSchemas(schemas);
    addSystemSchemas(schemas);
    addBatchAndImportSchemas(schemas);
}

void addAdminPaths(QJsonObject &paths)
{
    addOperations(paths, operations());
    addOperations(paths, collectionOperations(), u"collections"_s, Auth::Permission::CollectionsManage);
}

} // namespace Outpost::Http::OpenApi
