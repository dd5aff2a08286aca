// The collections API end to end (PocketBase's /api/collections routes): a real Server on a real
// socket, superuser-only access, validation errors in PocketBase's shape, listing, and schema
// changes on collections that hold data.
#include <QJsonArray>
#include <QtTest>
#include <algorithm>
#include <memory>

#include "apifixture.h"

using namespace Outpost;
using namespace Outpost::Testing;

namespace {

// The field error at a dotted path ("fields.1.name") of a problem's `data`, which nests the
// errors of list items the way PocketBase does ({"fields": {"1": {"name": {code, message}}}}).
QJsonObject fieldError(const HttpResponse &r, const QString &path)
{
    QJsonValue value = r.json().value(u"data");
    for (const QString &part : path.split(u'.'))
        value = value.toObject().value(part);
    return value.toObject();
}

// The dotted names of the RFC 9457 `errors` extension, sorted.
QStringList listedErrors(const HttpResponse &r)
{
    QStringList listed;
    for (const QJsonValue &e : r.json().value(u"errors").toArray())
        listed.append(e.toObject().value(u"field").toString());
    listed.sort();
    return listed;
}

QJsonObject fieldNamed(const QJsonObject &collection, const QString &name)
{
    for (const QJsonValue &f : collection.value(QStringLiteral("fields")).toArray())
        if (f.toObject().value(QStringLiteral("name")).toString() == name)
            return f.toObject();
    return {};
}

int fieldIndex(const QJsonObject &collection, const QString &name)
{
    const QJsonArray fields = collection.value(QStringLiteral("fields")).toArray();
    for (qsizetype i = 0; i < fields.size(); ++i)
        if (fields[i].toObject().value(QStringLiteral("name")).toString() == name)
            return int(i);
    return -1;
}

QStringList namesOf(const QJsonArray &items)
{
    QStringList names;
    for (const QJsonValue &item : items)
        names.append(item.toObject().value(QStringLiteral("name")).toString());
    return names;
}

} // namespace

class TestCollectionsApi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void everyRouteRefusesWithoutValidToken_data();
    void everyRouteRefusesWithoutValidToken();
    void createWithEveryFieldType();
    void viewByIdOrName();
    void unknownCollectionIs404_data();
    void unknownCollectionIs404();
    void validationErrors_data();
    void validationErrors();
    void duplicateNameIsRefused_data();
    void duplicateNameIsRefused();
    void relationTargetMustExist_data();
    void relationTargetMustExist();
    void listPagingFilterSort();
    void listRejectsBadParameters_data();
    void listRejectsBadParameters();
    void formContentTypeIs415();
    void patchRenamesFieldsAndKeepsData();
    void patchRenamesCollectionAndKeepsData();
    void patchThatWouldTruncateIsRefused();
    void deleteOfReferencedCollectionIsRefused();
    void deleteThen404();

private:
    QJsonObject create(const QJsonObject &definition);
    QJsonObject addRecord(const QString &collection, const QJsonObject &record);
    QJsonArray allRecords(const QString &collection);

    std::unique_ptr<ApiFixture> m_api;
};

void TestCollectionsApi::init()
{
    m_api = std::make_unique<ApiFixture>();
    QVERIFY2(m_api->start(), qPrintable(m_api->errorString()));
}

void TestCollectionsApi::cleanup()
{
    m_api.reset();
}

// Creates a collection as the superuser; {} (and a failed check) when that fails.
QJsonObject TestCollectionsApi::create(const QJsonObject &definition)
{
    const QJsonObject created = bodyIfOk(m_api->admin().post("/api/collections", definition), "creating a collection");
    if (!created.isEmpty())
        m_api->clock().advanceMs(1000); // distinct created/updated times
    return created;
}

QJsonObject TestCollectionsApi::addRecord(const QString &collection, const QJsonObject &record)
{
    return bodyIfOk(m_api->admin().post(recordsPath(collection), record), "creating a record");
}

QJsonArray TestCollectionsApi::allRecords(const QString &collection)
{
    return m_api->admin().get(recordsPath(collection) + "?perPage=1000&sort=%40rowid").json().value(u"items").toArray();
}

void TestCollectionsApi::everyRouteRefusesWithoutValidToken_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("credential");
    const QList<QPair<QByteArray, QByteArray>> routes {{"GET", "/api/collections"},
                                                       {"POST", "/api/collections"},
                                                       {"GET", "/api/collections/guarded"},
                                                       {"PATCH", "/api/collections/guarded"},
                                                       {"DELETE", "/api/collections/guarded"}};
    for (const auto &[method, target] : routes)
        for (const char *credential : {"none", "garbage", "forged", "expired"})
            QTest::addRow("%s %s, %s token", method.constData(), target.constData(), credential)
                << method << target << QByteArray(credential);
}

