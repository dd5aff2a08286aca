// The records API end to end (PocketBase's /api/collections/{c}/records routes and /api/batch): a
// real Server on a real socket; rules, hidden fields, expand, relations, batches, ETags and many
// concurrent writers.
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QtTest>
#include <memory>
#include <thread>
#include <vector>

#include "apifixture.h"

using namespace Outpost;
using namespace Outpost::Testing;

namespace {

QJsonObject relationField(const QString &name, const QJsonObject &target, int maxSelect = 1, bool required = false,
                          bool cascadeDelete = false)
{
    return QJsonObject {{QStringLiteral("name"), name},
                        {QStringLiteral("type"), QStringLiteral("relation")},
                        {QStringLiteral("collectionId"), target.value(u"id")},
                        {QStringLiteral("maxSelect"), maxSelect},
                        {QStringLiteral("required"), required},
                        {QStringLiteral("cascadeDelete"), cascadeDelete}};
}

QJsonObject withFields(QJsonObject definition, const QList<QJsonObject> &extra)
{
    QJsonArray fields = definition.value(u"fields").toArray();
    for (const QJsonObject &f : extra)
        fields.append(f);
    definition.insert(QStringLiteral("fields"), fields);
    return definition;
}

// The value at a path of keys, undefined where one is missing.
QJsonValue at(QJsonValue value, std::initializer_list<QStringView> keys)
{
    for (const QStringView key : keys)
        value = value.toObject().value(key);
    return value;
}

QJsonObject byId(const QJsonArray &items, const QString &id)
{
    for (const QJsonValue &item : items)
        if (item.toObject().value(u"id").toString() == id)
            return item.toObject();
    return {};
}

QStringList valuesOf(const QJsonArray &items, const QString &key)
{
    QStringList values;
    for (const QJsonValue &item : items)
        values.append(item.toObject().value(key).toVariant().toString());
    return values;
}

QJsonObject batchRequest(const char *method, const QByteArray &url, const QJsonObject &body = {})
{
    QJsonObject request {{QStringLiteral("method"), QLatin1String(method)},
                         {QStringLiteral("url"), QString::fromUtf8(url)}};
    if (!body.isEmpty())
        request.insert(QStringLiteral("body"), body);
    return request;
}

// Relations between four collections, for expand: posts -> authors (single, viewRule hides Bob),
// posts -> tags (multiple), comments -> posts.
struct ExpandFixture
{
    QString ann, bob, red, blue, green, one, two, three, hi, yo;
};

} // namespace

class TestRecords : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void crud();
    void explicitId();
    void unknownIdOrCollectionIs404_data();
    void unknownIdOrCollectionIs404();
    void listQuery_data();
    void listQuery();
    void listFieldsPicksKeys();
    void pagingEdges_data();
    void pagingEdges();
    void perPageIsCappedAt1000();
    void filterErrorsSayWhere_data();
    void filterErrorsSayWhere();
    void listRuleHidesRowsFromGuests();
    void viewRuleHidesRecordAs404();
    void nullRuleIsSuperuserOnly_data();
    void nullRuleIsSuperuserOnly();
    void authRuleRefusesGuests();
    void hiddenFields();
    void expandSingle();
    void expandMultiple();
    void expandNested();
    void expandWithFields();
    void deleteWithReferences_data();
    void deleteWithReferences();
    void uniqueIndexViolation();
    void relationToMissingRecord_data();
    void relationToMissingRecord();
    void batchMixed();
    void batchIsAllOrNothing_data();
    void batchIsAllOrNothing();
    void batchLimits_data();
    void batchLimits();
    void batchAsMultipartJsonPayload();
    void etagOnView();
    void etagOnList();
    void formContentTypeIs415_data();
    void formContentTypeIs415();
    void concurrentCreates();
    void requestHeadersAndQueryInRules();
    void viewIsWhatQtWouldWrite();

private:
    QJsonObject createCollection(const QJsonObject &definition);
    QJsonObject addRecord(const QString &collection, const QJsonObject &record);
    bool seedPosts(); // 25 posts: title "post N", views N, status draft when N % 5 == 0
    bool seedExpand(ExpandFixture &f);

    std::unique_ptr<ApiFixture> m_api;
};

void TestRecords::init()
{
    m_api = std::make_unique<ApiFixture>();
    QVERIFY2(m_api->start(), qPrintable(m_api->errorString()));
}

void TestRecords::cleanup()
{
    m_api.reset();
}

QJsonObject TestRecords::createCollection(const QJsonObject &definition)
{
    return bodyIfOk(m_api->admin().post("/api/collections", definition), "creating a collection");
}

QJsonObject TestRecords::addRecord(const QString &collection, const QJsonObject &record)
{
    m_api->clock().advanceMs(1000); // distinct created/updated times
    return bodyIfOk(m_api->admin().post(recordsPath(collection), record), "creating a record");
}

bool TestRecords::seedPosts()
{
    const QJsonObject posts = createCollection(object(R"j({"name":"posts","listRule":"","viewRule":"","fields":[
        {"name":"title","type":"text"}, {"name":"views","type":"number"},
        {"name":"status","type":"select","values":["draft","published"]}]})j"));
    if (posts.isEmpty())
        return false;
    for (int i = 1; i <= 25; ++i) {
        const QJsonObject r
            = addRecord(QStringLiteral("posts"),
                        QJsonObject {{QStringLiteral("title"), QStringLiteral("post %1").arg(i)},
                                     {QStringLiteral("views"), i},
                                     {QStringLiteral("status"),
                                      i % 5 == 0 ? QStringLiteral("draft") : QStringLiteral("published")}});
        if (r.isEmpty())
            return false;
    }
    return true;
}

bool TestRecords::seedExpand(ExpandFixture &f)
{
    const QJsonObject authors = createCollection(object(R"j({"name":"authors",
        "listRule":"visible = true","viewRule":"visible = true",
        "fields":[{"name":"name","type":"text"},{"name":"visible","type":"bool"},
                  {"name":"email","type":"email","hidden":true}]})j"));
    const QJsonObject tags = createCollection(
        object(R"j({"name":"tags","listRule":"","viewRule":"","fields":[{"name":"label","type":"text"}]})j"));
    if (authors.isEmpty() || tags.isEmpty())
        return false;
    const QJsonObject posts = createCollection(withFields(
        object(R"j({"name":"posts","listRule":"","viewRule":"","fields":[{"name":"title","type":"text"}]})j"),
        {relationField(QStringLiteral("author"), authors), relationField(QStringLiteral("tags"), tags, 5)}));
    if (posts.isEmpty())
        return false;
    const QJsonObject comments = createCollection(withFields(
        object(R"j({"name":"comments","listRule":"","viewRule":"","fields":[{"name":"text","type":"text"}]})j"),
        {relationField(QStringLiteral("post"), posts)}));
    if (comments.isEmpty())
        return false;
    const auto add = [this](const char *collection, const QJsonObject &record) {
        return addRecord(QLatin1String(collection), record).value(u"id").toString();
    };
    f.ann = add("authors", object(R"j({"name":"Ann","visible":true,"email":"ann@example.com"})j"));
    f.bob = add("authors", object(R"j({"name":"Bob","visible":false,"email":"bob@example.com"})j"));
    f.red = add("tags", object(R"j({"label":"red"})j"));
    f.blue = add("tags", object(R"j({"label":"blue"})j"));
    f.green = add("tags", object(R"j({"label":"green"})j"));
    f.one = add("posts",
                QJsonObject {{QStringLiteral("title"), QStringLiteral("one")},
                             {QStringLiteral("author"), f.ann},
                             {QStringLiteral("tags"), QJsonArray {f.red, f.blue}}});
    f.two = add("posts",
                QJsonObject {{QStringLiteral("title"), QStringLiteral("two")},
                             {QStringLiteral("author"), f.bob},
                             {QStringLiteral("tags"), QJsonArray {f.green}}});
    f.three = add("posts", object(R"j({"title":"three"})j"));
    f.hi = add("comments",
               QJsonObject {{QStringLiteral("text"), QStringLiteral("hi")}, {QStringLiteral("post"), f.one}});
    f.yo = add("comments",
               QJsonObject {{QStringLiteral("text"), QStringLiteral("yo")}, {QStringLiteral("post"), f.two}});
    for (const QString *id : {&f.ann, &f.bob, &f.red, &f.blue, &f.green, &f.one, &f.two, &f.three, &f.hi, &f.yo})
        if (id->isEmpty())
            return false;
    return true;
}

