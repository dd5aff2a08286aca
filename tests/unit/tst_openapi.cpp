#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include "auth/apikeys.h"
#include "auth/scopes.h"
#include "data/collection.h"
#include "data/field.h"
#include "http/openapi.h"

using namespace Outpost;
using Outpost::Data::Collection;

namespace {

QJsonObject parse(const QByteArray &json)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError)
        qWarning() << "bad JSON in the test:" << error.errorString() << json;
    return doc.object();
}

Collection collection(const QByteArray &definition)
{
    auto c = Data::collectionFromJson(parse(definition));
    if (!c)
        qWarning() << "bad collection in the test:" << c.error().message << c.error().details;
    return c ? *c : Collection {};
}

// Every field type, every kind of rule, relations (single, multiple, to a missing collection), a
// hidden field, a pattern JSON Schema cannot carry, and names that collide once PascalCased.
QList<Collection> fixture()
{
    return {
        collection(R"j({"id": "pbc_users", "name": "users", "fields": [
            {"name": "name", "type": "text", "required": true, "min": 2, "max": 50},
            {"name": "email", "type": "email", "required": true, "onlyDomains": ["example.com"]},
            {"name": "website", "type": "url"},
            {"name": "nickname", "type": "text", "pattern": "^[a-z]+$"},
            {"name": "secret", "type": "text", "hidden": true}],
            "listRule": "", "viewRule": "@request.auth.id != ''", "createRule": null,
            "updateRule": "id = @request.auth.id", "deleteRule": null})j"),
        collection(R"j({"id": "pbc_posts", "name": "posts", "fields": [
            {"name": "title", "type": "text", "required": true, "max": 120, "pattern": "(?i)^[a-z ]+$"},
            {"name": "body", "type": "text"},
            {"name": "views", "type": "number", "onlyInt": true, "min": 0},
            {"name": "rating", "type": "number", "min": 1, "max": 5},
            {"name": "published", "type": "bool"},
            {"name": "publishedAt", "type": "date", "min": "2020-01-01"},
            {"name": "status", "type": "select", "values": ["draft", "published"]},
            {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3, "required": true},
            {"name": "meta", "type": "json", "maxSize": 1000},
            {"name": "author", "type": "relation", "collectionId": "pbc_users", "required": true},
            {"name": "reviewers", "type": "relation", "collectionId": "pbc_users", "maxSelect": 5},
            {"name": "readAt", "type": "autodate", "onUpdate": true}],
            "listRule": "", "viewRule": "", "createRule": "@request.auth.id != ''",
            "updateRule": "author = @request.auth.id", "deleteRule": null})j"),
        collection(R"j({"id": "pbc_blog1", "name": "blog_posts", "fields": [
            {"name": "ghost", "type": "relation", "collectionId": "pbc_missing", "maxSelect": 2}]})j"),
        collection(R"j({"id": "pbc_blog2", "name": "blogPosts", "fields": [], "listRule": "`x` = 1"})j"),
        collection(R"j({"id": "pbc_auth", "name": "auth", "fields": []})j"),
    };
}

QJsonObject at(const QJsonObject &root, const QString &path)
{
    QJsonValue v = root;
    for (const QString &key : path.split(u'/'))
        v = v.toObject().value(key);
    return v.toObject();
}

QJsonObject resolve(const QJsonObject &doc, const QJsonObject &maybeRef)
{
    const QString ref = maybeRef.value(QStringLiteral("$ref")).toString();
    return ref.isEmpty() ? maybeRef : at(doc, ref.mid(2));
}

void collectRefs(const QJsonValue &value, QStringList &refs)
{
    if (value.isArray()) {
        for (const QJsonValue &item : value.toArray())
            collectRefs(item, refs);
    } else if (value.isObject()) {
        const QJsonObject object = value.toObject();
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (it.key() == u"$ref")
                refs << it.value().toString();
            else
                collectRefs(it.value(), refs);
        }
    }
}

// (path, method, operation) of every operation.
QList<std::tuple<QString, QString, QJsonObject>> operations(const QJsonObject &doc)
{
    QList<std::tuple<QString, QString, QJsonObject>> result;
    const QJsonObject paths = doc.value(QStringLiteral("paths")).toObject();
    for (auto p = paths.begin(); p != paths.end(); ++p) {
        const QJsonObject item = p.value().toObject();
        for (auto m = item.begin(); m != item.end(); ++m)
            if (m.key() != u"parameters")
                result.append({p.key(), m.key(), m.value().toObject()});
    }
    return result;
}

QJsonObject operationById(const QJsonObject &doc, const QString &id)
{
    for (const auto &[path, method, op] : operations(doc))
        if (op.value(QStringLiteral("operationId")).toString() == id)
            return op;
    return {};
}