void TestCollectionsApi::everyRouteRefusesWithoutValidToken()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, credential);
    const QJsonObject guarded = create(object(R"j({"name":"guarded","fields":[{"name":"title","type":"text"}]})j"));
    QVERIFY(!guarded.isEmpty());

    QByteArray authorization;
    const QByteArray token = m_api->server().login(kSuperuserEmail, kSuperuserPassword);
    QVERIFY(!token.isEmpty());
    if (credential == "garbage") {
        authorization = "Bearer not.a.token";
    } else if (credential == "forged") {
        // Our own token with its signature changed.
        QByteArray forged = token;
        forged[forged.size() - 3] = forged[forged.size() - 3] == 'A' ? 'B' : 'A';
        authorization = "Bearer " + forged;
    } else if (credential == "expired") {
        authorization = "Bearer " + token;
        m_api->clock().advanceMs(2 * 3600 * 1000); // tokens live an hour
    }
    const QByteArray body = method == "GET" || method == "DELETE"
        ? QByteArray()
        : QByteArray(R"j({"name":"intruder","fields":[{"name":"x","type":"text"}]})j");
    HeaderList headers;
    if (!authorization.isEmpty())
        headers.append({QByteArray("Authorization"), authorization});
    if (!body.isEmpty())
        headers.append({QByteArray("Content-Type"), QByteArray("application/json")});
    const HttpResponse r = m_api->server().roundTrip(httpRequest(method, target, body, headers));
    QVERIFY2(isProblem(r, 401), summary(r).constData());
    QVERIFY(r.header("WWW-Authenticate").startsWith("Bearer"));
    QVERIFY(!r.body.contains("\"fields\":["));

    // Nothing changed.
    const ApiClient admin(m_api->server(), "Bearer " + m_api->server().login(kSuperuserEmail, kSuperuserPassword));
    const HttpResponse after = admin.get("/api/collections/guarded");
    QCOMPARE(after.status, 200);
    QCOMPARE(after.json(), guarded);
    QVERIFY(isProblem(admin.get("/api/collections/intruder"), 404));
}