void TestRecords::crud()
{
    const QJsonObject posts = createCollection(object(R"j({"name":"posts","fields":[
        {"name":"title","type":"text","required":true}, {"name":"views","type":"number"}]})j"));
    QVERIFY(!posts.isEmpty());

    const HttpResponse created
        = m_api->admin().post(recordsPath(QStringLiteral("posts")), object(R"j({"title":"hello","views":3})j"));
    QVERIFY2(created.status == 200, summary(created).constData()); // PocketBase answers 200, not 201
    QCOMPARE(created.header("Content-Type"), QByteArray("application/json"));
    const QJsonObject record = created.json();
    const QString id = record.value(u"id").toString();
    QCOMPARE(id.size(), 15);
    QVERIFY(QRegularExpression(QStringLiteral("^[a-z0-9]{15}$")).match(id).hasMatch());
    QCOMPARE(record.value(u"collectionId").toString(), posts.value(u"id").toString());
    QCOMPARE(record.value(u"collectionName").toString(), QStringLiteral("posts"));
    QCOMPARE(record.value(u"title").toString(), QStringLiteral("hello"));
    QCOMPARE(record.value(u"views").toDouble(), 3.0);
    QVERIFY(!record.value(u"created").toString().isEmpty());
    QCOMPARE(record.value(u"updated").toString(), record.value(u"created").toString());

    const HttpResponse viewed = m_api->admin().get(recordsPath(QStringLiteral("posts"), id));
    QCOMPARE(viewed.status, 200);
    QCOMPARE(viewed.json(), record);
    QCOMPARE(m_api->admin().list(QStringLiteral("posts")).json().value(u"items").toArray(), QJsonArray {record});

    m_api->clock().advanceMs(1500);
    const HttpResponse updated
        = m_api->admin().patch(recordsPath(QStringLiteral("posts"), id), object(R"j({"title":"changed"})j"));
    QVERIFY2(updated.status == 200, summary(updated).constData());
    const QJsonObject after = updated.json();
    QCOMPARE(after.value(u"title").toString(), QStringLiteral("changed"));
    QCOMPARE(after.value(u"views").toDouble(), 3.0); // a partial update
    QCOMPARE(after.value(u"created").toString(), record.value(u"created").toString());
    QVERIFY(after.value(u"updated").toString() > record.value(u"updated").toString());
    QCOMPARE(m_api->admin().get(recordsPath(QStringLiteral("posts"), id)).json(), after);

    // Validation on update: a required field cannot be blanked.
    const HttpResponse blank
        = m_api->admin().patch(recordsPath(QStringLiteral("posts"), id), object(R"j({"title":""})j"));
    QVERIFY2(isProblem(blank, 400), summary(blank).constData());
    QCOMPARE(blank.json().value(u"data").toObject().value(u"title").toObject().value(u"code").toString(),
             QStringLiteral("validation_required"));

    const HttpResponse removed = m_api->admin().remove(recordsPath(QStringLiteral("posts"), id));
    QCOMPARE(removed.status, 204);
    QVERIFY(removed.body.isEmpty());
    QVERIFY(isProblem(m_api->admin().get(recordsPath(QStringLiteral("posts"), id)), 404));
    QVERIFY(isProblem(m_api->admin().remove(recordsPath(QStringLiteral("posts"), id)), 404));
    QCOMPARE(m_api->admin().list(QStringLiteral("posts")).json().value(u"totalItems").toInt(-1), 0);
}

void TestRecords::explicitId()
{
    QVERIFY(!createCollection(object(R"j({"name":"posts","fields":[{"name":"title","type":"text"}]})j")).isEmpty());
    const HttpResponse r
        = m_api->admin().post(recordsPath(QStringLiteral("posts")), object(R"j({"id":"abcdefghij12345"})j"));
    QVERIFY2(r.status == 200, summary(r).constData());
    QCOMPARE(r.json().value(u"id").toString(), QStringLiteral("abcdefghij12345"));
    const HttpResponse again
        = m_api->admin().post(recordsPath(QStringLiteral("posts")), object(R"j({"id":"abcdefghij12345"})j"));
    QVERIFY2(isProblem(again, 400), summary(again).constData());
    QVERIFY(again.json().value(u"data").toObject().contains(QStringLiteral("id")));
    const HttpResponse bad
        = m_api->admin().post(recordsPath(QStringLiteral("posts")), object(R"j({"id":"Not_Valid"})j"));
    QVERIFY2(isProblem(bad, 400), summary(bad).constData());
    QVERIFY(bad.json().value(u"data").toObject().contains(QStringLiteral("id")));
}

void TestRecords::unknownIdOrCollectionIs404_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::newRow("view unknown id") << QByteArray("GET")
                                     << QByteArray("/api/collections/posts/records/aaaaaaaaaaaaaaa");
    QTest::newRow("update unknown id") << QByteArray("PATCH")
                                       << QByteArray("/api/collections/posts/records/aaaaaaaaaaaaaaa");
    QTest::newRow("delete unknown id") << QByteArray("DELETE")
                                       << QByteArray("/api/collections/posts/records/aaaaaaaaaaaaaaa");
    QTest::newRow("list unknown collection") << QByteArray("GET") << QByteArray("/api/collections/nope/records");
    QTest::newRow("create in unknown collection") << QByteArray("POST") << QByteArray("/api/collections/nope/records");
    QTest::newRow("view in unknown collection")
        << QByteArray("GET") << QByteArray("/api/collections/nope/records/aaaaaaaaaaaaaaa");
}

void TestRecords::unknownIdOrCollectionIs404()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QVERIFY(!createCollection(object(R"j({"name":"posts","fields":[{"name":"title","type":"text"}]})j")).isEmpty());
    QVERIFY(!addRecord(QStringLiteral("posts"), object(R"j({"title":"x"})j")).isEmpty());
    const QByteArray body = method == "POST" || method == "PATCH" ? QByteArray(R"j({"title":"y"})j") : QByteArray();
    const HttpResponse r = m_api->admin().send(method, target, body);
    QVERIFY2(isProblem(r, 404), summary(r).constData());
}

void TestRecords::listQuery_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<int>("totalItems");
    QTest::addColumn<int>("totalPages");
    QTest::addColumn<int>("page");
    QTest::addColumn<int>("perPage");
    QTest::addColumn<QStringList>("views"); // of the items, in order
    const auto range = [](int from, int to) {
        QStringList list;
        for (int i = from; from <= to ? i <= to : i >= to; i += from <= to ? 1 : -1)
            list.append(QString::number(i));
        return list;
    };
    QTest::newRow("defaults") << QByteArray() << 25 << 1 << 1 << 30 << range(1, 25);
    QTest::newRow("second page of ten") << QByteArray("sort=views&perPage=10&page=2") << 25 << 3 << 2 << 10
                                        << range(11, 20);
    QTest::newRow("descending") << QByteArray("sort=-views&perPage=5") << 25 << 5 << 1 << 5 << range(25, 21);
    QTest::newRow("filter >=") << ("sort=views&filter=" + encoded(QStringLiteral("views >= 20"))) << 6 << 1 << 1 << 30
                               << range(20, 25);
    QTest::newRow("filter contains") << ("sort=views&filter=" + encoded(QStringLiteral("title ~ 'post 1'"))) << 11 << 1
                                     << 1 << 30 << (QStringList {QStringLiteral("1")} + range(10, 19));
    QTest::newRow("filter and") << ("sort=-views&filter=" + encoded(QStringLiteral("status = 'draft' && views > 10")))
                                << 3 << 1 << 1 << 30
                                << range(25, 15).filter(QRegularExpression(QStringLiteral("[05]$")));
    QTest::newRow("filter or, grouped")
        << ("sort=views&filter=" + encoded(QStringLiteral("(views < 3 || views > 23) && title != ''"))) << 4 << 1 << 1
        << 30 << QStringList {QStringLiteral("1"), QStringLiteral("2"), QStringLiteral("24"), QStringLiteral("25")};
    QTest::newRow("quote inside a string is data")
        << ("filter=" + encoded(QStringLiteral("title = \"post 1' || '1'='1\""))) << 0 << 0 << 1 << 30 << QStringList();
    QTest::newRow("two sort keys") << QByteArray("sort=status,-views&perPage=3") << 25 << 9 << 1 << 3
                                   << QStringList {QStringLiteral("25"), QStringLiteral("20"), QStringLiteral("15")};
    QTest::newRow("skipTotal") << QByteArray("skipTotal=1&sort=views&perPage=10") << -1 << -1 << 1 << 10
                               << range(1, 10);
    QTest::newRow("skipTotal with filter")
        << ("skipTotal=true&sort=views&filter=" + encoded(QStringLiteral("views>20"))) << -1 << -1 << 1 << 30
        << range(21, 25);
}

void TestRecords::listQuery()
{
    QFETCH(QByteArray, query);
    QFETCH(int, totalItems);
    QFETCH(int, totalPages);
    QFETCH(int, page);
    QFETCH(int, perPage);
    QFETCH(QStringList, views);
    QVERIFY(seedPosts());
    const HttpResponse r = m_api->guest().list(QStringLiteral("posts"), query);
    QVERIFY2(r.status == 200, summary(r).constData());
    QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
    const QJsonObject body = r.json();
    QCOMPARE(body.value(u"totalItems").toInt(-2), totalItems);
    QCOMPARE(body.value(u"totalPages").toInt(-2), totalPages);
    QCOMPARE(body.value(u"page").toInt(), page);
    QCOMPARE(body.value(u"perPage").toInt(), perPage);
    QCOMPARE(valuesOf(body.value(u"items").toArray(), QStringLiteral("views")), views);
}