// "a b c" as a list (the tables' shorthand).
QStringList words(const char *text)
{
    return QString::fromLatin1(text).split(u' ', Qt::SkipEmptyParts);
}

QStringList strings(const QJsonValue &array)
{
    QStringList result;
    for (const QJsonValue &item : array.toArray())
        result << item.toString();
    return result;
}

QByteArray compact(const QJsonValue &value)
{
    return QJsonDocument(QJsonArray {value}).toJson(QJsonDocument::Compact).chopped(1).mid(1);
}

// The $ref of the problem an operation's 400 response carries besides the plain Problem.
QString specialProblem(const QJsonObject &op)
{
    return op[u"responses"][u"400"][u"content"][u"application/problem+json"][u"schema"][u"anyOf"][1][u"$ref"]
        .toString();
}

} // namespace

class TestOpenApi : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    void documentBasics();
    void routes_data();
    void routes();
    void everyOperationIsComplete();
    void referencesResolveAndComponentsAreUsed();
    void errorResponsesAreProblems();
    void fieldDefinitionsUseADiscriminator();
    void recordValues_data();
    void recordValues();
    void createAndUpdateBodies();
    void rulesDecideSecurity_data();
    void rulesDecideSecurity();
    void batchAndImportFailures();
    void apiKeys();
    void namesStayUnique();
    void relationsExpandToTheirRecords();
    void patternsOnlyWhenPortable_data();
    void patternsOnlyWhenPortable();
    void withoutCollections();

private:
    QJsonObject m_doc;
};

void TestOpenApi::initTestCase()
{
    m_doc = Http::buildOpenApiDocument(fixture(), QStringLiteral("http://127.0.0.1:8090/"), QStringLiteral("1.2.3"));
    // The openapi_lint test lints this document (tests/openapi/lint.sh).
    if (const QString out = qEnvironmentVariable("OPENAPI_OUT"); !out.isEmpty()) {
        QFile file(out);
        QVERIFY2(file.open(QIODevice::WriteOnly | QIODevice::Truncate), qPrintable(file.errorString()));
        QVERIFY(file.write(QJsonDocument(m_doc).toJson(QJsonDocument::Indented)) > 0);
    }
}

void TestOpenApi::documentBasics()
{
    QCOMPARE(m_doc[u"openapi"].toString(), QStringLiteral("3.1.0"));
    QCOMPARE(m_doc[u"info"][u"title"].toString(), QStringLiteral("Outpost"));
    QCOMPARE(m_doc[u"info"][u"version"].toString(), QStringLiteral("1.2.3"));
    QVERIFY(!m_doc[u"info"][u"description"].toString().isEmpty());
    QVERIFY(!m_doc[u"info"][u"license"][u"name"].toString().isEmpty());
    QCOMPARE(m_doc[u"servers"].toArray().size(), 1);
    QCOMPARE(m_doc[u"servers"][0][u"url"].toString(), QStringLiteral("http://127.0.0.1:8090"));
    QCOMPARE(compact(m_doc[u"components"][u"securitySchemes"][u"bearerAuth"].toObject().value(u"scheme")),
             QByteArray(R"("bearer")"));
    QCOMPARE(m_doc[u"components"][u"securitySchemes"][u"bearerAuth"][u"bearerFormat"].toString(),
             QStringLiteral("JWT"));
    const QJsonObject apiKey = m_doc[u"components"][u"securitySchemes"][u"apiKey"].toObject();
    QCOMPARE(apiKey[u"type"].toString(), QStringLiteral("apiKey"));
    QCOMPARE(apiKey[u"in"].toString(), QStringLiteral("header"));
    QCOMPARE(apiKey[u"name"].toString(), QStringLiteral("X-API-Key"));
    for (int p = 0; p <= int(Auth::Permission::SettingsManage); ++p) {
        const QString scope = u'`' + Auth::permissionName(Auth::Permission(p)) + u'`';
        QVERIFY2(apiKey[u"description"].toString().contains(scope), qPrintable(scope));
    }
}