void TestCollectionsApi::createWithEveryFieldType()
{
    const QJsonObject target = create(object(R"j({"name":"targets","fields":[{"name":"label","type":"text"}]})j"));
    QVERIFY(!target.isEmpty());
    const QString targetId = target.value(u"id").toString();

    QJsonObject definition = object(R"j({
        "name": "everything",
        "listRule": "",
        "viewRule": "title != ''",
        "fields": [
            {"name": "title", "type": "text", "required": true, "min": 2, "max": 120, "pattern": "^[A-Za-z ]+$"},
            {"name": "views", "type": "number", "min": 0, "max": 1000, "onlyInt": true},
            {"name": "published", "type": "bool"},
            {"name": "contact", "type": "email", "onlyDomains": ["example.com"]},
            {"name": "homepage", "type": "url", "exceptDomains": ["bad.example"]},
            {"name": "due", "type": "date", "min": "2020-01-01 00:00:00.000Z", "max": "2030-12-31 23:59:59.000Z"},
            {"name": "colours", "type": "select", "values": ["red", "green", "blue"], "maxSelect": 2},
            {"name": "meta", "type": "json", "maxSize": 2048},
            {"name": "target", "type": "relation", "collectionId": "", "maxSelect": 1, "cascadeDelete": true},
            {"name": "secret", "type": "text", "hidden": true},
            {"name": "touched", "type": "autodate", "onCreate": true, "onUpdate": true}
        ],
        "indexes": ["CREATE INDEX idx_everything_views ON everything (views)"]
})j");
    QJsonArray fields = definition.value(u"fields").toArray();
    QJsonObject relation = fields[8].toObject();
    relation.insert(QStringLiteral("collectionId"), targetId);
    fields[8] = relation;
    definition.insert(QStringLiteral("fields"), fields);

    const HttpResponse r = m_api->admin().post("/api/collections", definition);
    QVERIFY2(r.status == 200, summary(r).constData()); // PocketBase answers 200, not 201
    QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
    const QJsonObject c = r.json();
    QVERIFY(!c.value(u"id").toString().isEmpty());
    QCOMPARE(c.value(u"name").toString(), QStringLiteral("everything"));
    QCOMPARE(c.value(u"type").toString(), QStringLiteral("base"));
    QCOMPARE(c.value(u"system").toBool(true), false);
    QCOMPARE(c.value(u"listRule").toString(QStringLiteral("null")), QString());
    QCOMPARE(c.value(u"viewRule").toString(), QStringLiteral("title != ''"));
    for (const char *rule : {"createRule", "updateRule", "deleteRule"})
        QVERIFY2(c.value(QLatin1String(rule)).isNull(), rule);
    QVERIFY(!c.value(u"created").toString().isEmpty());
    QCOMPARE(c.value(u"updated").toString(), c.value(u"created").toString());

    // The system fields come first (id) and last (created, updated), every submitted option back.
    const QJsonArray stored = c.value(u"fields").toArray();
    QCOMPARE(stored.size(), fields.size() + 3);
    QCOMPARE(stored.first().toObject().value(u"name").toString(), QStringLiteral("id"));
    for (const char *system : {"id", "created", "updated"})
        QVERIFY2(fieldNamed(c, QLatin1String(system)).value(u"system").toBool(), system);
    for (const QJsonValue &submitted : std::as_const(fields)) {
        const QJsonObject want = submitted.toObject();
        const QJsonObject got = fieldNamed(c, want.value(u"name").toString());
        QVERIFY2(!got.isEmpty(), qPrintable(want.value(u"name").toString()));
        QVERIFY(got.value(u"id").toString().startsWith(want.value(u"type").toString()));
        for (auto it = want.begin(); it != want.end(); ++it)
            QVERIFY2(got.value(it.key()) == it.value(),
                     qPrintable(want.value(u"name").toString() + u'.' + it.key() + QStringLiteral(": ")
                                + QString::fromUtf8(compact(got))));
    }
    QCOMPARE(c.value(u"indexes").toArray().size(), 1);
    QVERIFY(c.value(u"indexes").toArray().first().toString().contains(QStringLiteral("idx_everything_views")));

    // The table behind it takes a record with every type.
    const QJsonObject label = addRecord(QStringLiteral("targets"), object(R"j({"label":"t"})j"));
    QJsonObject record = object(R"j({"title": "Hello there", "views": 12, "published": true,
        "contact": "me@example.com", "homepage": "https://good.example/x", "due": "2025-06-01 12:00:00.000Z",
        "colours": ["red", "blue"], "meta": {"a": [1, 2]}, "secret": "s"})j");
    record.insert(QStringLiteral("target"), label.value(u"id"));
    const QJsonObject stored2 = addRecord(QStringLiteral("everything"), record);
    QVERIFY(!stored2.isEmpty());
    for (auto it = record.begin(); it != record.end(); ++it)
        QVERIFY2(stored2.value(it.key()) == it.value(), qPrintable(it.key()));
    QVERIFY(!stored2.value(u"touched").toString().isEmpty());
}

void TestCollectionsApi::viewByIdOrName()
{
    const QJsonObject c = create(object(R"j({"name":"Posts","fields":[{"name":"title","type":"text"}]})j"));
    QVERIFY(!c.isEmpty());
    for (const QString &key : {c.value(u"id").toString(), QStringLiteral("Posts"), QStringLiteral("posts")}) {
        const HttpResponse r = m_api->admin().get(collectionPath(key));
        QVERIFY2(r.status == 200, summary(r).constData());
        QCOMPARE(r.json(), c);
    }
}

void TestCollectionsApi::unknownCollectionIs404_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::newRow("view") << QByteArray("GET");
    QTest::newRow("update") << QByteArray("PATCH");
    QTest::newRow("delete") << QByteArray("DELETE");
}

void TestCollectionsApi::unknownCollectionIs404()
{
    QFETCH(QByteArray, method);
    const HttpResponse r = m_api->admin().send(method, "/api/collections/nothere",
                                               method == "PATCH" ? QByteArray(R"j({"listRule":""})j") : "");
    QVERIFY2(isProblem(r, 404), summary(r).constData());
}