void TestRecords::listFieldsPicksKeys()
{
    QVERIFY(seedPosts());
    const HttpResponse r
        = m_api->guest().list(QStringLiteral("posts"), "perPage=2&fields=" + encoded(QStringLiteral("id,title")));
    QVERIFY2(r.status == 200, summary(r).constData());
    const QJsonArray items = r.json().value(u"items").toArray();
    QCOMPARE(items.size(), 2);
    for (const QJsonValue &item : items) {
        QStringList keys = item.toObject().keys();
        keys.sort();
        QCOMPARE(keys, (QStringList {QStringLiteral("id"), QStringLiteral("title")}));
    }
    // PocketBase's excerpt modifier.
    const HttpResponse excerpt = m_api->guest().list(
        QStringLiteral("posts"), "perPage=1&fields=" + encoded(QStringLiteral("title:excerpt(3,true)")));
    QVERIFY2(excerpt.status == 200, summary(excerpt).constData());
    QCOMPARE(excerpt.json().value(u"items").toArray().first().toObject(),
             QJsonObject({{QStringLiteral("title"), QStringLiteral("pos...")}}));
}

void TestRecords::pagingEdges_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<int>("status");
    QTest::addColumn<int>("page");
    QTest::addColumn<int>("perPage");
    QTest::addColumn<int>("items");
    QTest::addColumn<int>("totalItems");
    QTest::addColumn<int>("totalPages");
    QTest::newRow("last, partial page") << QByteArray("page=3&perPage=10") << 200 << 3 << 10 << 5 << 25 << 3;
    QTest::newRow("one past the end") << QByteArray("page=4&perPage=10") << 200 << 4 << 10 << 0 << 25 << 3;
    QTest::newRow("far past the end") << QByteArray("page=1000") << 200 << 1000 << 30 << 0 << 25 << 1;
    QTest::newRow("perPage=1000") << QByteArray("perPage=1000") << 200 << 1 << 1000 << 25 << 25 << 1;
    QTest::newRow("perPage=5000 is clamped") << QByteArray("perPage=5000") << 200 << 1 << 1000 << 25 << 25 << 1;
    QTest::newRow("perPage=1") << QByteArray("perPage=1&page=25") << 200 << 25 << 1 << 1 << 25 << 25;
    QTest::newRow("perPage=0 is the default") << QByteArray("perPage=0") << 200 << 1 << 30 << 25 << 25 << 1;
    QTest::newRow("page=0 is the first") << QByteArray("page=0&perPage=10") << 200 << 1 << 10 << 10 << 25 << 3;
    QTest::newRow("negative page is the first") << QByteArray("page=-3&perPage=10") << 200 << 1 << 10 << 10 << 25 << 3;
    QTest::newRow("skipTotal past the end")
        << QByteArray("skipTotal=1&page=9&perPage=10") << 200 << 9 << 10 << 0 << -1 << -1;
    QTest::newRow("perPage=abc") << QByteArray("perPage=abc") << 400 << 0 << 0 << 0 << 0 << 0;
    QTest::newRow("page=abc") << QByteArray("page=abc") << 400 << 0 << 0 << 0 << 0 << 0;
    QTest::newRow("perPage=1.5") << QByteArray("perPage=1.5") << 400 << 0 << 0 << 0 << 0 << 0;
}

void TestRecords::pagingEdges()
{
    QFETCH(QByteArray, query);
    QFETCH(int, status);
    QFETCH(int, page);
    QFETCH(int, perPage);
    QFETCH(int, items);
    QFETCH(int, totalItems);
    QFETCH(int, totalPages);
    QVERIFY(seedPosts());
    const HttpResponse r = m_api->guest().list(QStringLiteral("posts"), query);
    if (status != 200) {
        QVERIFY2(isProblem(r, status), summary(r).constData());
        return;
    }
    QVERIFY2(r.status == 200, summary(r).constData());
    const QJsonObject body = r.json();
    QCOMPARE(body.value(u"page").toInt(), page);
    QCOMPARE(body.value(u"perPage").toInt(), perPage);
    QCOMPARE(body.value(u"items").toArray().size(), items);
    QCOMPARE(body.value(u"totalItems").toInt(-2), totalItems);
    QCOMPARE(body.value(u"totalPages").toInt(-2), totalPages);
}

void TestRecords::perPageIsCappedAt1000()
{
    QVERIFY(!createCollection(object(R"j({"name":"bulk","listRule":"","fields":[{"name":"n","type":"number"}]})j"))
                 .isEmpty());
    constexpr int kRecords = 1050;
    for (int start = 0; start < kRecords; start += 50) {
        QJsonArray requests;
        for (int n = start; n < start + 50; ++n)
            requests.append(
                batchRequest("POST", recordsPath(QStringLiteral("bulk")), QJsonObject {{QStringLiteral("n"), n}}));
        const HttpResponse r = m_api->admin().batch(requests);
        QVERIFY2(r.status == 200, summary(r).constData());
    }
    const HttpResponse first = m_api->guest().list(QStringLiteral("bulk"), "perPage=5000&sort=n");
    QVERIFY2(first.status == 200, summary(first).constData());
    QCOMPARE(first.json().value(u"perPage").toInt(), 1000);
    QCOMPARE(first.json().value(u"items").toArray().size(), 1000);
    QCOMPARE(first.json().value(u"totalItems").toInt(), kRecords);
    QCOMPARE(first.json().value(u"totalPages").toInt(), 2);
    const HttpResponse second = m_api->guest().list(QStringLiteral("bulk"), "perPage=1000&sort=n&page=2");
    QCOMPARE(second.status, 200);
    const QJsonArray rest = second.json().value(u"items").toArray();
    QCOMPARE(rest.size(), kRecords - 1000);
    QCOMPARE(rest.first().toObject().value(u"n").toInt(), 1000);
    QCOMPARE(rest.last().toObject().value(u"n").toInt(), kRecords - 1);
}

void TestRecords::filterErrorsSayWhere_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<QString>("mentions"); // the detail names this
    const auto filter
        = [](const char *expression) -> QByteArray { return "filter=" + encoded(QLatin1String(expression)); };
    QTest::newRow("missing operand") << filter("title ~") << QStringLiteral("position");
    QTest::newRow("dangling &&") << filter("title = 'x' &&") << QStringLiteral("position");
    QTest::newRow("unclosed parenthesis") << filter("(title = 'x'") << QStringLiteral("position");
    QTest::newRow("unterminated string") << filter("title = 'x") << QStringLiteral("position");
    QTest::newRow("unknown operator") << filter("title === 'x'") << QStringLiteral("position");
    QTest::newRow("unknown field") << filter("nosuchfield = 1") << QStringLiteral("nosuchfield");
    QTest::newRow("not a relation") << filter("title.name = 1") << QStringLiteral("title");
    QTest::newRow("unsupported modifier") << filter("title:each = 'x'") << QStringLiteral("position");
    QTest::newRow("a second statement") << filter("title = 'x'; DROP TABLE posts") << QStringLiteral("position");
    QTest::newRow("sort on unknown field") << QByteArray("sort=nosuchfield") << QStringLiteral("nosuchfield");
    QTest::newRow("sort with junk") << ("sort=" + encoded(QStringLiteral("title;drop"))) << QStringLiteral("title");
}

void TestRecords::filterErrorsSayWhere()
{
    QFETCH(QByteArray, query);
    QFETCH(QString, mentions);
    QVERIFY(seedPosts());
    const HttpResponse r = m_api->guest().list(QStringLiteral("posts"), query);
    QVERIFY2(isProblem(r, 400), summary(r).constData());
    const QString detail = r.json().value(u"detail").toString();
    QVERIFY2(detail.contains(mentions), qPrintable(detail));
    QCOMPARE(m_api->admin().list(QStringLiteral("posts")).json().value(u"totalItems").toInt(), 25);
}

void TestRecords::listRuleHidesRowsFromGuests()
{
    QVERIFY(!createCollection(object(R"j({"name":"articles","listRule":"status = 'published'","fields":[
        {"name":"title","type":"text"},{"name":"status","type":"select","values":["draft","published"]}]})j"))
                 .isEmpty());
    for (const char *status : {"published", "draft", "published", "draft", "published"})
        QVERIFY(!addRecord(QStringLiteral("articles"), QJsonObject {{QStringLiteral("status"), QLatin1String(status)}})
                     .isEmpty());

    const HttpResponse guest = m_api->guest().list(QStringLiteral("articles"), "perPage=2");
    QVERIFY2(guest.status == 200, summary(guest).constData());
    QCOMPARE(guest.json().value(u"totalItems").toInt(), 3); // only the rows the rule lets through
    QCOMPARE(guest.json().value(u"totalPages").toInt(), 2);
    const HttpResponse all = m_api->guest().list(QStringLiteral("articles"), "perPage=10");
    QCOMPARE(valuesOf(all.json().value(u"items").toArray(), QStringLiteral("status")),
             QStringList(3, QStringLiteral("published")));
    // A guest's filter narrows the rule, never widens it.
    const HttpResponse drafts = m_api->guest().list(
        QStringLiteral("articles"), "filter=" + encoded(QStringLiteral("status = 'draft' || id != ''")));
    QCOMPARE(drafts.status, 200);
    QCOMPARE(drafts.json().value(u"totalItems").toInt(), 3);
    const HttpResponse none
        = m_api->guest().list(QStringLiteral("articles"), "filter=" + encoded(QStringLiteral("status = 'draft'")));
    QCOMPARE(none.json().value(u"totalItems").toInt(-1), 0);
    QCOMPARE(none.json().value(u"items").toArray().size(), 0);
    // Superusers see everything.
    QCOMPARE(m_api->admin().list(QStringLiteral("articles")).json().value(u"totalItems").toInt(), 5);
}