void TestOpenApi::routes_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("method");
    QTest::addColumn<QString>("operationId");
    QTest::addColumn<QString>("access");
    QTest::addColumn<QString>("scope");
    QTest::addColumn<QStringList>("statuses");
    const auto row = [](const char *path, const char *method, const char *id, const char *access, const char *scope,
                        const char *statuses) {
        QTest::newRow(id) << QString::fromLatin1(path) << QString::fromLatin1(method) << QString::fromLatin1(id)
                          << QString::fromLatin1(access) << QString::fromLatin1(scope) << words(statuses);
    };
    const char *manage = "collections:manage", *read = "records:read", *write = "records:write";
    row("/api/health", "get", "getHealth", "public", "", "200 400 500 503");
    row("/api/openapi.json", "get", "getOpenApiDocument", "superuser", manage, "200 401 403 429 500");
    row("/api/collections/{collection}/auth-with-password", "post", "authWithPassword", "public", "",
        "200 400 404 413 429 500");
    row("/api/collections/{collection}/auth-refresh", "post", "authRefresh", "account", "", "200 401 404 429 500");
    row("/api/collections/{collection}/auth-logout", "post", "authLogout", "account", "", "204 401 404 429 500");
    row("/api/oauth2/token", "post", "oauth2Token", "public", "", "200 400 401 413 429 500");
    row("/api/oauth2/revoke", "post", "oauth2Revoke", "public", "", "200 400 413 429 500");
    row("/api/batch", "post", "batch", "rule", write, "200 400 401 403 413 429 500");
    row("/api/collections", "get", "listCollections", "superuser", manage, "200 400 401 403 429 500");
    row("/api/collections", "post", "createCollection", "superuser", manage, "200 400 401 403 413 415 429 500");
    row("/api/collections/{collectionIdOrName}", "get", "getCollection", "superuser", manage,
        "200 401 403 404 429 500");
    row("/api/collections/{collectionIdOrName}", "patch", "updateCollection", "superuser", manage,
        "200 400 401 403 404 413 415 429 500");
    row("/api/collections/{collectionIdOrName}", "delete", "deleteCollection", "superuser", manage,
        "204 400 401 403 404 429 500");
    row("/api/collections/posts/records", "get", "listPostsRecords", "rule", read, "200 304 400 401 403 429 500");
    row("/api/collections/posts/records", "post", "createPostsRecord", "rule", write,
        "200 400 401 403 413 415 429 500");
    row("/api/collections/posts/records/{id}", "get", "getPostsRecord", "rule", read, "200 304 401 403 404 429 500");
    row("/api/collections/posts/records/{id}", "patch", "updatePostsRecord", "rule", write,
        "200 400 401 403 404 413 415 429 500");
    row("/api/collections/posts/records/{id}", "delete", "deletePostsRecord", "superuser", write,
        "204 400 401 403 404 429 500");
    row("/api/collections/posts/export", "get", "exportPostsRecords", "rule", read, "200 400 401 403 429 500 503");
    row("/api/collections/posts/import", "post", "importPostsRecords", "rule", write,
        "200 400 401 403 413 415 429 500");
    row("/api/collections/users/records/{id}", "get", "getUsersRecord", "rule", read, "200 304 401 403 404 429 500");
    row("/api/collections/users/import", "post", "importUsersRecords", "superuser", write,
        "200 400 401 403 413 415 429 500");
    row("/api/collections/auth/records", "get", "listAuthRecords", "superuser", read, "200 304 400 401 403 429 500");
    row("/api/collections/auth/export", "get", "exportAuthRecords", "superuser", read, "200 400 401 403 429 500 503");
    const char *keys = "keys:manage";
    row("/api/keys", "post", "createApiKey", "superuser", keys, "201 400 401 403 413 415 429 500");
    row("/api/keys", "get", "listApiKeys", "superuser", keys, "200 401 403 429 500");
    row("/api/keys/{id}", "get", "getApiKey", "superuser", keys, "200 401 403 404 429 500");
    row("/api/keys/{id}", "patch", "updateApiKey", "superuser", keys, "200 400 401 403 404 413 415 429 500");
    row("/api/keys/{id}", "delete", "revokeApiKey", "superuser", keys, "204 401 403 404 429 500");
    row("/api/keys/{id}/rotate", "post", "rotateApiKey", "superuser", keys, "200 400 401 403 404 413 415 429 500");
    row("/api/logs/audit", "get", "listAuditEntries", "superuser", "logs:read", "200 400 401 403 429 500");
    row("/api/logs/requests", "get", "listRequestEntries", "superuser", "logs:read", "200 400 401 403 429 500");
    row("/metrics", "get", "scrapeMetrics", "superuser", "metrics:read", "200 401 403 429 500");
    row("/api/metrics/summary", "get", "getMetricsSummary", "superuser", "metrics:read", "200 400 401 403 429 500");
    const char *settings = "settings:manage";
    row("/api/settings/rate-limits", "get", "getRateLimits", "superuser", settings, "200 401 403 429 500");
    row("/api/settings/rate-limits", "put", "setRateLimits", "superuser", settings, "200 400 401 403 413 415 429 500");
    row("/api/settings/rate-limits", "delete", "resetRateLimits", "superuser", settings, "200 401 403 429 500");
}