void TestCollectionsApi::validationErrors_data()
{
    QTest::addColumn<QByteArray>("definition");
    QTest::addColumn<QStringList>("keys");
    const auto row = [](const char *name, const char *definition, QStringList keys) {
        QTest::newRow(name) << QByteArray(definition) << keys;
    };
    row("no name", R"j({"fields":[{"name":"a","type":"text"}]})j", {QStringLiteral("name")});
    row("blank name", R"j({"name":"","fields":[]})j", {QStringLiteral("name")});
    row("name with a space", R"j({"name":"my posts"})j", {QStringLiteral("name")});
    row("reserved name", R"j({"name":"_internal"})j", {QStringLiteral("name")});
    row("unsupported type", R"j({"name":"people","type":"view"})j", {QStringLiteral("type")});
    row("bad second field name", R"j({"name":"posts","fields":[{"name":"ok","type":"text"},
        {"name":"not ok","type":"text"}]})j",
        {QStringLiteral("fields.1.name")});
    row("second field without name", R"j({"name":"posts","fields":[{"name":"ok","type":"text"},{"type":"text"}]})j",
        {QStringLiteral("fields.1.name")});
    row("duplicated field name", R"j({"name":"posts","fields":[{"name":"title","type":"text"},
        {"name":"Title","type":"number"}]})j",
        {QStringLiteral("fields.1.name")});
    // Names a record already uses for something else (PocketBase reserves them too).
    row("field named collectionName", R"j({"name":"posts","fields":[{"name":"collectionName","type":"text"}]})j",
        {QStringLiteral("fields.0.name")});
    row("field named expand", R"j({"name":"posts","fields":[{"name":"expand","type":"json"}]})j",
        {QStringLiteral("fields.0.name")});
    row("unknown field type", R"j({"name":"posts","fields":[{"name":"doc","type":"blob"}]})j",
        {QStringLiteral("fields.0.type")});
    row("number min above max", R"j({"name":"posts","fields":[{"name":"n","type":"number","min":5,"max":1}]})j",
        {QStringLiteral("fields.0.max")});
    row("select without values", R"j({"name":"posts","fields":[{"name":"s","type":"select","values":[]}]})j",
        {QStringLiteral("fields.0.values")});
    row("relation without collection", R"j({"name":"posts","fields":[{"name":"r","type":"relation"}]})j",
        {QStringLiteral("fields.0.collectionId")});
    row("index on unknown column", R"j({"name":"posts","fields":[{"name":"a","type":"text"}],
        "indexes":["CREATE INDEX idx_posts_b ON posts (b)"]
})j",
        {QStringLiteral("indexes.0")});
    row("index that is not an index", R"j({"name":"posts","indexes":["DROP TABLE posts"]})j",
        {QStringLiteral("indexes.0")});
    row("rule of the wrong type", R"j({"name":"posts","listRule":5})j", {QStringLiteral("listRule")});
    // PocketBase checks rules when the collection is saved (validation_invalid_rule).
    row("rule that does not parse", R"j({"name":"posts","fields":[{"name":"title","type":"text"}],
        "listRule":"title = "})j",
        {QStringLiteral("listRule")});
    row("rule naming an unknown field", R"j({"name":"posts","fields":[{"name":"title","type":"text"}],
        "viewRule":"nosuchfield = 1"})j",
        {QStringLiteral("viewRule")});
    row("several problems at once", R"j({"name":"","fields":[{"name":"ok","type":"text"},{"name":"1bad","type":"text"},
        {"name":"n","type":"number","min":3,"max":2}]})j",
        {QStringLiteral("name"), QStringLiteral("fields.1.name"), QStringLiteral("fields.2.max")});
}

void TestCollectionsApi::validationErrors()
{
    QFETCH(QByteArray, definition);
    QFETCH(QStringList, keys);
    const int before = m_api->admin().get("/api/collections").json().value(u"totalItems").toInt(-1);
    QVERIFY(before >= 0);

    const HttpResponse r = m_api->admin().send("POST", "/api/collections", definition);
    QVERIFY2(isProblem(r, 400), summary(r).constData());
    for (const QString &key : keys) {
        const QJsonObject problem = fieldError(r, key);
        QVERIFY2(!problem.isEmpty(), qPrintable(key + QStringLiteral(" missing in ") + QString::fromUtf8(r.body)));
        QVERIFY(problem.value(u"code").toString().startsWith(QStringLiteral("validation_")));
        QVERIFY(!problem.value(u"message").toString().isEmpty());
    }
    // The RFC 9457 extension lists the same problems, and only those, by their dotted names.
    QStringList sortedKeys = keys;
    sortedKeys.sort();
    QCOMPARE(listedErrors(r), sortedKeys);

    QCOMPARE(m_api->admin().get("/api/collections").json().value(u"totalItems").toInt(-1), before);
}

void TestCollectionsApi::duplicateNameIsRefused_data()
{
    QTest::addColumn<QString>("second");
    QTest::newRow("same case") << QStringLiteral("posts");
    QTest::newRow("other case") << QStringLiteral("POSTS");
}