void TestRecords::viewRuleHidesRecordAs404()
{
    QVERIFY(!createCollection(object(R"j({"name":"articles","listRule":"","viewRule":"status = 'published'","fields":[
        {"name":"status","type":"select","values":["draft","published"]}]})j"))
                 .isEmpty());
    const QString published
        = addRecord(QStringLiteral("articles"), object(R"j({"status":"published"})j")).value(u"id").toString();
    const QString draft
        = addRecord(QStringLiteral("articles"), object(R"j({"status":"draft"})j")).value(u"id").toString();
    QVERIFY(!published.isEmpty() && !draft.isEmpty());
    QCOMPARE(m_api->guest().get(recordsPath(QStringLiteral("articles"), published)).status, 200);
    const HttpResponse hidden = m_api->guest().get(recordsPath(QStringLiteral("articles"), draft));
    QVERIFY2(isProblem(hidden, 404), summary(hidden).constData());
    // The same answer as for an id that does not exist: nothing leaks.
    const HttpResponse missing
        = m_api->guest().get(recordsPath(QStringLiteral("articles"), QStringLiteral("zzzzzzzzzzzzzzz")));
    QCOMPARE(hidden.body, missing.body);
    QCOMPARE(m_api->admin().get(recordsPath(QStringLiteral("articles"), draft)).status, 200);
}

void TestRecords::nullRuleIsSuperuserOnly_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<bool>("withId");
    QTest::addColumn<int>("allowed"); // the superuser's status
    QTest::newRow("list") << QByteArray("GET") << false << 200;
    QTest::newRow("view") << QByteArray("GET") << true << 200;
    QTest::newRow("create") << QByteArray("POST") << false << 200;
    QTest::newRow("update") << QByteArray("PATCH") << true << 200;
    QTest::newRow("delete") << QByteArray("DELETE") << true << 204;
}

void TestRecords::nullRuleIsSuperuserOnly()
{
    QFETCH(QByteArray, method);
    QFETCH(bool, withId);
    QFETCH(int, allowed);
    QVERIFY(!createCollection(object(R"j({"name":"locked","fields":[{"name":"title","type":"text"}]})j")).isEmpty());
    const QJsonObject record = addRecord(QStringLiteral("locked"), object(R"j({"title":"original"})j"));
    QVERIFY(!record.isEmpty());
    const QByteArray target
        = recordsPath(QStringLiteral("locked"), withId ? record.value(u"id").toString() : QString());
    const QByteArray body
        = method == "POST" || method == "PATCH" ? QByteArray(R"j({"title":"guest was here"})j") : QByteArray();

    const HttpResponse guest = m_api->guest().send(method, target, body);
    QVERIFY2(isProblem(guest, 403), summary(guest).constData());
    QCOMPARE(guest.json().value(u"detail").toString(), QStringLiteral("Only superusers can perform this action."));
    // The guest changed nothing.
    const QJsonArray items = m_api->admin().list(QStringLiteral("locked")).json().value(u"items").toArray();
    QCOMPARE(items, QJsonArray {record});

    const HttpResponse admin = m_api->admin().send(method, target, body);
    QVERIFY2(admin.status == allowed, summary(admin).constData());
}

void TestRecords::authRuleRefusesGuests()
{
    QVERIFY(!createCollection(object(R"j({"name":"private","listRule":"@request.auth.id != ''",
        "viewRule":"@request.auth.id != ''","createRule":"@request.auth.id != ''",
        "updateRule":"@request.auth.id != ''","deleteRule":"@request.auth.id != ''",
        "fields":[{"name":"title","type":"text"}]})j"))
                 .isEmpty());
    const QJsonObject record = addRecord(QStringLiteral("private"), object(R"j({"title":"mine"})j"));
    QVERIFY(!record.isEmpty());
    const QByteArray one = recordsPath(QStringLiteral("private"), record.value(u"id").toString());

    for (const ApiClient &guest : {ApiClient(m_api->server()), ApiClient(m_api->server(), "Bearer not.a.token")}) {
        // The rule is a filter: a guest's list is empty, not an error (PocketBase does the same).
        const HttpResponse list = guest.list(QStringLiteral("private"));
        QVERIFY2(list.status == 200, summary(list).constData());
        QCOMPARE(list.json().value(u"totalItems").toInt(-1), 0);
        QCOMPARE(list.json().value(u"items").toArray().size(), 0);
        QVERIFY(isProblem(guest.get(one), 404));
        const HttpResponse create = guest.post(recordsPath(QStringLiteral("private")), object(R"j({"title":"x"})j"));
        QVERIFY2(isProblem(create, 400), summary(create).constData());
        QVERIFY(isProblem(guest.patch(one, object(R"j({"title":"x"})j")), 404));
        QVERIFY(isProblem(guest.remove(one), 404));
    }
    const QJsonArray items = m_api->admin().list(QStringLiteral("private")).json().value(u"items").toArray();
    QCOMPARE(items, QJsonArray {record});

    QCOMPARE(m_api->admin().get(one).status, 200);
    QCOMPARE(m_api->admin().patch(one, object(R"j({"title":"ours"})j")).status, 200);
    QCOMPARE(m_api->admin().post(recordsPath(QStringLiteral("private")), object(R"j({"title":"x"})j")).status, 200);
    QCOMPARE(m_api->admin().remove(one).status, 204);
}

void TestRecords::hiddenFields()
{
    QVERIFY(!createCollection(object(R"j({"name":"members","listRule":"","viewRule":"","createRule":"","fields":[
        {"name":"name","type":"text"},{"name":"secret","type":"text","hidden":true}]})j"))
                 .isEmpty());
    const QJsonObject created = addRecord(QStringLiteral("members"), object(R"j({"name":"ann","secret":"s3cret"})j"));
    QCOMPARE(created.value(u"secret").toString(), QStringLiteral("s3cret")); // superusers see hidden fields
    const QByteArray one = recordsPath(QStringLiteral("members"), created.value(u"id").toString());

    const HttpResponse list = m_api->guest().list(QStringLiteral("members"));
    QCOMPARE(list.status, 200);
    QVERIFY(!list.body.contains("s3cret"));
    QVERIFY(!list.json().value(u"items").toArray().first().toObject().contains(QStringLiteral("secret")));
    const HttpResponse view = m_api->guest().get(one);
    QCOMPARE(view.status, 200);
    QVERIFY(!view.json().contains(QStringLiteral("secret")));
    QCOMPARE(view.json().value(u"name").toString(), QStringLiteral("ann"));
    const HttpResponse picked
        = m_api->guest().list(QStringLiteral("members"), "fields=" + encoded(QStringLiteral("name,secret")));
    QCOMPARE(picked.status, 200);
    QVERIFY(!picked.body.contains("s3cret"));

    // A guest cannot probe the hidden value through filter or sort.
    const HttpResponse probe
        = m_api->guest().list(QStringLiteral("members"), "filter=" + encoded(QStringLiteral("secret = 's3cret'")));
    QVERIFY2(isProblem(probe, 400), summary(probe).constData());
    const HttpResponse probeLike
        = m_api->guest().list(QStringLiteral("members"), "filter=" + encoded(QStringLiteral("secret ~ 's'")));
    QVERIFY2(isProblem(probeLike, 400), summary(probeLike).constData());
    const HttpResponse sorted = m_api->guest().list(QStringLiteral("members"), "sort=secret");
    QVERIFY2(isProblem(sorted, 400), summary(sorted).constData());
    // Superusers can.
    const HttpResponse admin
        = m_api->admin().list(QStringLiteral("members"), "filter=" + encoded(QStringLiteral("secret = 's3cret'")));
    QCOMPARE(admin.status, 200);
    QCOMPARE(admin.json().value(u"totalItems").toInt(), 1);

    // A guest may set a hidden field (it hides output, not input) but does not get it back.
    const HttpResponse guestCreate
        = m_api->guest().post(recordsPath(QStringLiteral("members")), object(R"j({"name":"bob","secret":"b0b"})j"));
    QVERIFY2(guestCreate.status == 200, summary(guestCreate).constData());
    QVERIFY(!guestCreate.json().contains(QStringLiteral("secret")));
    QCOMPARE(m_api->admin()
                 .get(recordsPath(QStringLiteral("members"), guestCreate.json().value(u"id").toString()))
                 .json()
                 .value(u"secret")
                 .toString(),
             QStringLiteral("b0b"));
}