void TestOpenApi::routes()
{
    QFETCH(QString, path);
    QFETCH(QString, method);
    QFETCH(QString, operationId);
    QFETCH(QString, access);
    QFETCH(QString, scope);
    QFETCH(QStringList, statuses);
    const QJsonObject op = m_doc[u"paths"][path][method].toObject();
    QVERIFY2(!op.isEmpty(), qPrintable(method + u' ' + path));
    QCOMPARE(op[u"operationId"].toString(), operationId);
    QCOMPARE(op[u"x-outpost-access"].toString(), access);
    QCOMPARE(op[u"x-outpost-scope"].toString(), scope);
    QCOMPARE(op[u"responses"].toObject().keys(), statuses);
}

void TestOpenApi::everyOperationIsComplete()
{
    QSet<QString> ids, tags;
    for (const QJsonValue &tag : m_doc[u"tags"].toArray()) {
        QVERIFY(!tag[u"description"].toString().isEmpty());
        tags.insert(tag[u"name"].toString());
    }
    QCOMPARE(tags.size(), m_doc[u"tags"].toArray().size());
    const auto all = operations(m_doc);
    QCOMPARE(all.size(), 31 + 5 * 7);
    for (const auto &[path, method, op] : all) {
        const QString where = method + u' ' + path;
        const QString id = op[u"operationId"].toString();
        QVERIFY2(!id.isEmpty() && !ids.contains(id), qPrintable(where));
        ids.insert(id);
        QVERIFY2(!op[u"summary"].toString().isEmpty() && !op[u"description"].toString().isEmpty(), qPrintable(where));
        QCOMPARE(op[u"tags"].toArray().size(), 1);
        QVERIFY2(tags.contains(op[u"tags"][0].toString()), qPrintable(where));
        QVERIFY2(op[u"security"].isArray(), qPrintable(where));
        const QStringList statuses = op[u"responses"].toObject().keys();
        QVERIFY2(std::any_of(statuses.begin(), statuses.end(), [](const QString &s) { return s.startsWith(u'2'); }),
                 qPrintable(where));
        QVERIFY2(std::any_of(statuses.begin(), statuses.end(), [](const QString &s) { return s.startsWith(u'4'); }),
                 qPrintable(where));
        for (const QJsonValue &p : op[u"parameters"].toArray()) {
            const QJsonObject parameter = resolve(m_doc, p.toObject());
            QVERIFY2(!parameter[u"description"].toString().isEmpty(), qPrintable(where));
            if (parameter[u"in"].toString() == u"path")
                QVERIFY2(path.contains(u'{' + parameter[u"name"].toString() + u'}'), qPrintable(where));
        }
    }
}

void TestOpenApi::referencesResolveAndComponentsAreUsed()
{
    QStringList refs;
    collectRefs(m_doc, refs);
    QSet<QString> used;
    for (const QString &ref : std::as_const(refs)) {
        QVERIFY2(ref.startsWith(u"#/components/"), qPrintable(ref));
        QVERIFY2(!at(m_doc, ref.mid(2)).isEmpty(), qPrintable(ref));
        used.insert(ref);
    }
    const QJsonObject components = m_doc[u"components"].toObject();
    for (auto group = components.begin(); group != components.end(); ++group) {
        if (group.key() == u"securitySchemes")
            continue;
        for (const QString &name : group.value().toObject().keys())
            QVERIFY2(used.contains(u"#/components/" + group.key() + u'/' + name), qPrintable(name));
    }
}

void TestOpenApi::errorResponsesAreProblems()
{
    for (const auto &[path, method, op] : operations(m_doc)) {
        const QJsonObject responses = op[u"responses"].toObject();
        for (auto it = responses.begin(); it != responses.end(); ++it) {
            const QJsonObject response = resolve(m_doc, it.value().toObject());
            QVERIFY(!response[u"description"].toString().isEmpty());
            if (it.key().toInt() < 400 || (path == u"/api/health" && it.key() == u"503"))
                continue;
            // OAuth 2.0 clients expect RFC 6749's {error, error_description}; only a 413 or 500
            // from the server's shared layers is a problem there.
            if (path.startsWith(u"/api/oauth2/") && it.key() != u"413" && it.key() != u"500")
                continue;
            const QJsonObject schema = response[u"content"][u"application/problem+json"][u"schema"].toObject();
            const QJsonValue problem = schema.contains(u"anyOf") ? schema[u"anyOf"][0][u"$ref"] : schema[u"$ref"];
            QCOMPARE(problem.toString(), QStringLiteral("#/components/schemas/Problem"));
        }
    }
    const QJsonObject problem = at(m_doc, QStringLiteral("components/schemas/Problem"));
    QCOMPARE(strings(problem[u"required"]), words("type title status detail message data"));
    QVERIFY(problem[u"properties"][u"errors"].isObject());
}