void TestCollectionsApi::duplicateNameIsRefused()
{
    QFETCH(QString, second);
    QVERIFY(!create(object(R"j({"name":"posts","fields":[{"name":"title","type":"text"}]})j")).isEmpty());
    const HttpResponse r = m_api->admin().post(
        "/api/collections", QJsonObject {{QStringLiteral("name"), second}, {QStringLiteral("fields"), QJsonArray()}});
    QVERIFY2(isProblem(r, 400), summary(r).constData());
    QCOMPARE(fieldError(r, QStringLiteral("name")).value(u"code").toString(),
             QStringLiteral("validation_collection_name_exists"));
    // The first one is untouched.
    const QJsonObject first = m_api->admin().get("/api/collections/posts").json();
    QCOMPARE(first.value(u"name").toString(), QStringLiteral("posts"));
    QVERIFY(!fieldNamed(first, QStringLiteral("title")).isEmpty());
}

void TestCollectionsApi::relationTargetMustExist_data()
{
    QTest::addColumn<QByteArray>("definition");
    QTest::addColumn<QString>("key"); // the position of the relation in the submitted fields
    QTest::newRow("system id field left out") << QByteArray(R"j({"name":"posts","fields":[
        {"name":"title","type":"text"},
        {"name":"author","type":"relation","collectionId":"pbc_1234567890"}]})j")
                                              << QStringLiteral("fields.1.collectionId");
    QTest::newRow("system id field sent first") << QByteArray(R"j({"name":"posts","fields":[
        {"name":"id","type":"text","primaryKey":true,"system":true,"required":true,"min":15,"max":15,
         "pattern":"^[a-z0-9]+$","autogeneratePattern":"[a-z0-9]{15}"},
        {"name":"title","type":"text"},
        {"name":"author","type":"relation","collectionId":"pbc_1234567890"}]})j")
                                                << QStringLiteral("fields.2.collectionId");
}

void TestCollectionsApi::relationTargetMustExist()
{
    QFETCH(QByteArray, definition);
    QFETCH(QString, key);
    const HttpResponse r = m_api->admin().send("POST", "/api/collections", definition);
    QVERIFY2(isProblem(r, 400), summary(r).constData());
    QVERIFY2(!fieldError(r, key).value(u"code").toString().isEmpty(), r.body.constData());
    QCOMPARE(listedErrors(r), QStringList {key});
    QVERIFY(isProblem(m_api->admin().get("/api/collections/posts"), 404));
}

void TestCollectionsApi::listPagingFilterSort()
{
    const HttpResponse empty = m_api->admin().get("/api/collections");
    QVERIFY2(empty.status == 200, summary(empty).constData());
    const int systemCount = empty.json().value(u"totalItems").toInt(-1);
    QVERIFY(systemCount >= 0);

    const QStringList created {QStringLiteral("posts"), QStringLiteral("comments"), QStringLiteral("polls"),
                               QStringLiteral("tags")};
    for (const QString &name : created)
        QVERIFY(!create(QJsonObject {{QStringLiteral("name"), name}}).isEmpty());
    const int total = systemCount + int(created.size());

    const HttpResponse all = m_api->admin().get("/api/collections?perPage=100");
    QCOMPARE(all.status, 200);
    const QJsonObject allBody = all.json();
    QCOMPARE(allBody.value(u"page").toInt(), 1);
    QCOMPARE(allBody.value(u"perPage").toInt(), 100);
    QCOMPARE(allBody.value(u"totalItems").toInt(), total);
    QCOMPARE(allBody.value(u"totalPages").toInt(), 1);
    const QStringList allNames = namesOf(allBody.value(u"items").toArray());
    QCOMPARE(allNames.size(), total);
    for (const QString &name : created)
        QVERIFY(allNames.contains(name));

    // filter=name~'po' (LIKE: a case-insensitive contains-match).
    const HttpResponse po = m_api->admin().get("/api/collections?filter=" + encoded(QStringLiteral("name~'po'")));
    QVERIFY2(po.status == 200, summary(po).constData());
    QStringList expected;
    for (const QString &name : allNames)
        if (name.contains(QStringLiteral("po"), Qt::CaseInsensitive))
            expected.append(name);
    QStringList got = namesOf(po.json().value(u"items").toArray());
    got.sort();
    expected.sort();
    QCOMPARE(got, expected);
    QVERIFY(got.contains(QStringLiteral("posts")) && got.contains(QStringLiteral("polls")));
    QCOMPARE(po.json().value(u"totalItems").toInt(), expected.size());

    // sort=-created: the newest first; ours were created one second apart.
    const HttpResponse newest = m_api->admin().get("/api/collections?sort=-created&perPage=4");
    QVERIFY2(newest.status == 200, summary(newest).constData());
    QStringList reversed = created;
    std::reverse(reversed.begin(), reversed.end());
    QCOMPARE(namesOf(newest.json().value(u"items").toArray()), reversed);
    const HttpResponse oldest
        = m_api->admin().get("/api/collections?sort=created&filter="
                             + encoded(QStringLiteral("system = false && name != 'users'"))); // users: the default
    QVERIFY2(oldest.status == 200, summary(oldest).constData());
    QCOMPARE(namesOf(oldest.json().value(u"items").toArray()), created);

    // Paging over name order.
    const HttpResponse page2 = m_api->admin().get("/api/collections?sort=name&perPage=2&page=2");
    QCOMPARE(page2.status, 200);
    const QJsonObject page2Body = page2.json();
    QCOMPARE(page2Body.value(u"page").toInt(), 2);
    QCOMPARE(page2Body.value(u"perPage").toInt(), 2);
    QCOMPARE(page2Body.value(u"totalItems").toInt(), total);
    QCOMPARE(page2Body.value(u"totalPages").toInt(), (total + 1) / 2);
    QStringList byName = allNames;
    std::sort(byName.begin(), byName.end(),
              [](const QString &a, const QString &b) { return a.compare(b, Qt::CaseInsensitive) < 0; });
    QCOMPARE(namesOf(page2Body.value(u"items").toArray()), byName.mid(2, 2));

    // Beyond the end: no items, the same totals.
    const HttpResponse beyond = m_api->admin().get("/api/collections?perPage=2&page=50");
    QCOMPARE(beyond.status, 200);
    QCOMPARE(beyond.json().value(u"items").toArray().size(), 0);
    QCOMPARE(beyond.json().value(u"totalItems").toInt(), total);
    QCOMPARE(beyond.json().value(u"page").toInt(), 50);
}

