#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

#include "../auth/scopes.h"
#include "../data/collection.h"

// The pieces buildOpenApiDocument() (openapi.h) is made of, shared by its files and by nothing else:
//   openapiparts.cpp    JSON Schema and OpenAPI building blocks, the shared components, operations
//   openapiadmin.cpp    the fixed API: field and collection definitions, health, auth, batch
//   openapikeys.cpp     the API keys admin API
//   openapilogs.cpp     the logs API (the audit log)
//   openapimetrics.cpp  the metrics API (Prometheus exposition and summary)
//   openapisettings.cpp the settings API (rate limits)
//   openapisuperusers.cpp  the superuser accounts API (`_superusers` records)
//   openapirecords.cpp  what each collection adds: record schemas and the records, export and import
//                       operations
//   openapi.cpp         the document: info, servers, tags, security schemes, pruning
// All of them are pure functions: thread-safe, no I/O.
namespace Outpost::Http::OpenApi {

inline const QString kDatePattern = QStringLiteral("^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$");
inline const QString kRecordIdPattern = QStringLiteral("^[a-z0-9]{15}$");
// The order of Rule (openapirecords.cpp).
inline const QString kRuleKeys[]
    = {QStringLiteral("listRule"), QStringLiteral("viewRule"), QStringLiteral("createRule"),
       QStringLiteral("updateRule"), QStringLiteral("deleteRule")};

// ---- Building blocks: each returns a JSON Schema or OpenAPI object --------------------------------

QJsonObject ref(const QString &kind, const QString &name); // {"$ref": "#/components/<kind>/<name>"}
QJsonObject schemaRef(const QString &name);
QJsonObject with(QJsonObject object, const QString &key, const QJsonValue &value);
QJsonObject typed(const QString &type, const QString &description = {});
QJsonObject bounded(const QString &type, const QJsonValue &minimum, const QJsonValue &maximum = {});
QJsonObject arrayOf(const QJsonObject &items, const QString &description = {});
QJsonObject mapOf(const QJsonObject &values, const QString &description);
QJsonObject objectSchema(const QJsonObject &properties, const QStringList &required = {},
                         const QString &description = {});
QJsonObject nullable(const QString &type, const QString &description);
QJsonObject enumOf(const QStringList &values, const QString &description = {});
QJsonObject dateString(const QString &description);
// `schema` or exactly `blank`: PocketBase stores a blank value in an optional field unchecked.
QJsonObject blankable(QJsonObject schema, const QJsonValue &blank);
// {items, page, perPage, totalItems, totalPages}, as PocketBase pages lists.
QJsonObject listSchema(const QJsonObject &item, const QString &description);

QJsonObject content(const QString &mediaType, const QJsonObject &schema);
QJsonObject jsonResponse(const QString &description, const QJsonObject &schema);
QJsonObject withETag(QJsonObject response);
// A problem response; with `special`, the body is a Problem or that schema.
QJsonObject problemResponse(const QString &description, const QString &special = {});
QJsonObject jsonBody(const QJsonObject &schema, const QString &description);
QJsonObject parameter(const QString &name, const QString &in, const QJsonObject &schema, const QString &description);
QJsonArray parameterRefs(const QStringList &names, QJsonArray refs = {});
// A CommonMark code span for any text.
QString code(const QString &text);

// ---- Shared components --------------------------------------------------------------------------

void addProblemSchemas(QJsonObject &schemas); // Problem, FieldError, BatchProblem, ImportProblem
QJsonObject sharedResponses(); // by name: BadRequest, Unauthorized, ..., NotModified
QJsonObject sharedHeaders();
QJsonObject sharedParameters();

// ---- Operations ---------------------------------------------------------------------------------

enum class Access {
    Public, // no credentials needed
    Token, // credentials are optional; the collection's rule decides
    Superuser, // a superuser's token (or, with a scope, an API key)
    Account, // the token of the account it is about: a superuser's or an app user's
};

// One operation, written as a table row (designated initialisers) or built up.
struct Operation
{
    QString method = {}; // "get", "post", ...
    QString path = {};
    QString id = {};
    QString tag = {};
    QString summary = {};
    QString description = {}; // who may call it is added
    Access access = Access::Superuser;
    // API keys whose scopes grant this may call it too (the `apiKey` scheme, `x-outpost-scope`).
    std::optional<Auth::Permission> scope = {};
    QJsonArray parameters = {};
    QJsonObject requestBody = {};
    QJsonObject responses = {}; // the successes and operation-specific errors
    // Statuses answered with a shared response. Added: 500; 413 with a body; 401 and 403 with a scope,
    // else 401 for superusers only.
    QList<int> shared = {};
    QJsonValue rule = QJsonValue::Undefined; // the access rule, for x-outpost-rule
};

void addOperation(QJsonObject &paths, const Operation &op);
// A group of operations; those without a tag or a scope of their own get the group's.
void addOperations(QJsonObject &paths, const QList<Operation> &operations, const QString &tag = {},
                   std::optional<Auth::Permission> scope = {});

// ---- The parts of the document (openapiadmin.cpp, openapikeys.cpp, openapilogs.cpp, openapirecords.cpp)

void addAdminSchemas(QJsonObject &schemas);
void addAdminPaths(QJsonObject &paths);
void addKeySchemas(QJsonObject &schemas);
void addKeyPaths(QJsonObject &paths);
void addLogSchemas(QJsonObject &schemas);
void addLogPaths(QJsonObject &paths);
void addMetricsSchemas(QJsonObject &schemas);
void addMetricsPaths(QJsonObject &paths);
void addSettingsSchemas(QJsonObject &schemas);
void addSettingsPaths(QJsonObject &paths);
void addAuthSchemas(QJsonObject &schemas);
void addAuthPaths(QJsonObject &paths);
void addSuperuserSchemas(QJsonObject &schemas);
void addSuperuserPaths(QJsonObject &paths);
QJsonObject apiKeyScheme(); // the `apiKey` security scheme, describing the scopes
// Per collection: its schemas, paths and tag. Tag names are kept unique against `takenTags`.
void addCollectionParts(const QList<Data::Collection> &collections, const QStringList &takenTags, QJsonObject &schemas,
                        QJsonObject &paths, QJsonArray &tags);

} // namespace Outpost::Http::OpenApi