void TestOpenApi::fieldDefinitionsUseADiscriminator()
{
    const QJsonObject field = at(m_doc, QStringLiteral("components/schemas/CollectionField"));
    QCOMPARE(field[u"discriminator"][u"propertyName"].toString(), QStringLiteral("type"));
    const QJsonObject mapping = field[u"discriminator"][u"mapping"].toObject();
    const QStringList types = words("autodate bool date email json number password relation select text url");
    QCOMPARE(mapping.keys(), types);
    QCOMPARE(field[u"oneOf"].toArray().size(), types.size());
    for (const QString &type : types) {
        QVERIFY(Data::fieldTypeFromName(type).has_value());
        const QJsonObject variant = at(m_doc, mapping[type].toString().mid(2));
        QCOMPARE(variant[u"properties"][u"type"][u"const"].toString(), type);
        QVERIFY(variant[u"required"].toArray().contains(QStringLiteral("type")));
    }
    QVERIFY(at(m_doc, QStringLiteral("components/schemas/TextField/properties")).contains(u"autogeneratePattern"));
    QVERIFY(at(m_doc, QStringLiteral("components/schemas/NumberField/properties")).contains(u"onlyInt"));
    QVERIFY(at(m_doc, QStringLiteral("components/schemas/RelationField/properties")).contains(u"cascadeDelete"));
    QVERIFY(at(m_doc, QStringLiteral("components/schemas/SelectField/properties")).contains(u"maxSelect"));
    const QJsonObject collection = at(m_doc, QStringLiteral("components/schemas/Collection"));
    QCOMPARE(collection[u"required"].toArray().size(), 13);
    QCOMPARE(compact(collection[u"properties"][u"listRule"][u"type"]), QByteArray(R"(["string","null"])"));
}

void TestOpenApi::recordValues_data()
{
    QTest::addColumn<QString>("schema");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QByteArray>("expected"); // the property's schema without its description

    const auto row = [](const char *schema, const char *field, const QByteArray &expected) {
        QTest::addRow("%s.%s", schema, field) << QString::fromLatin1(schema) << QString::fromLatin1(field) << expected;
    };
    row("PostsRecord", "id", R"({"maxLength":15,"minLength":15,"pattern":"^[a-z0-9]+$","type":"string"})");
    row("UsersRecord", "name", R"({"maxLength":50,"minLength":2,"type":"string"})");
    row("UsersRecord", "nickname",
        R"({"anyOf":[{"maxLength":5000,"pattern":"^[a-z]+$"},{"const":""}],"type":"string"})");
    row("PostsRecord", "title", R"({"maxLength":120,"minLength":1,"type":"string"})");
    row("PostsRecord", "body", R"({"maxLength":5000,"type":"string"})");
    row("PostsRecord", "views", R"({"minimum":0,"type":"integer"})");
    row("PostsRecord", "rating", R"({"anyOf":[{"maximum":5,"minimum":1},{"const":0}],"type":"number"})");
    row("PostsRecord", "published", R"({"type":"boolean"})");
    row("UsersRecord", "email", R"({"format":"email","type":"string"})");
    row("UsersRecord", "website", R"({"anyOf":[{"format":"uri"},{"const":""}],"type":"string"})");
    row("PostsRecord", "publishedAt",
        R"({"anyOf":[{"pattern":"^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$"},{"const":""}],"type":"string"})");
    row("PostsCreateBody", "publishedAt", R"({"type":"string"})");
    row("PostsRecord", "created",
        R"({"pattern":"^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$","type":"string"})");
    row("PostsRecord", "readAt",
        R"({"anyOf":[{"pattern":"^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$"},{"const":""}],"type":"string"})");
    row("PostsRecord", "status", R"({"enum":["draft","published",""],"type":"string"})");
    row("PostsRecord", "tags",
        R"({"items":{"enum":["a","b","c"],"type":"string"},"maxItems":3,"minItems":1,"type":"array","uniqueItems":true})");
    row("PostsRecord", "meta", R"({})");
    row("PostsRecord", "author", R"({"pattern":"^[a-z0-9]{15}$","type":"string"})");
    row("PostsRecord", "reviewers",
        R"({"items":{"pattern":"^[a-z0-9]{15}$","type":"string"},"maxItems":5,"type":"array","uniqueItems":true})");
    row("PostsRecord", "collectionName", R"({"const":"posts","type":"string"})");
}

void TestOpenApi::recordValues()
{
    QFETCH(QString, schema);
    QFETCH(QString, field);
    QFETCH(QByteArray, expected);
    QJsonObject property = at(m_doc, u"components/schemas/" + schema + u"/properties/" + field);
    QVERIFY2(!property.isEmpty(), qPrintable(field));
    if (!field.startsWith(u"collection"))
        QVERIFY(!property.take(QStringLiteral("description")).toString().isEmpty());
    QCOMPARE(compact(property), expected);
}