void TestCollectionsApi::listRejectsBadParameters_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::newRow("perPage=abc") << QByteArray("perPage=abc");
    QTest::newRow("page=abc") << QByteArray("page=abc");
    QTest::newRow("unfinished filter") << ("filter=" + encoded(QStringLiteral("name ~")));
    QTest::newRow("filter on unknown operator") << ("filter=" + encoded(QStringLiteral("name === 'x'")));
    QTest::newRow("sort on nonsense") << ("sort=" + encoded(QStringLiteral("name;drop")));
}

void TestCollectionsApi::listRejectsBadParameters()
{
    QFETCH(QByteArray, query);
    const HttpResponse r = m_api->admin().get("/api/collections?" + query);
    QVERIFY2(isProblem(r, 400), summary(r).constData());
}

void TestCollectionsApi::formContentTypeIs415()
{
    for (const QByteArray &type :
         {QByteArray("application/x-www-form-urlencoded"), QByteArray("multipart/form-data; boundary=xyz")}) {
        const HttpResponse form
            = m_api->admin().send("POST", "/api/collections", "name=posts", {{"Content-Type", type}});
        QVERIFY2(isProblem(form, 415), summary(form).constData());
    }
    QVERIFY(isProblem(m_api->admin().get("/api/collections/posts"), 404));
}