void TestRecords::expandSingle()
{
    ExpandFixture f;
    QVERIFY(seedExpand(f));
    const HttpResponse guest = m_api->guest().list(QStringLiteral("posts"), "expand=author");
    QVERIFY2(guest.status == 200, summary(guest).constData());
    const QJsonArray items = guest.json().value(u"items").toArray();
    QCOMPARE(items.size(), 3);
    const QJsonObject ann = byId(items, f.one).value(u"expand").toObject().value(u"author").toObject();
    QCOMPARE(ann.value(u"name").toString(), QStringLiteral("Ann"));
    QCOMPARE(ann.value(u"id").toString(), f.ann);
    QCOMPARE(ann.value(u"collectionName").toString(), QStringLiteral("authors"));
    QVERIFY(!ann.contains(QStringLiteral("email"))); // hidden fields stay hidden inside expand
    QVERIFY(!guest.body.contains("@example.com"));
    // Bob's view rule hides him from guests: left out, and the relation id itself stays.
    const QJsonObject two = byId(items, f.two);
    QCOMPARE(two.value(u"author").toString(), f.bob);
    QVERIFY(!two.value(u"expand").toObject().contains(QStringLiteral("author")));
    QVERIFY(!byId(items, f.three).value(u"expand").toObject().contains(QStringLiteral("author")));
    QVERIFY(!guest.body.contains("Bob"));

    const QJsonArray admin
        = m_api->admin().list(QStringLiteral("posts"), "expand=author").json().value(u"items").toArray();
    QCOMPARE(byId(admin, f.two).value(u"expand").toObject().value(u"author").toObject().value(u"name").toString(),
             QStringLiteral("Bob"));
    QCOMPARE(at(byId(admin, f.one), {u"expand", u"author", u"email"}).toString(), QStringLiteral("ann@example.com"));

    const HttpResponse view = m_api->guest().get(recordsPath(QStringLiteral("posts"), f.one) + "?expand=author");
    QCOMPARE(view.status, 200);
    QCOMPARE(view.json().value(u"expand").toObject().value(u"author").toObject(), ann);
}

void TestRecords::expandMultiple()
{
    ExpandFixture f;
    QVERIFY(seedExpand(f));
    const HttpResponse r
        = m_api->guest().list(QStringLiteral("posts"), "expand=" + encoded(QStringLiteral("tags,author")));
    QVERIFY2(r.status == 200, summary(r).constData());
    const QJsonArray items = r.json().value(u"items").toArray();
    const QJsonObject one = byId(items, f.one).value(u"expand").toObject();
    QCOMPARE(valuesOf(one.value(u"tags").toArray(), QStringLiteral("label")),
             (QStringList {QStringLiteral("red"), QStringLiteral("blue")})); // in the relation's order
    QCOMPARE(one.value(u"author").toObject().value(u"name").toString(), QStringLiteral("Ann"));
    const QJsonObject two = byId(items, f.two).value(u"expand").toObject();
    QCOMPARE(valuesOf(two.value(u"tags").toArray(), QStringLiteral("label")), QStringList {QStringLiteral("green")});
    QVERIFY(!two.contains(QStringLiteral("author")));
    QVERIFY(!byId(items, f.three).value(u"expand").toObject().contains(QStringLiteral("tags")));
}

void TestRecords::expandNested()
{
    ExpandFixture f;
    QVERIFY(seedExpand(f));
    const HttpResponse r
        = m_api->guest().list(QStringLiteral("comments"), "expand=" + encoded(QStringLiteral("post.author,post.tags")));
    QVERIFY2(r.status == 200, summary(r).constData());
    const QJsonArray items = r.json().value(u"items").toArray();
    const QJsonObject hiPost = byId(items, f.hi).value(u"expand").toObject().value(u"post").toObject();
    QCOMPARE(hiPost.value(u"title").toString(), QStringLiteral("one"));
    QCOMPARE(hiPost.value(u"expand").toObject().value(u"author").toObject().value(u"name").toString(),
             QStringLiteral("Ann"));
    QCOMPARE(hiPost.value(u"expand").toObject().value(u"tags").toArray().size(), 2);
    const QJsonObject yoPost = byId(items, f.yo).value(u"expand").toObject().value(u"post").toObject();
    QCOMPARE(yoPost.value(u"title").toString(), QStringLiteral("two"));
    QVERIFY(!yoPost.value(u"expand").toObject().contains(QStringLiteral("author"))); // Bob stays hidden
    QCOMPARE(valuesOf(yoPost.value(u"expand").toObject().value(u"tags").toArray(), QStringLiteral("label")),
             QStringList {QStringLiteral("green")});

    const HttpResponse admin
        = m_api->admin().get(recordsPath(QStringLiteral("comments"), f.yo) + "?expand=post.author");
    QCOMPARE(admin.status, 200);
    QCOMPARE(at(admin.json(), {u"expand", u"post", u"expand", u"author", u"name"}).toString(), QStringLiteral("Bob"));
}

void TestRecords::expandWithFields()
{
    ExpandFixture f;
    QVERIFY(seedExpand(f));
    const HttpResponse r = m_api->guest().get(recordsPath(QStringLiteral("posts"), f.one) + "?expand=author&fields="
                                              + encoded(QStringLiteral("id,expand.author.name")));
    QVERIFY2(r.status == 200, summary(r).constData());
    const QJsonObject expected {
        {QStringLiteral("id"), f.one},
        {QStringLiteral("expand"),
         QJsonObject {{QStringLiteral("author"), QJsonObject {{QStringLiteral("name"), QStringLiteral("Ann")}}}}}};
    QCOMPARE(r.json(), expected);
}

void TestRecords::deleteWithReferences_data()
{
    QTest::addColumn<QString>("field"); // the relation field's name
    QTest::addColumn<bool>("required");
    QTest::addColumn<bool>("cascade");
    QTest::addColumn<int>("maxSelect");
    QTest::addColumn<bool>("bothParents"); // the child refers to p1 and p2, not to p1 alone
    QTest::addColumn<int>("status"); // of deleting p1
    QTest::addColumn<QString>("child"); // afterwards: "gone", "unchanged" or "without p1"
    const QString gone = QStringLiteral("gone"), unchanged = QStringLiteral("unchanged"),
                  without = QStringLiteral("without p1");
    // "parent" is also a column of SQLite's json_each(): a multiple relation of that name must work too.
    for (const QString &field : {QStringLiteral("owner"), QStringLiteral("parent")}) {
        const auto row = [&field](const char *name) -> QTestData & {
            return QTest::addRow("%s, %s", qPrintable(field), name) << field;
        };
        row("cascade") << false << true << 1 << false << 204 << gone;
        row("cascade, required") << true << true << 1 << false << 204 << gone;
        row("required reference") << true << false << 1 << false << 400 << unchanged;
        row("optional reference") << false << false << 1 << false << 204 << without;
        row("optional, multiple") << false << false << 3 << true << 204 << without;
        row("required, multiple, others left") << true << false << 3 << true << 204 << without;
        row("required, multiple, last one") << true << false << 3 << false << 400 << unchanged;
        row("cascade, multiple, others left") << false << true << 3 << true << 204 << without;
        row("cascade, multiple, last one") << false << true << 3 << false << 204 << gone;
    }
}

void TestRecords::deleteWithReferences()
{
    QFETCH(QString, field);
    QFETCH(bool, required);
    QFETCH(bool, cascade);
    QFETCH(int, maxSelect);
    QFETCH(bool, bothParents);
    QFETCH(int, status);
    QFETCH(QString, child);
    const QJsonObject parents
        = createCollection(object(R"j({"name":"parents","fields":[{"name":"name","type":"text"}]})j"));
    QVERIFY(!parents.isEmpty());
    QVERIFY(!createCollection(withFields(object(R"j({"name":"children","fields":[{"name":"name","type":"text"}]})j"),
                                         {relationField(field, parents, maxSelect, required, cascade)}))
                 .isEmpty());
    const QString p1 = addRecord(QStringLiteral("parents"), object(R"j({"name":"p1"})j")).value(u"id").toString();
    const QString p2 = addRecord(QStringLiteral("parents"), object(R"j({"name":"p2"})j")).value(u"id").toString();
    QJsonValue reference
        = maxSelect > 1 ? QJsonValue(bothParents ? QJsonArray {p1, p2} : QJsonArray {p1}) : QJsonValue(p1);
    const QJsonObject before = addRecord(
        QStringLiteral("children"), QJsonObject {{QStringLiteral("name"), QStringLiteral("c")}, {field, reference}});
    QVERIFY(!before.isEmpty());
    const QByteArray childPath = recordsPath(QStringLiteral("children"), before.value(u"id").toString());

    const HttpResponse r = m_api->admin().remove(recordsPath(QStringLiteral("parents"), p1));
    if (status == 204) {
        QVERIFY2(r.status == 204, summary(r).constData());
        QVERIFY(isProblem(m_api->admin().get(recordsPath(QStringLiteral("parents"), p1)), 404));
    } else {
        QVERIFY2(isProblem(r, status), summary(r).constData());
        QCOMPARE(m_api->admin().get(recordsPath(QStringLiteral("parents"), p1)).status, 200);
    }
    const HttpResponse after = m_api->admin().get(childPath);
    if (child == u"gone") {
        QVERIFY(isProblem(after, 404));
        QCOMPARE(m_api->admin().list(QStringLiteral("children")).json().value(u"totalItems").toInt(-1), 0);
    } else if (child == u"unchanged") {
        QCOMPARE(after.json(), before);
    } else {
        QCOMPARE(after.status, 200);
        const QJsonValue expected = maxSelect > 1 ? QJsonValue(QJsonArray {p2}) : QJsonValue(QString());
        QCOMPARE(after.json().value(field), expected);
    }
    QCOMPARE(m_api->admin().get(recordsPath(QStringLiteral("parents"), p2)).status, 200); // untouched either way
}