void TestOpenApi::createAndUpdateBodies()
{
    const QJsonObject record = at(m_doc, QStringLiteral("components/schemas/UsersRecord"));
    const QJsonObject create = at(m_doc, QStringLiteral("components/schemas/UsersCreateBody"));
    const QJsonObject update = at(m_doc, QStringLiteral("components/schemas/UsersUpdateBody"));
    QCOMPARE(strings(record[u"required"]),
             words("collectionId collectionName id name email website nickname created updated"));
    QVERIFY(record[u"properties"][u"secret"][u"description"].toString().contains(u"only superusers"));
    QCOMPARE(strings(create[u"required"]), words("name email"));
    QCOMPARE(create[u"properties"].toObject().keys(), words("email id name nickname secret website"));
    QVERIFY(create[u"properties"][u"id"][u"description"].toString().contains(u"[a-z0-9]{15}"));
    QCOMPARE(update[u"properties"].toObject().keys(), words("email name nickname secret website"));
    QVERIFY(!update.contains(u"required"));
    const QJsonObject posts = at(m_doc, QStringLiteral("components/schemas/PostsCreateBody"));
    QCOMPARE(strings(posts[u"required"]), words("title tags author"));
    QVERIFY(!posts[u"properties"].toObject().contains(u"readAt"));
    const QJsonObject list = at(m_doc, QStringLiteral("components/schemas/PostsRecordList"));
    QCOMPARE(list[u"properties"][u"items"][u"items"][u"$ref"].toString(),
             QStringLiteral("#/components/schemas/PostsRecord"));
}

void TestOpenApi::rulesDecideSecurity_data()
{
    QTest::addColumn<QString>("operationId");
    QTest::addColumn<QByteArray>("security");
    QTest::addColumn<QByteArray>("rule");
    QTest::addColumn<QString>("says");
    const QByteArray optional = R"([{},{"bearerAuth":[]},{"apiKey":[]}])";
    const QByteArray required = R"([{"bearerAuth":[]},{"apiKey":[]}])";
    QTest::newRow("empty list rule") << "listUsersRecords" << optional << QByteArray(R"("")") << "Public";
    QTest::newRow("expression") << "getUsersRecord" << optional << QByteArray(R"("@request.auth.id != ''")")
                                << "`@request.auth.id != ''`";
    QTest::newRow("null rule") << "createUsersRecord" << required << QByteArray("null")
                               << "Superusers and API keys only";
    QTest::newRow("record keys") << "getUsersRecord" << optional << QByteArray(R"("@request.auth.id != ''")")
                                 << "`records:read` or `records:read:users` scope";
    QTest::newRow("backticks quoted") << "listBlogPosts2Records" << optional << QByteArray(R"("`x` = 1")")
                                      << "`` `x` = 1 ``";
    QTest::newRow("collections") << "listCollections" << required << QByteArray()
                                 << "Superusers, or API keys with the `collections:manage` scope.";
    QTest::newRow("keys") << "rotateApiKey" << required << QByteArray()
                          << "Superusers, or API keys with the `keys:manage` scope.";
    QTest::newRow("export, list rule \"\"") << "exportPostsRecords" << optional << QByteArray(R"("")") << "Public";
    QTest::newRow("import, null create rule")
        << "importUsersRecords" << required << QByteArray("null") << "Superusers and API keys only";
    QTest::newRow("batch") << "batch" << optional << QByteArray() << "as if sent alone";
    QTest::newRow("refresh") << "authRefresh" << QByteArray(R"([{"bearerAuth":[]}])") << QByteArray()
                             << "the account's token";
    QTest::newRow("login") << "authWithPassword" << QByteArray("[]") << QByteArray() << "No token";
    QTest::newRow("health") << "getHealth" << QByteArray("[]") << QByteArray() << "No token";
}

void TestOpenApi::rulesDecideSecurity()
{
    QFETCH(QString, operationId);
    QFETCH(QByteArray, security);
    QFETCH(QByteArray, rule);
    QFETCH(QString, says);
    const QJsonObject op = operationById(m_doc, operationId);
    QCOMPARE(compact(op[u"security"]), security);
    if (!rule.isEmpty())
        QCOMPARE(compact(op[u"x-outpost-rule"]), rule);
    else
        QVERIFY(!op.contains(u"x-outpost-rule"));
    QVERIFY2(op[u"description"].toString().contains(says), qPrintable(op[u"description"].toString()));
}

