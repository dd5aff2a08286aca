// The OpenAPI document a running server serves (GET /api/openapi.json) against that server's own
// route table: every route is documented, every documented operation is a route, and each says who
// may call it as the route's policy does. A route added without documentation fails here.
#include <QSet>
#include <QtTest>

#include "apifixture.h"
#include "auth/scopes.h"
#include "data/collections.h"
#include "http/router.h"
#include "server/server.h"

using namespace Outpost;
using namespace Outpost::Testing;

namespace {

// A router pattern as the document writes it, where the collection in {c} is `collection`: the
// document names {c} {collectionIdOrName} (the collections API) or gives each collection's records
// routes concrete paths; the auth routes' {collection} and {id} stay. Empty when the pattern has a placeholder this
// does not know: map it here.
QString documentedPath(const QByteArray &pattern, const QString &collection)
{
    QString path = QString::fromUtf8(pattern);
    path.replace(QStringLiteral("{c}"), collection);
    static const QRegularExpression placeholder(
        QStringLiteral("\\{(?!id\\}|collectionIdOrName\\}|collection\\})[^}]*\\}"));
    return placeholder.match(path).hasMatch() ? QString() : path;
}

QString operationName(const QString &method, const QString &path)
{
    return method.toUpper() + u' ' + path;
}

// What the document says about the operation against the route's policy: anyone (no API key), or
// the permission, which API keys need as their scope.
QString policyMismatch(const Http::Policy &policy, const QJsonObject &op)
{
    const QJsonArray security = op[u"security"].toArray();
    const bool takesKeys = security.contains(QJsonObject {{QStringLiteral("apiKey"), QJsonArray()}});
    const QString scope = op[u"x-outpost-scope"].toString();
    if (policy.kind == Http::Policy::Kind::Open)
        return takesKeys || !scope.isEmpty() ? QStringLiteral("an open route, documented with an API key scope")
                                             : QString();
    if (!takesKeys)
        return QStringLiteral("its `security` does not list apiKey");
    if (scope != Auth::permissionName(policy.permission))
        return QStringLiteral("x-outpost-scope is \"%1\", the route needs %2")
            .arg(scope, Auth::permissionName(policy.permission));
    if (policy.kind == Http::Policy::Kind::Permission && security.contains(QJsonObject()))
        return QStringLiteral("it needs a permission, yet `security` allows anonymous calls");
    return {};
}

// Everything that does not match, one line each; empty when the document and the routes agree.
QStringList problems(const QList<Http::Router::RouteInfo> &routes, const QJsonObject &document,
                     const QStringList &collections)
{
    QStringList out;
    const QJsonObject paths = document[u"paths"].toObject();
    const auto operation
        = [&](const QString &method, const QString &path) { return paths[path].toObject()[method].toObject(); };
    QSet<QString> routed; // "GET /path" of every operation some route accounts for
    for (const Http::Router::RouteInfo &route : routes) {
        const QString method = QString::fromLatin1(Http::methodName(route.method)).toLower();
        const QString templated = documentedPath(route.pattern, QStringLiteral("{collectionIdOrName}"));
        if (templated.isEmpty()) {
            out << operationName(method, QString::fromUtf8(route.pattern)) + u": unknown placeholder";
            continue;
        }
        // Documented once with placeholders, or once for each collection.
        QStringList forms {templated};
        if (route.pattern.contains("{c}") && operation(method, templated).isEmpty() && !collections.isEmpty()) {
            forms.clear();
            for (const QString &collection : collections)
                forms << documentedPath(route.pattern, collection);
        }
        for (const QString &path : std::as_const(forms)) {
            const QJsonObject op = operation(method, path);
            const QString name = operationName(method, path);
            routed.insert(name);
            if (op.isEmpty())
                out << name + u": a route the document leaves out";
            else if (const QString why = policyMismatch(route.policy, op); !why.isEmpty())
                out << name + u": " + why;
        }
    }
    for (auto p = paths.begin(); p != paths.end(); ++p) {
        const QJsonObject item = p.value().toObject();
        for (auto m = item.begin(); m != item.end(); ++m) {
            if (m.key() != u"parameters" && !routed.contains(operationName(m.key(), p.key())))
                out << operationName(m.key(), p.key()) + u": documented, but no route answers it";
        }
    }
    return out;
}

} // namespace