void TestRecords::uniqueIndexViolation()
{
    QVERIFY(!createCollection(
                 object(R"j({"name":"pages","fields":[{"name":"slug","type":"text"},{"name":"title","type":"text"}],
        "indexes":["CREATE UNIQUE INDEX idx_pages_slug ON pages (slug)"]})j"))
                 .isEmpty());
    QVERIFY(!addRecord(QStringLiteral("pages"), object(R"j({"slug":"home","title":"Home"})j")).isEmpty());
    const QJsonObject other = addRecord(QStringLiteral("pages"), object(R"j({"slug":"about","title":"About"})j"));
    QVERIFY(!other.isEmpty());

    const HttpResponse create
        = m_api->admin().post(recordsPath(QStringLiteral("pages")), object(R"j({"slug":"home"})j"));
    QVERIFY2(isProblem(create, 400), summary(create).constData());
    QCOMPARE(at(create.json(), {u"data", u"slug", u"code"}).toString(), QStringLiteral("validation_not_unique"));

    const HttpResponse update
        = m_api->admin().patch(recordsPath(QStringLiteral("pages"), other.value(u"id").toString()),
                               object(R"j({"slug":"home","title":"changed"})j"));
    QVERIFY2(isProblem(update, 400), summary(update).constData());
    QCOMPARE(at(update.json(), {u"data", u"slug", u"code"}).toString(), QStringLiteral("validation_not_unique"));
    QCOMPARE(m_api->admin().get(recordsPath(QStringLiteral("pages"), other.value(u"id").toString())).json(), other);
    QCOMPARE(m_api->admin().list(QStringLiteral("pages")).json().value(u"totalItems").toInt(), 2);
}

void TestRecords::relationToMissingRecord_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("field");
    QTest::addColumn<bool>("includeExisting");
    QTest::newRow("create, single") << QByteArray("POST") << QStringLiteral("author") << false;
    QTest::newRow("create, multiple") << QByteArray("POST") << QStringLiteral("tags") << true;
    QTest::newRow("update, single") << QByteArray("PATCH") << QStringLiteral("author") << false;
    QTest::newRow("update, multiple") << QByteArray("PATCH") << QStringLiteral("tags") << true;
}

void TestRecords::relationToMissingRecord()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, field);
    QFETCH(bool, includeExisting);
    const QJsonObject people
        = createCollection(object(R"j({"name":"people","fields":[{"name":"name","type":"text"}]})j"));
    QVERIFY(!people.isEmpty());
    QVERIFY(!createCollection(withFields(object(R"j({"name":"posts","fields":[{"name":"title","type":"text"}]})j"),
                                         {relationField(QStringLiteral("author"), people),
                                          relationField(QStringLiteral("tags"), people, 5)}))
                 .isEmpty());
    const QString existing = addRecord(QStringLiteral("people"), object(R"j({"name":"ann"})j")).value(u"id").toString();
    const QJsonObject post = addRecord(QStringLiteral("posts"), object(R"j({"title":"p"})j"));
    QVERIFY(!existing.isEmpty() && !post.isEmpty());

    const QString missing = QStringLiteral("missing00000000");
    const QJsonValue value = field == u"tags"
        ? QJsonValue(includeExisting ? QJsonArray {existing, missing} : QJsonArray {missing})
        : QJsonValue(missing);
    const QByteArray target = method == "POST" ? recordsPath(QStringLiteral("posts"))
                                               : recordsPath(QStringLiteral("posts"), post.value(u"id").toString());
    const HttpResponse r = m_api->admin().send(method, target, compact(QJsonObject {{field, value}}));
    QVERIFY2(isProblem(r, 400), summary(r).constData());
    QCOMPARE(at(r.json(), {u"data", field, u"code"}).toString(), QStringLiteral("validation_missing_rel_records"));
    const QJsonArray items = m_api->admin().list(QStringLiteral("posts")).json().value(u"items").toArray();
    QCOMPARE(items, QJsonArray {post});
}

void TestRecords::batchMixed()
{
    QVERIFY(!createCollection(object(R"j({"name":"items","fields":[
        {"name":"name","type":"text","required":true},{"name":"qty","type":"number"}]})j"))
                 .isEmpty());
    const QJsonObject a = addRecord(QStringLiteral("items"), object(R"j({"name":"a","qty":1})j"));
    const QJsonObject b = addRecord(QStringLiteral("items"), object(R"j({"name":"b","qty":2})j"));
    const QJsonObject c = addRecord(QStringLiteral("items"), object(R"j({"name":"c","qty":3})j"));
    QVERIFY(!a.isEmpty() && !b.isEmpty() && !c.isEmpty());
    const QString items = QStringLiteral("items");
    const QJsonArray requests {
        batchRequest("POST", recordsPath(items), object(R"j({"name":"new","qty":7})j")),
        batchRequest("PATCH", recordsPath(items, a.value(u"id").toString()), object(R"j({"qty":5})j")),
        batchRequest(
            "PUT", recordsPath(items),
            QJsonObject {{QStringLiteral("id"), b.value(u"id")}, {QStringLiteral("name"), QStringLiteral("b2")}}),
        batchRequest("PUT", recordsPath(items), object(R"j({"id":"fresh0000000001","name":"fresh"})j")),
        batchRequest("DELETE", recordsPath(items, c.value(u"id").toString())),
        batchRequest("POST", recordsPath(items) + "?fields=name", object(R"j({"name":"shaped"})j")),
    };
    const HttpResponse r = m_api->admin().batch(requests);
    QVERIFY2(r.status == 200, summary(r).constData());
    const QJsonArray results = QJsonDocument::fromJson(r.body).array();
    QCOMPARE(results.size(), requests.size());
    QStringList statuses;
    for (const QJsonValue &result : results)
        statuses.append(QString::number(result.toObject().value(u"status").toInt()));
    QCOMPARE(statuses.join(u','), QStringLiteral("200,200,200,200,204,200"));
    QCOMPARE(at(results[0], {u"body", u"name"}).toString(), QStringLiteral("new"));
    QCOMPARE(at(results[1], {u"body", u"qty"}).toDouble(), 5.0);
    QCOMPARE(at(results[2], {u"body", u"id"}).toString(), b.value(u"id").toString());
    QCOMPARE(at(results[2], {u"body", u"name"}).toString(), QStringLiteral("b2"));
    QCOMPARE(at(results[2], {u"body", u"qty"}).toDouble(), 2.0); // an upsert of an existing record updates it
    QCOMPARE(at(results[3], {u"body", u"id"}).toString(), QStringLiteral("fresh0000000001"));
    QVERIFY(results[4].toObject().value(u"body").isNull());
    QCOMPARE(results[5].toObject().value(u"body").toObject(),
             QJsonObject({{QStringLiteral("name"), QStringLiteral("shaped")}}));

    const QJsonArray stored = m_api->admin().list(items, "sort=name").json().value(u"items").toArray();
    QCOMPARE(valuesOf(stored, QStringLiteral("name")),
             (QStringList {QStringLiteral("a"), QStringLiteral("b2"), QStringLiteral("fresh"), QStringLiteral("new"),
                           QStringLiteral("shaped")}));
    QCOMPARE(byId(stored, a.value(u"id").toString()).value(u"qty").toDouble(), 5.0);
    QVERIFY(byId(stored, c.value(u"id").toString()).isEmpty());
}

void TestRecords::batchIsAllOrNothing_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("url");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("innerStatus");
    QTest::newRow("invalid create") << QByteArray("POST") << QByteArray("/api/collections/items/records")
                                    << QByteArray(R"j({"qty":3})j") << 400;
    QTest::newRow("update of an unknown id")
        << QByteArray("PATCH") << QByteArray("/api/collections/items/records/nosuch000000000")
        << QByteArray(R"j({"qty":3})j") << 404;
    QTest::newRow("delete of an unknown id")
        << QByteArray("DELETE") << QByteArray("/api/collections/items/records/nosuch000000000") << QByteArray() << 404;
    QTest::newRow("unknown collection") << QByteArray("POST") << QByteArray("/api/collections/nope/records")
                                        << QByteArray(R"j({"name":"x"})j") << 404;
    QTest::newRow("duplicate id") << QByteArray("POST") << QByteArray("/api/collections/items/records")
                                  << QByteArray(R"j({"id":"ghost0000000001","name":"twin"})j") << 400;
}