void TestOpenApi::batchAndImportFailures()
{
    const QJsonObject batch = operationById(m_doc, QStringLiteral("batch"));
    QVERIFY(batch[u"requestBody"][u"content"].toObject().contains(u"multipart/form-data"));
    QCOMPARE(specialProblem(batch), QStringLiteral("#/components/schemas/BatchProblem"));
    const QJsonObject item = at(m_doc, QStringLiteral("components/schemas/BatchRequest/properties/requests"));
    QCOMPARE(item[u"maxItems"].toInt(), 50);
    QCOMPARE(strings(item[u"items"][u"properties"][u"method"][u"enum"]), words("POST PUT PATCH DELETE"));
    const QJsonObject import = operationById(m_doc, QStringLiteral("importPostsRecords"));
    QCOMPARE(import[u"requestBody"][u"content"].toObject().keys(), words("application/json text/csv"));
    QCOMPARE(specialProblem(import), QStringLiteral("#/components/schemas/ImportProblem"));
    const QJsonObject exporter = operationById(m_doc, QStringLiteral("exportPostsRecords"));
    QCOMPARE(exporter[u"responses"][u"200"][u"content"].toObject().keys(), words("application/json text/csv"));
    QCOMPARE(at(m_doc, QStringLiteral("components/parameters/ExportFormat/schema"))[u"default"].toString(),
             QStringLiteral("csv"));
}

void TestOpenApi::apiKeys()
{
    // The key's schema lists what ApiKey::toJson() writes, all of it always present.
    const QJsonObject key = at(m_doc, QStringLiteral("components/schemas/ApiKey"));
    const QStringList members = Auth::ApiKey().toJson().keys();
    QCOMPARE(key[u"properties"].toObject().keys(), members);
    QStringList required = strings(key[u"required"]);
    required.sort();
    QCOMPARE(required, members);
    const QJsonObject issued = at(m_doc, QStringLiteral("components/schemas/IssuedApiKey"));
    QCOMPARE(issued[u"allOf"][0][u"$ref"].toString(), QStringLiteral("#/components/schemas/ApiKey"));
    QCOMPARE(strings(issued[u"allOf"][1][u"required"]), words("key"));

    const QRegularExpression scope(at(m_doc, QStringLiteral("components/schemas/ApiKeyScope"))[u"pattern"].toString());
    QVERIFY(scope.isValid());
    for (int p = 0; p <= int(Auth::Permission::SettingsManage); ++p) {
        const QString name = Auth::permissionName(Auth::Permission(p));
        QVERIFY2(scope.match(name).hasMatch(), qPrintable(name));
        QVERIFY2(Auth::Scopes::parse({name}).ok(), qPrintable(name));
    }
    for (const char *good : {"records:read:posts", "records:write:blog_posts"})
        QVERIFY2(scope.match(QLatin1String(good)).hasMatch() && Auth::Scopes::parse({QLatin1String(good)}).ok(), good);
    for (const char *bad : {"records:delete", "keys:manage:posts", "records:read:", "records:read:9lives"})
        QVERIFY2(!scope.match(QLatin1String(bad)).hasMatch() && !Auth::Scopes::parse({QLatin1String(bad)}).ok(), bad);

    const QJsonObject create = operationById(m_doc, QStringLiteral("createApiKey"));
    QVERIFY(create[u"responses"][u"201"][u"headers"].toObject().contains(u"Location"));
    QCOMPARE(create[u"responses"][u"201"][u"content"][u"application/json"][u"schema"][u"$ref"].toString(),
             QStringLiteral("#/components/schemas/IssuedApiKey"));
    QCOMPARE(strings(at(m_doc, QStringLiteral("components/schemas/NewApiKey"))[u"required"]), words("name scopes"));
    QCOMPARE(compact(at(m_doc, QStringLiteral("components/schemas/ApiKeyPatch/properties/expiresAt"))[u"type"]),
             QByteArray(R"(["string","null"])"));
    const QJsonObject rotate = operationById(m_doc, QStringLiteral("rotateApiKey"));
    QCOMPARE(rotate[u"requestBody"][u"required"].toBool(true), false);
}

void TestOpenApi::namesStayUnique()
{
    QVERIFY(operationById(m_doc, QStringLiteral("listBlogPostsRecords"))[u"tags"][0].toString() == u"blog_posts");
    QVERIFY(operationById(m_doc, QStringLiteral("listBlogPosts2Records"))[u"tags"][0].toString() == u"blogPosts");
    QVERIFY(operationById(m_doc, QStringLiteral("listAuthRecords"))[u"tags"][0].toString() == u"auth records");
    QVERIFY(operationById(m_doc, QStringLiteral("authRefresh"))[u"tags"][0].toString() == u"auth");
    const QJsonObject schemas = m_doc[u"components"][u"schemas"].toObject();
    for (const char *name : {"BlogPostsRecord", "BlogPosts2Record", "AuthRecord", "AuthCreateBody"})
        QVERIFY2(schemas.contains(QLatin1String(name)), name);
}