void TestCollectionsApi::patchRenamesFieldsAndKeepsData()
{
    const QJsonObject before = create(object(R"j({"name":"notes","fields":[
        {"name":"title","type":"text","max":100},
        {"name":"views","type":"number"}],
        "indexes":["CREATE UNIQUE INDEX idx_notes_title ON notes (title)"]})j"));
    QVERIFY(!before.isEmpty());
    QList<QJsonObject> records;
    for (const char *record :
         {R"j({"title":"alpha","views":1})j", R"j({"title":"beta","views":2})j", R"j({"title":"gamma","views":3})j"}) {
        records.append(addRecord(QStringLiteral("notes"), object(record)));
        QVERIFY(!records.last().isEmpty());
    }
    const QString titleId = fieldNamed(before, QStringLiteral("title")).value(u"id").toString();
    const QString viewsId = fieldNamed(before, QStringLiteral("views")).value(u"id").toString();

    QJsonArray fields = before.value(u"fields").toArray();
    QJsonObject title = fields[fieldIndex(before, QStringLiteral("title"))].toObject();
    title.insert(QStringLiteral("name"), QStringLiteral("headline"));
    title.insert(QStringLiteral("max"), 200);
    fields[fieldIndex(before, QStringLiteral("title"))] = title;
    QJsonObject views = fields[fieldIndex(before, QStringLiteral("views"))].toObject();
    views.insert(QStringLiteral("name"), QStringLiteral("hits"));
    views.insert(QStringLiteral("min"), 0);
    views.insert(QStringLiteral("onlyInt"), true);
    fields[fieldIndex(before, QStringLiteral("views"))] = views;
    fields.append(object(R"j({"name":"extra","type":"bool"})j"));

    const HttpResponse r = m_api->admin().patch(
        "/api/collections/notes",
        QJsonObject {{QStringLiteral("fields"), fields}, {QStringLiteral("listRule"), QString()}});
    QVERIFY2(r.status == 200, summary(r).constData());
    const QJsonObject after = r.json();
    QCOMPARE(after.value(u"id").toString(), before.value(u"id").toString());
    QCOMPARE(after.value(u"created").toString(), before.value(u"created").toString());
    QVERIFY(after.value(u"updated").toString() > before.value(u"updated").toString());
    QCOMPARE(after.value(u"listRule").toString(QStringLiteral("null")), QString());
    QCOMPARE(fieldNamed(after, QStringLiteral("headline")).value(u"id").toString(), titleId);
    QCOMPARE(fieldNamed(after, QStringLiteral("headline")).value(u"max").toInt(), 200);
    QCOMPARE(fieldNamed(after, QStringLiteral("hits")).value(u"id").toString(), viewsId);
    QVERIFY(fieldNamed(after, QStringLiteral("title")).isEmpty());
    QVERIFY(!fieldNamed(after, QStringLiteral("extra")).isEmpty());
    // The index follows the renamed field.
    const QString index = after.value(u"indexes").toArray().first().toString();
    QVERIFY2(index.contains(QStringLiteral("`headline`")), qPrintable(index));
    QCOMPARE(m_api->admin().get("/api/collections/notes").json(), after);

    // The data is all there under the new names.
    const QJsonArray items = allRecords(QStringLiteral("notes"));
    QCOMPARE(items.size(), records.size());
    for (qsizetype i = 0; i < items.size(); ++i) {
        const QJsonObject item = items[i].toObject();
        QCOMPARE(item.value(u"id").toString(), records[i].value(u"id").toString());
        QCOMPARE(item.value(u"headline").toString(), records[i].value(u"title").toString());
        QCOMPARE(item.value(u"hits").toDouble(), records[i].value(u"views").toDouble());
        QCOMPARE(item.value(u"extra").toBool(true), false);
        QCOMPARE(item.value(u"created").toString(), records[i].value(u"created").toString());
        QVERIFY(!item.contains(QStringLiteral("title")) && !item.contains(QStringLiteral("views")));
    }
    // The unique index still holds.
    const HttpResponse duplicate
        = m_api->admin().post(recordsPath(QStringLiteral("notes")), object(R"j({"headline":"alpha"})j"));
    QVERIFY2(isProblem(duplicate, 400), summary(duplicate).constData());
    QCOMPARE(fieldError(duplicate, QStringLiteral("headline")).value(u"code").toString(),
             QStringLiteral("validation_not_unique"));
}

void TestCollectionsApi::patchRenamesCollectionAndKeepsData()
{
    QVERIFY(!create(object(R"j({"name":"drafts","fields":[{"name":"title","type":"text"}],
        "indexes":["CREATE INDEX idx_drafts_title ON drafts (title)"]})j"))
                 .isEmpty());
    const QJsonObject record = addRecord(QStringLiteral("drafts"), object(R"j({"title":"kept"})j"));
    QVERIFY(!record.isEmpty());
    const HttpResponse r = m_api->admin().patch("/api/collections/drafts", object(R"j({"name":"articles"})j"));
    QVERIFY2(r.status == 200, summary(r).constData());
    QCOMPARE(r.json().value(u"name").toString(), QStringLiteral("articles"));
    QVERIFY(r.json().value(u"indexes").toArray().first().toString().contains(QStringLiteral("`articles`")));
    QVERIFY(isProblem(m_api->admin().get("/api/collections/drafts"), 404));
    QVERIFY(isProblem(m_api->admin().get(recordsPath(QStringLiteral("drafts"))), 404));
    const QJsonArray items = allRecords(QStringLiteral("articles"));
    QCOMPARE(items.size(), 1);
    QCOMPARE(items.first().toObject().value(u"id").toString(), record.value(u"id").toString());
    QCOMPARE(items.first().toObject().value(u"title").toString(), QStringLiteral("kept"));
    QCOMPARE(items.first().toObject().value(u"collectionName").toString(), QStringLiteral("articles"));
}