void TestRecords::batchIsAllOrNothing()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, url);
    QFETCH(QByteArray, body);
    QFETCH(int, innerStatus);
    QVERIFY(!createCollection(object(R"j({"name":"items","fields":[
        {"name":"name","type":"text","required":true},{"name":"qty","type":"number"}]})j"))
                 .isEmpty());
    const QJsonObject a = addRecord(QStringLiteral("items"), object(R"j({"name":"a","qty":1})j"));
    const QJsonObject b = addRecord(QStringLiteral("items"), object(R"j({"name":"b","qty":2})j"));
    QVERIFY(!a.isEmpty() && !b.isEmpty());
    const QJsonArray before = m_api->admin().list(QStringLiteral("items")).json().value(u"items").toArray();

    QJsonObject third {{QStringLiteral("method"), QString::fromLatin1(method)},
                       {QStringLiteral("url"), QString::fromLatin1(url)}};
    if (!body.isEmpty())
        third.insert(QStringLiteral("body"), QJsonDocument::fromJson(body).object());
    const QJsonArray requests {
        batchRequest("POST", recordsPath(QStringLiteral("items")),
                     object(R"j({"id":"ghost0000000001","name":"ghost"})j")),
        batchRequest("PATCH", recordsPath(QStringLiteral("items"), a.value(u"id").toString()),
                     object(R"j({"qty":99})j")),
        third,
        batchRequest("DELETE", recordsPath(QStringLiteral("items"), b.value(u"id").toString())),
    };
    const HttpResponse r = m_api->admin().batch(requests);
    QVERIFY2(isProblem(r, 400), summary(r).constData());
    // PocketBase's shape: data.requests.<index> = {code, message, response}.
    const QJsonObject failed = at(r.json(), {u"data", u"requests", u"2"}).toObject();
    QVERIFY2(!failed.isEmpty(), r.body.constData());
    QCOMPARE(failed.value(u"code").toString(), QStringLiteral("batch_request_failed"));
    QCOMPARE(at(failed, {u"response", u"status"}).toInt(), innerStatus);
    QVERIFY(r.json().value(u"detail").toString().contains(u'2'));

    // No trace of the first two.
    QCOMPARE(m_api->admin().list(QStringLiteral("items")).json().value(u"items").toArray(), before);
    QVERIFY(
        isProblem(m_api->admin().get(recordsPath(QStringLiteral("items"), QStringLiteral("ghost0000000001"))), 404));
}

void TestRecords::batchLimits_data()
{
    QTest::addColumn<QByteArray>("body");
    const QByteArray create = R"j({"method":"POST","url":"/api/collections/items/records","body":{"name":"x"}})j";
    QByteArray tooMany = R"j({"requests":[)j";
    QByteArray fifty = tooMany;
    for (int i = 0; i < 51; ++i) {
        tooMany += (i ? "," : "") + create;
        if (i < 50)
            fifty += (i ? "," : "") + create;
    }
    tooMany += "]}";
    QTest::newRow("51 requests") << tooMany;
    QTest::newRow("no requests") << QByteArray(R"j({"requests":[]})j");
    QTest::newRow("requests missing") << QByteArray(R"j({})j");
    QTest::newRow("requests not an array") << QByteArray(R"j({"requests":{"a":1}})j");
    QTest::newRow("url outside records") << QByteArray(
        R"j({"requests":[{"method":"POST","url":"/api/collections"}]})j");
    QTest::newRow("GET is not a write") << QByteArray(
        R"j({"requests":[{"method":"GET","url":"/api/collections/items/records"}]})j");
    QTest::newRow("valid then a bad one") << QByteArray(
        R"j({"requests":[)j" + create + R"j(,{"method":"PATCH","url":"/api/collections/items/records"}]})j");
}

void TestRecords::batchLimits()
{
    QFETCH(QByteArray, body);
    QVERIFY(!createCollection(object(R"j({"name":"items","fields":[{"name":"name","type":"text"}]})j")).isEmpty());
    const HttpResponse r = m_api->admin().send("POST", "/api/batch", body);
    QVERIFY2(isProblem(r, 400), summary(r).constData());
    QCOMPARE(m_api->admin().list(QStringLiteral("items")).json().value(u"totalItems").toInt(-1), 0);
}

// PocketBase's JS SDK sends a batch as multipart/form-data with the JSON in an "@jsonPayload" part.
void TestRecords::batchAsMultipartJsonPayload()
{
    QVERIFY(!createCollection(object(R"j({"name":"items","fields":[{"name":"name","type":"text"}]})j")).isEmpty());
    const QByteArray json
        = R"j({"requests":[{"method":"POST","url":"/api/collections/items/records","body":{"name":"mp"}}]})j";
    const QByteArray body
        = "--XyZ\r\nContent-Disposition: form-data; name=\"@jsonPayload\"\r\n\r\n" + json + "\r\n--XyZ--\r\n";
    const HttpResponse r
        = m_api->admin().send("POST", "/api/batch", body, {{"Content-Type", "multipart/form-data; boundary=XyZ"}});
    QVERIFY2(r.status == 200, summary(r).constData());
    QCOMPARE(
        valuesOf(m_api->admin().list(QStringLiteral("items")).json().value(u"items").toArray(), QStringLiteral("name")),
        QStringList {QStringLiteral("mp")});
}

void TestRecords::etagOnView()
{
    QVERIFY(!createCollection(
                 object(R"j({"name":"posts","listRule":"","viewRule":"","fields":[{"name":"title","type":"text"}]})j"))
                 .isEmpty());
    const QJsonObject record = addRecord(QStringLiteral("posts"), object(R"j({"title":"v1"})j"));
    const QByteArray path = recordsPath(QStringLiteral("posts"), record.value(u"id").toString());
    const HttpResponse first = m_api->guest().get(path);
    QCOMPARE(first.status, 200);
    const QByteArray tag = first.header("ETag");
    QVERIFY2(tag.size() > 2 && tag.startsWith('"') && tag.endsWith('"'), tag.constData());
    QCOMPARE(m_api->guest().get(path).header("ETag"), tag); // stable

    for (const QByteArray &ifNoneMatch : {tag, QByteArray("W/" + tag), QByteArray("\"other\", " + tag)}) {
        // Pipelined with a second request: a stray body after the 304 would break the second response.
        RawClient client;
        QVERIFY(client.connectTo(m_api->server().port()));
        QVERIFY(client.send(httpRequest("GET", path, {}, {{"If-None-Match", ifNoneMatch}}) + httpRequest("GET", path)));
        const HttpResponse notModified = client.readResponse();
        QCOMPARE(notModified.status, 304);
        QVERIFY(notModified.body.isEmpty());
        QCOMPARE(notModified.header("ETag"), tag);
        const HttpResponse full = client.readResponse();
        QCOMPARE(full.status, 200);
        QCOMPARE(full.json(), first.json());
        QVERIFY(client.unread().isEmpty());
    }
    const HttpResponse otherTag
        = m_api->server().roundTrip(httpRequest("GET", path, {}, {{"If-None-Match", "\"nope\""}}));
    QCOMPARE(otherTag.status, 200);
    QCOMPARE(otherTag.header("ETag"), tag);

    m_api->clock().advanceMs(1000);
    QCOMPARE(m_api->admin().patch(path, object(R"j({"title":"v2"})j")).status, 200);
    const HttpResponse changed = m_api->server().roundTrip(httpRequest("GET", path, {}, {{"If-None-Match", tag}}));
    QCOMPARE(changed.status, 200);
    QCOMPARE(changed.json().value(u"title").toString(), QStringLiteral("v2"));
    QVERIFY(!changed.header("ETag").isEmpty());
    QVERIFY(changed.header("ETag") != tag);
}

void TestRecords::etagOnList()
{
    QVERIFY(seedPosts());
    const QByteArray target = recordsPath(QStringLiteral("posts")) + "?sort=views&perPage=5";
    const HttpResponse first = m_api->guest().get(target);
    QCOMPARE(first.status, 200);
    const QByteArray tag = first.header("ETag");
    QVERIFY(!tag.isEmpty());
    const HttpResponse again = m_api->server().roundTrip(httpRequest("GET", target, {}, {{"If-None-Match", tag}}));
    QCOMPARE(again.status, 304);
    QVERIFY(again.body.isEmpty());

    // A change the list shows (the total) changes the tag.
    QVERIFY(!addRecord(QStringLiteral("posts"), object(R"j({"title":"late","views":100})j")).isEmpty());
    const HttpResponse changed = m_api->server().roundTrip(httpRequest("GET", target, {}, {{"If-None-Match", tag}}));
    QCOMPARE(changed.status, 200);
    QCOMPARE(changed.json().value(u"totalItems").toInt(), 26);
    QVERIFY(changed.header("ETag") != tag);
    // Errors carry no ETag.
    const HttpResponse error = m_api->guest().list(QStringLiteral("posts"), "perPage=abc");
    QVERIFY(isProblem(error, 400));
    QVERIFY(!error.hasHeader("ETag"));
}