void TestOpenApi::relationsExpandToTheirRecords()
{
    const QJsonObject expand = at(m_doc, QStringLiteral("components/schemas/PostsRecord/properties/expand"));
    QCOMPARE(compact(expand[u"properties"][u"author"]), QByteArray(R"({"$ref":"#/components/schemas/UsersRecord"})"));
    QCOMPARE(compact(expand[u"properties"][u"reviewers"]),
             QByteArray(R"({"items":{"$ref":"#/components/schemas/UsersRecord"},"type":"array"})"));
    QVERIFY(!expand.contains(u"required"));
    QVERIFY(!at(m_doc, QStringLiteral("components/schemas/PostsRecord"))[u"required"].toArray().contains(
        QStringLiteral("expand")));
    QVERIFY(at(m_doc, QStringLiteral("components/schemas/PostsRecord/properties/author"))[u"description"]
                .toString()
                .contains(u"`users`"));
    const QJsonObject ghost = at(m_doc, QStringLiteral("components/schemas/BlogPostsRecord/properties/expand"));
    QCOMPARE(compact(ghost[u"properties"][u"ghost"]), QByteArray(R"({"items":{"type":"object"},"type":"array"})"));
    QVERIFY(!at(m_doc, QStringLiteral("components/schemas/UsersRecord/properties")).contains(u"expand"));
}

void TestOpenApi::patternsOnlyWhenPortable_data()
{
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<bool>("portable");
    QTest::newRow("class and anchors") << "^[a-z0-9_-]+$" << true;
    QTest::newRow("escapes and quantifiers") << "^\\d{3,}\\.\\w{2}(?:-x)?$" << true;
    QTest::newRow("escaped dash in class") << "^[a-z\\-]+$" << true;
    QTest::newRow("flags") << "(?i)^abc$" << false;
    QTest::newRow("named group") << "(?P<x>a)" << false;
    QTest::newRow("RE2 text anchors") << "\\Aabc\\z" << false;
    QTest::newRow("unicode class") << "\\pL+" << false;
    QTest::newRow("POSIX class") << "[[:alpha:]]+" << false;
    QTest::newRow("literal brace") << "a{b" << false;
    QTest::newRow("two commas in braces") << "a{1,2,3}" << false;
    QTest::newRow("bounded quantifiers") << "^a{2}b{1,}c{0,3}$" << true;
    QTest::newRow("leading literal bracket") << "[]a]" << false;
    QTest::newRow("escaped dash outside class") << "a\\-b" << false;
    QTest::newRow("class escape range") << "[\\w-z]" << false;
}

void TestOpenApi::patternsOnlyWhenPortable()
{
    QFETCH(QString, pattern);
    QFETCH(bool, portable);
    Collection c = collection(R"j({"id": "pbc_p", "name": "p", "fields": [{"name": "t", "type": "text"}]})j");
    QVERIFY(!c.fields.isEmpty());
    c.fields[1].pattern = pattern; // fields[0] is id
    const QJsonObject doc = Http::buildOpenApiDocument({c}, QStringLiteral("http://localhost"), QStringLiteral("1"));
    const QJsonObject t = at(doc, QStringLiteral("components/schemas/PRecord/properties/t"));
    const QJsonObject constrained = t[u"anyOf"][0].toObject();
    QCOMPARE(constrained[u"pattern"].toString(), portable ? pattern : QString());
    QCOMPARE(t[u"description"].toString().contains(pattern), !portable);
}

void TestOpenApi::withoutCollections()
{
    const QJsonObject doc = Http::buildOpenApiDocument({}, QString(), QStringLiteral("0.1.0"));
    QCOMPARE(operations(doc).size(), 31);
    QCOMPARE(doc[u"servers"][0][u"url"].toString(), QStringLiteral("/"));
    QCOMPARE(doc[u"tags"].toArray().size(), 9);
    QStringList refs;
    collectRefs(doc, refs);
    for (const QString &ref : std::as_const(refs))
        QVERIFY2(!at(doc, ref.mid(2)).isEmpty(), qPrintable(ref));
    const QJsonObject parameters = doc[u"components"][u"parameters"].toObject();
    QCOMPARE(parameters.keys(), words("AuthCollection CollectionIdOrName Filter Page PerPage SkipTotal Sort"));
    QVERIFY(!doc[u"components"][u"schemas"].toObject().contains(u"ImportResult"));
    QVERIFY(!doc[u"components"][u"responses"].toObject().contains(u"NotModified"));
}

QTEST_GUILESS_MAIN(TestOpenApi)
#include "tst_openapi.moc"