void TestCollectionsApi::patchThatWouldTruncateIsRefused()
{
    const QJsonObject before = create(object(R"j({"name":"docs","fields":[{"name":"body","type":"text","max":50}]})j"));
    QVERIFY(!before.isEmpty());
    QStringList tooLong;
    for (const int length : {10, 40, 45, 20}) {
        const QJsonObject r
            = addRecord(QStringLiteral("docs"), QJsonObject {{QStringLiteral("body"), QString(length, u'x')}});
        QVERIFY(!r.isEmpty());
        if (length > 20)
            tooLong.append(r.value(u"id").toString());
    }
    const QJsonArray recordsBefore = allRecords(QStringLiteral("docs"));
    QCOMPARE(recordsBefore.size(), 4);

    const int index = fieldIndex(before, QStringLiteral("body"));
    QJsonArray fields = before.value(u"fields").toArray();
    QJsonObject body = fields[index].toObject();
    body.insert(QStringLiteral("max"), 20);
    fields[index] = body;
    const HttpResponse r
        = m_api->admin().patch("/api/collections/docs", QJsonObject {{QStringLiteral("fields"), fields}});
    QVERIFY2(isProblem(r, 400), summary(r).constData());
    // The error names the field and every record that would not fit.
    const QJsonObject problem = fieldError(r, QStringLiteral("fields.%1").arg(index));
    QVERIFY2(!problem.isEmpty(), r.body.constData());
    QVERIFY(!problem.value(u"code").toString().isEmpty());
    QStringList named;
    for (const QJsonValue &id : problem.value(u"records").toArray())
        named.append(id.toString());
    named.sort();
    tooLong.sort();
    QCOMPARE(named, tooLong);
    QVERIFY(r.json().value(u"detail").toString().contains(QStringLiteral("body")));

    // Nothing changed: neither the definition nor a record.
    QCOMPARE(m_api->admin().get("/api/collections/docs").json(), before);
    QCOMPARE(allRecords(QStringLiteral("docs")), recordsBefore);
    // A limit every record fits is accepted.
    body.insert(QStringLiteral("max"), 45);
    fields[index] = body;
    const HttpResponse fits
        = m_api->admin().patch("/api/collections/docs", QJsonObject {{QStringLiteral("fields"), fields}});
    QVERIFY2(fits.status == 200, summary(fits).constData());
    QCOMPARE(allRecords(QStringLiteral("docs")), recordsBefore);
}

void TestCollectionsApi::deleteOfReferencedCollectionIsRefused()
{
    const QJsonObject authors = create(object(R"j({"name":"authors","fields":[{"name":"name","type":"text"}]})j"));
    QVERIFY(!authors.isEmpty());
    QJsonObject books = object(R"j({"name":"books","fields":[{"name":"title","type":"text"},
        {"name":"author","type":"relation","collectionId":""}]})j");
    QJsonArray fields = books.value(u"fields").toArray();
    QJsonObject author = fields[1].toObject();
    author.insert(QStringLiteral("collectionId"), authors.value(u"id"));
    fields[1] = author;
    books.insert(QStringLiteral("fields"), fields);
    QVERIFY(!create(books).isEmpty());

    const HttpResponse refused = m_api->admin().remove("/api/collections/authors");
    QVERIFY2(isProblem(refused, 400), summary(refused).constData());
    QVERIFY(refused.json().value(u"detail").toString().contains(QStringLiteral("books")));
    QCOMPARE(m_api->admin().get("/api/collections/authors").json(), authors);

    // Once the reference is gone, it goes.
    QCOMPARE(m_api->admin().remove("/api/collections/books").status, 204);
    QCOMPARE(m_api->admin().remove("/api/collections/authors").status, 204);
}

void TestCollectionsApi::deleteThen404()
{
    const QJsonObject c = create(object(R"j({"name":"temp","fields":[{"name":"title","type":"text"}]})j"));
    QVERIFY(!c.isEmpty());
    QVERIFY(!addRecord(QStringLiteral("temp"), object(R"j({"title":"x"})j")).isEmpty());

    const HttpResponse r = m_api->admin().remove(collectionPath(c.value(u"id").toString()));
    QCOMPARE(r.status, 204);
    QVERIFY(r.body.isEmpty());
    QVERIFY(isProblem(m_api->admin().get("/api/collections/temp"), 404));
    QVERIFY(isProblem(m_api->admin().get(recordsPath(QStringLiteral("temp"))), 404));
    QVERIFY(isProblem(m_api->admin().remove("/api/collections/temp"), 404));
    // The name is free again, with an empty table.
    QVERIFY(!create(object(R"j({"name":"temp","fields":[{"name":"other","type":"number"}]})j")).isEmpty());
    QCOMPARE(allRecords(QStringLiteral("temp")).size(), 0);
}

QTEST_GUILESS_MAIN(TestCollectionsApi)
#include "tst_collectionsapi.moc"