void TestRecords::formContentTypeIs415_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("create, urlencoded") << QByteArray("POST") << QByteArray("application/x-www-form-urlencoded")
                                        << QByteArray("title=form");
    QTest::newRow("create, multipart") << QByteArray("POST") << QByteArray("multipart/form-data; boundary=XyZ")
                                       << QByteArray("--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n"
                                                     "form\r\n--XyZ--\r\n");
    QTest::newRow("update, urlencoded") << QByteArray("PATCH") << QByteArray("application/x-www-form-urlencoded")
                                        << QByteArray("title=form");
    QTest::newRow("batch, urlencoded") << QByteArray("BATCH") << QByteArray("application/x-www-form-urlencoded")
                                       << QByteArray("requests=x");
}

void TestRecords::formContentTypeIs415()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    QVERIFY(!createCollection(object(R"j({"name":"posts","fields":[{"name":"title","type":"text"}]})j")).isEmpty());
    const QJsonObject record = addRecord(QStringLiteral("posts"), object(R"j({"title":"json"})j"));
    QVERIFY(!record.isEmpty());
    QByteArray target = recordsPath(QStringLiteral("posts"));
    if (method == "PATCH")
        target = recordsPath(QStringLiteral("posts"), record.value(u"id").toString());
    if (method == "BATCH")
        target = "/api/batch";
    const HttpResponse r = m_api->admin().send(method == "BATCH" ? QByteArray("POST") : method, target, body,
                                               {{"Content-Type", contentType}});
    QVERIFY2(isProblem(r, 415), summary(r).constData());
    QCOMPARE(m_api->admin().list(QStringLiteral("posts")).json().value(u"items").toArray(), QJsonArray {record});
}

// Rules may read @request.headers and @request.query; the server only gathers them when some rule
// mentions them, so a rule added later must see them too.
void TestRecords::requestHeadersAndQueryInRules()
{
    QVERIFY(!createCollection(object(R"j({"name":"notes","listRule":"","viewRule":"","fields":[
        {"name":"text","type":"text"}]})j"))
                 .isEmpty());
    const QString id = addRecord(QStringLiteral("notes"), object(R"j({"text":"hello"})j")).value(u"id").toString();
    QCOMPARE(m_api->guest().list(QStringLiteral("notes")).json().value(u"totalItems").toInt(), 1);

    const HttpResponse patched = m_api->admin().patch(
        collectionPath(QStringLiteral("notes")),
        object(R"j({"listRule":"@request.headers.x_token = 'open-sesame'","viewRule":"@request.query.key = 'k1'"})j"));
    QVERIFY2(patched.status == 200, summary(patched).constData());

    const QByteArray listTarget = recordsPath(QStringLiteral("notes"));
    QCOMPARE(m_api->guest().get(listTarget).json().value(u"totalItems").toInt(-1), 0);
    const HttpResponse wrongToken = m_api->guest().send("GET", listTarget, {}, {{"X-Token", "guess"}});
    QCOMPARE(wrongToken.json().value(u"totalItems").toInt(-1), 0);
    const HttpResponse rightToken = m_api->guest().send("GET", listTarget, {}, {{"X-Token", "open-sesame"}});
    QVERIFY2(rightToken.status == 200, summary(rightToken).constData());
    QCOMPARE(rightToken.json().value(u"totalItems").toInt(), 1);

    const QByteArray viewTarget = recordsPath(QStringLiteral("notes"), id);
    QCOMPARE(m_api->guest().get(viewTarget).status, 404);
    QCOMPARE(m_api->guest().get(viewTarget + "?key=k2").status, 404);
    const HttpResponse withKey = m_api->guest().get(viewTarget + "?key=k1");
    QVERIFY2(withKey.status == 200, summary(withKey).constData());
    QCOMPARE(withKey.json().value(u"text").toString(), QStringLiteral("hello"));
}

// The by-id read writes its JSON straight from the row; it must be byte for byte what Qt writes
// for the same record (which the list answer is made with), for every field type.
void TestRecords::viewIsWhatQtWouldWrite()
{
    QVERIFY(!createCollection(object(R"j({"name":"kinds","listRule":"","viewRule":"","fields":[
        {"name":"title","type":"text"},{"name":"amount","type":"number"},{"name":"flag","type":"bool"},
        {"name":"mail","type":"email"},{"name":"link","type":"url"},{"name":"when","type":"date"},
        {"name":"meta","type":"json"},{"name":"one","type":"select","values":["a","b"]},
        {"name":"many","type":"select","values":["a","b","c"],"maxSelect":3},
        {"name":"secret","type":"text","hidden":true}]})j"))
                 .isEmpty());
    const QList<QJsonObject> bodies {
        object(R"j({"title":"plain","amount":42,"flag":true,"mail":"a@example.com","link":"https://example.com/x?y=1",
            "when":"2024-02-29 12:00:00.000Z","meta":{"b":[1,2.5,"x"],"a":null},"one":"a","many":["c","a"],
            "secret":"s"})j"),
        object(R"j({"title":"quote \" backslash \\ slash / tab \t newline \n bell \u0007 del \u007f","amount":0.1,
            "meta":"just a string","many":[]})j"),
        object(R"j({"title":"café ☕ 日本語 😀","amount":-1e20,"meta":12345678901234567890})j"),
        object(R"j({"title":"","amount":9007199254740993,"meta":[true,false,null]})j"),
        object(R"j({"amount":-0.000001,"meta":null})j"),
    };
    for (const QJsonObject &body : bodies) {
        const QString id = addRecord(QStringLiteral("kinds"), body).value(u"id").toString();
        QVERIFY(!id.isEmpty());
        for (const bool superuser : {false, true}) {
            const ApiClient client = superuser ? m_api->admin() : m_api->guest();
            const HttpResponse view = client.get(recordsPath(QStringLiteral("kinds"), id));
            QVERIFY2(view.status == 200, summary(view).constData());
            const HttpResponse list
                = client.list(QStringLiteral("kinds"), "filter=" + encoded(QStringLiteral("id='%1'").arg(id)));
            const QJsonObject item = list.json().value(u"items").toArray().first().toObject();
            QCOMPARE(view.body, QJsonDocument(item).toJson(QJsonDocument::Compact));
            QCOMPARE(view.json().contains(u"secret"), superuser); // hidden fields: superusers only
        }
    }
}

void TestRecords::concurrentCreates()
{
    QVERIFY(!createCollection(object(R"j({"name":"events","listRule":"","createRule":"","fields":[
        {"name":"name","type":"text","required":true},{"name":"client","type":"number"}]})j"))
                 .isEmpty());
    constexpr int kClients = 64;
    constexpr int kPerClient = 20;
    constexpr int kBoundMs = 90'000;
    struct Outcome
    {
        QStringList ids;
        QList<int> statuses;
        QByteArray firstFailure;
    };
    std::vector<Outcome> outcomes(kClients);
    const quint16 port = m_api->server().port();
    const QDeadlineTimer deadline(kBoundMs);
    QElapsedTimer elapsed;
    elapsed.start();
    {
        std::vector<std::jthread> clients;
        clients.reserve(kClients);
        for (int c = 0; c < kClients; ++c) {
            clients.emplace_back([c, port, deadline, &outcome = outcomes[size_t(c)]] {
                RawClient client(15'000);
                bool connected = client.connectTo(port);
                for (int i = 0; i < kPerClient && !deadline.hasExpired(); ++i) {
                    if (!connected || client.isClosed())
                        connected = client.connectTo(port);
                    const QJsonObject body {{QStringLiteral("name"), QStringLiteral("c%1-%2").arg(c).arg(i)},
                                            {QStringLiteral("client"), c}};
                    HttpResponse r;
                    if (connected && client.send(jsonRequest("/api/collections/events/records", body)))
                        r = client.readResponse();
                    outcome.statuses.append(r.status);
                    if (r.status == 200)
                        outcome.ids.append(r.json().value(u"id").toString());
                    else if (outcome.firstFailure.isEmpty())
                        outcome.firstFailure = summary(r);
                }
            });
        }
    } // joins
    const qint64 ms = elapsed.elapsed();
    qInfo("%d clients x %d creates took %lld ms", kClients, kPerClient, ms);
    QVERIFY2(!deadline.hasExpired(), "the creates did not finish within the time bound");

    QSet<QString> ids;
    for (const Outcome &o : outcomes) {
        QCOMPARE(o.statuses.size(), kPerClient);
        QVERIFY2(o.statuses.count(200) == kPerClient, o.firstFailure.constData());
        for (const QString &id : o.ids)
            ids.insert(id);
    }
    QCOMPARE(ids.size(), kClients * kPerClient); // every id distinct

    // Every one is stored.
    QSet<QString> listed;
    int total = -1;
    for (int page = 1; page <= 3; ++page) {
        const HttpResponse r
            = m_api->guest().list(QStringLiteral("events"), "fields=id&perPage=1000&page=" + QByteArray::number(page));
        QVERIFY2(r.status == 200, summary(r).constData());
        total = r.json().value(u"totalItems").toInt();
        for (const QJsonValue &item : r.json().value(u"items").toArray())
            listed.insert(item.toObject().value(u"id").toString());
    }
    QCOMPARE(total, kClients * kPerClient);
    QCOMPARE(listed, ids);
}

QTEST_GUILESS_MAIN(TestRecords)
#include "tst_records.moc"