class TestOpenApiRoutes : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void documentMatchesTheRoutes();
    void undocumentedRoutesAreFound();
    void strayOperationsAreFound();

private:
    // One server for the whole test: it only reads (the document and the route table).
    std::unique_ptr<ApiFixture> m_api;
    QList<Http::Router::RouteInfo> m_routes;
    QJsonObject m_document;
    QStringList m_collections;
};

void TestOpenApiRoutes::initTestCase()
{
    m_api = std::make_unique<ApiFixture>();
    QVERIFY2(m_api->start(), qPrintable(m_api->errorString()));
    const QJsonArray fields {QJsonObject {{QStringLiteral("name"), QStringLiteral("title")},
                                          {QStringLiteral("type"), QStringLiteral("text")}}};
    for (const QString &name : {QStringLiteral("posts"), QStringLiteral("notes")}) {
        const HttpResponse created = m_api->admin().post(
            "/api/collections", QJsonObject {{QStringLiteral("name"), name}, {QStringLiteral("fields"), fields}});
        QVERIFY2(created.status == 200, summary(created).constData());
    }
    m_routes = m_api->server().server().router().routes();
    QVERIFY(m_routes.size() > 20);
    m_document = bodyIfOk(m_api->admin().get("/api/openapi.json"), "GET /api/openapi.json");
    QVERIFY(!m_document.isEmpty());
    auto snapshot = m_api->server().server().collections().snapshot();
    QVERIFY(snapshot.ok());
    for (const Data::Collection &c : (*snapshot)->all())
        m_collections << c.name;
    QVERIFY(m_collections.contains(QStringLiteral("posts")));
}

void TestOpenApiRoutes::documentMatchesTheRoutes()
{
    const QStringList found = problems(m_routes, m_document, m_collections);
    QVERIFY2(found.isEmpty(), qPrintable(found.join(u'\n')));
}

void TestOpenApiRoutes::undocumentedRoutesAreFound()
{
    QList<Http::Router::RouteInfo> routes = m_routes;
    routes.append({Http::Method::Get, "/api/widgets", Http::Policy::open()});
    routes.append(
        {Http::Method::Post, "/api/collections/{c}/archive", Http::Policy::rules(Auth::Permission::RecordsWrite)});
    routes.append({Http::Method::Get, "/api/widgets/{widget}", Http::Policy::open()});
    QStringList found = problems(routes, m_document, m_collections);
    found.sort();
    QCOMPARE(found,
             QStringList({QStringLiteral("GET /api/widgets/{widget}: unknown placeholder"),
                          QStringLiteral("GET /api/widgets: a route the document leaves out"),
                          QStringLiteral("POST /api/collections/notes/archive: a route the document leaves out"),
                          QStringLiteral("POST /api/collections/posts/archive: a route the document leaves out"),
                          QStringLiteral("POST /api/collections/users/archive: a route the document leaves out")}));
}

void TestOpenApiRoutes::strayOperationsAreFound()
{
    QList<Http::Router::RouteInfo> routes;
    for (const Http::Router::RouteInfo &route : std::as_const(m_routes)) {
        if (route.pattern == "/api/keys/{id}/rotate")
            continue; // documented, but gone from the router
        if (route.pattern == "/api/keys" && route.method == Http::Method::Get)
            routes.append({route.method, route.pattern, Http::Policy::needs(Auth::Permission::LogsRead)});
        else
            routes.append(route);
    }
    QCOMPARE(problems(routes, m_document, m_collections),
             QStringList({QStringLiteral("GET /api/keys: x-outpost-scope is \"keys:manage\", the route needs "
                                         "logs:read"),
                          QStringLiteral("POST /api/keys/{id}/rotate: documented, but no route answers it")}));
}

QTEST_GUILESS_MAIN(TestOpenApiRoutes)
#include "tst_openapiroutes.moc"
