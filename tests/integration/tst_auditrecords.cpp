// What record and schema changes write to the audit log, end to end over HTTP: one entry per
// committed create, update and delete (single routes, batches, a delete's cascades), by superusers
// and API keys, with the stored values before and after; nothing for a write that was rolled back;
// one summary entry per import; collection changes with their definitions; and never an account's
// password hash or token key. GET /api/logs/audit waits for the log's queue, so reading it right
// after a change sees the change's entry without any sleep.
#include <QtTest>
#include <memory>

#include "apifixture.h"
#include "auth/superusers.h"
#include "server/server.h"

using namespace Outpost;
using namespace Outpost::Testing;

namespace {

QJsonObject textField(const QString &name, bool hidden = false)
{
    return QJsonObject {{QStringLiteral("name"), name},
                        {QStringLiteral("type"), QStringLiteral("text")},
                        {QStringLiteral("hidden"), hidden}};
}

QJsonObject collectionDefinition(const QString &name, const QJsonArray &fields)
{
    return QJsonObject {{QStringLiteral("name"), name},
                        {QStringLiteral("type"), QStringLiteral("base")},
                        {QStringLiteral("fields"), fields}};
}

QStringList column(const QJsonArray &items, const QString &name)
{
    QStringList out;
    for (const QJsonValue &item : items)
        out.append(item.toObject().value(name).toVariant().toString());
    return out;
}

} // namespace

class TestAuditRecords : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void superuserChangesCarryBeforeAndAfter();
    void keyChangesNameTheKey();
    void batchOfThreeIsThreeEntries();
    void rolledBackWritesAreNotAudited();
    void cascadesNameTheirCause();
    void importIsOneSummary();
    void schemaChangesCarryDefinitions();
    void accountSecretsNeverAppear();
    void detailsCanBeFiltered();

private:
    const ApiClient &admin() const { return m_api->admin(); }
    // The entries whose `filter` matches, oldest first.
    QJsonArray entries(const QString &filter) const;
    QJsonArray recordEntries() const { return entries(QStringLiteral("action ~ 'record.'")); }
    QString superuserLabel() const;
    // A key with `scopes`; its secret, and its id in `id`.

    std::unique_ptr<ApiFixture> m_api;
};

void TestAuditRecords::init()
{
    m_api = std::make_unique<ApiFixture>();
    QVERIFY2(m_api->start(), qPrintable(m_api->errorString()));
    const QJsonArray fields {textField(QStringLiteral("title")), textField(QStringLiteral("note"), true)};
    const HttpResponse r = admin().post("/api/collections", collectionDefinition(QStringLiteral("posts"), fields));
    QVERIFY2(r.status == 200, summary(r).constData());
}

void TestAuditRecords::cleanup()
{
    m_api.reset();
}

QJsonArray TestAuditRecords::entries(const QString &filter) const
{
    const QJsonObject page
        = bodyIfOk(admin().get("/api/logs/audit?perPage=500&sort=id&filter=" + encoded(filter)), "GET /api/logs/audit");
    return page.value(u"items").toArray();
}

QString TestAuditRecords::superuserLabel() const
{
    auto user = m_api->server().server().superusers().findByEmail(kSuperuserEmail);
    return user ? QStringLiteral("superuser:") + user->id : QString();
}

void TestAuditRecords::superuserChangesCarryBeforeAndAfter()
{
    const QJsonObject created = bodyIfOk(
        admin().post(recordsPath(QStringLiteral("posts")), object(R"({"title":"first","note":"hush"})")), "create");
    const QString id = created.value(u"id").toString();
    QVERIFY(!id.isEmpty());
    m_api->clock().advanceMs(1000);
    QCOMPARE(admin().patch(recordsPath(QStringLiteral("posts"), id), object(R"({"title":"second"})")).status, 200);
    m_api->clock().advanceMs(1000);
    QCOMPARE(admin().remove(recordsPath(QStringLiteral("posts"), id)).status, 204);

    const QJsonArray items = entries(QStringLiteral("target = 'posts/%1'").arg(id));
    QCOMPARE(column(items, QStringLiteral("action")),
             (QStringList {QStringLiteral("record.create"), QStringLiteral("record.update"),
                           QStringLiteral("record.delete")}));
    QCOMPARE(column(items, QStringLiteral("actor")), QStringList(3, superuserLabel()));
    QCOMPARE(column(items, QStringLiteral("address")), QStringList(3, QStringLiteral("127.0.0.1")));
    QCOMPARE(items.at(2).toObject().value(u"time").toString(), Auth::Superusers::timestamp(m_api->clock().nowMs()));

    const QJsonObject create = items.at(0).toObject().value(u"details").toObject();
    QCOMPARE(create.value(u"collection").toString(), QStringLiteral("posts"));
    QCOMPARE(create.value(u"before"), QJsonValue(QJsonValue::Null));
    const QJsonObject stored = create.value(u"after").toObject();
    // The stored values, the hidden field too, and nothing that is not a field.
    QCOMPARE(stored.keys(),
             (QStringList {QStringLiteral("created"), QStringLiteral("id"), QStringLiteral("note"),
                           QStringLiteral("title"), QStringLiteral("updated")}));
    QCOMPARE(stored.value(u"id").toString(), id);
    QCOMPARE(stored.value(u"title").toString(), QStringLiteral("first"));
    QCOMPARE(stored.value(u"note").toString(), QStringLiteral("hush"));

    const QJsonObject update = items.at(1).toObject().value(u"details").toObject();
    QCOMPARE(update.value(u"before").toObject(), stored);
    QCOMPARE(update.value(u"after").toObject().value(u"title").toString(), QStringLiteral("second"));
    QCOMPARE(update.value(u"after").toObject().value(u"note").toString(), QStringLiteral("hush"));

    const QJsonObject remove = items.at(2).toObject().value(u"details").toObject();
    QCOMPARE(remove.value(u"before").toObject(), update.value(u"after").toObject());
    QCOMPARE(remove.value(u"after"), QJsonValue(QJsonValue::Null));
}

void TestAuditRecords::keyChangesNameTheKey()
{
    QString keyId;
    const QString key
        = issueKey(admin(), {QStringLiteral("records:read:posts"), QStringLiteral("records:write:posts")}, &keyId);
    QVERIFY(!key.isEmpty());
    const ApiClient client(m_api->server(), "Bearer " + key.toUtf8());
    const HttpResponse created = client.post(recordsPath(QStringLiteral("posts")), object(R"({"title":"by key"})"));
    QVERIFY2(created.status == 200, summary(created).constData());
    const QString id = created.json().value(u"id").toString();
    QCOMPARE(client.patch(recordsPath(QStringLiteral("posts"), id), object(R"({"title":"changed"})")).status, 200);
    QCOMPARE(client.remove(recordsPath(QStringLiteral("posts"), id)).status, 204);

    const QJsonArray items = entries(QStringLiteral("target = 'posts/%1'").arg(id));
    QCOMPARE(column(items, QStringLiteral("action")),
             (QStringList {QStringLiteral("record.create"), QStringLiteral("record.update"),
                           QStringLiteral("record.delete")}));
    QCOMPARE(column(items, QStringLiteral("actor")), QStringList(3, QStringLiteral("apikey:") + keyId));
    const QJsonObject update = items.at(1).toObject().value(u"details").toObject();
    QCOMPARE(update.value(u"before").toObject().value(u"title").toString(), QStringLiteral("by key"));
    QCOMPARE(update.value(u"after").toObject().value(u"title").toString(), QStringLiteral("changed"));
}

void TestAuditRecords::batchOfThreeIsThreeEntries()
{
    const QJsonObject existing
        = bodyIfOk(admin().post(recordsPath(QStringLiteral("posts")), object(R"({"title":"old"})")), "create");
    const QString path = QString::fromUtf8(recordsPath(QStringLiteral("posts")));
    const QJsonArray requests {
        QJsonObject {{QStringLiteral("method"), QStringLiteral("POST")},
                     {QStringLiteral("url"), path},
                     {QStringLiteral("body"), object(R"({"title":"new"})")}},
        QJsonObject {{QStringLiteral("method"), QStringLiteral("PATCH")},
                     {QStringLiteral("url"), QString(path + u'/' + existing.value(u"id").toString())},
                     {QStringLiteral("body"), object(R"({"title":"patched"})")}},
        QJsonObject {{QStringLiteral("method"), QStringLiteral("DELETE")},
                     {QStringLiteral("url"), QString(path + u'/' + existing.value(u"id").toString())}}};
    const HttpResponse r = admin().batch(requests);
    QVERIFY2(r.status == 200, summary(r).constData());

    const QJsonArray items = recordEntries();
    QCOMPARE(column(items, QStringLiteral("action")),
             (QStringList {QStringLiteral("record.create"), QStringLiteral("record.create"),
                           QStringLiteral("record.update"), QStringLiteral("record.delete")}));
    const QJsonObject patched = items.at(2).toObject().value(u"details").toObject();
    QCOMPARE(patched.value(u"before").toObject().value(u"title").toString(), QStringLiteral("old"));
    QCOMPARE(patched.value(u"after").toObject().value(u"title").toString(), QStringLiteral("patched"));
    QCOMPARE(items.at(3).toObject().value(u"details").toObject().value(u"before").toObject(),
             patched.value(u"after").toObject());
}

void TestAuditRecords::rolledBackWritesAreNotAudited()
{
    const QString path = QString::fromUtf8(recordsPath(QStringLiteral("posts")));
    // The second request fails (no such record): the whole batch rolls back, the create with it.
    const QJsonArray requests {QJsonObject {{QStringLiteral("method"), QStringLiteral("POST")},
                                            {QStringLiteral("url"), path},
                                            {QStringLiteral("body"), object(R"({"title":"gone"})")}},
                               QJsonObject {{QStringLiteral("method"), QStringLiteral("PATCH")},
                                            {QStringLiteral("url"), QString(path + QStringLiteral("/missing"))},
                                            {QStringLiteral("body"), object(R"({"title":"x"})")}}};
    const HttpResponse batch = admin().batch(requests);
    QVERIFY2(isProblem(batch, 400), summary(batch).constData());
    // A create that fails validation, and a delete of nothing.
    const HttpResponse invalid
        = admin().post(recordsPath(QStringLiteral("posts")), object(R"({"title":{"not":"text"}})"));
    QVERIFY2(isProblem(invalid, 400), summary(invalid).constData());
    QVERIFY(isProblem(admin().remove(recordsPath(QStringLiteral("posts"), QStringLiteral("missing"))), 404));
    // An import in abort mode with a bad row stores nothing.
    const HttpResponse import
        = admin().send("POST", "/api/collections/posts/import", R"([{"title":"fine"},{"title":{"not":"text"}}])");
    QVERIFY2(isProblem(import, 400), summary(import).constData());

    QCOMPARE(recordEntries().size(), 0);
    QCOMPARE(bodyIfOk(admin().list(QStringLiteral("posts")), "list").value(u"totalItems").toInt(), 0);
}

void TestAuditRecords::cascadesNameTheirCause()
{
    const QJsonObject posts = bodyIfOk(admin().get(collectionPath(QStringLiteral("posts"))), "posts");
    const QJsonArray fields {textField(QStringLiteral("body")),
                             QJsonObject {{QStringLiteral("name"), QStringLiteral("post")},
                                          {QStringLiteral("type"), QStringLiteral("relation")},
                                          {QStringLiteral("collectionId"), posts.value(u"id")},
                                          {QStringLiteral("maxSelect"), 1},
                                          {QStringLiteral("cascadeDelete"), true}}};
    QCOMPARE(admin().post("/api/collections", collectionDefinition(QStringLiteral("comments"), fields)).status, 200);
    const QString postId
        = bodyIfOk(admin().post(recordsPath(QStringLiteral("posts")), object(R"({"title":"p"})")), "post")
              .value(u"id")
              .toString();
    const QString commentId = bodyIfOk(admin().post(recordsPath(QStringLiteral("comments")),
                                                    QJsonObject {{QStringLiteral("body"), QStringLiteral("c")},
                                                                 {QStringLiteral("post"), postId}}),
                                       "comment")
                                  .value(u"id")
                                  .toString();
    QCOMPARE(admin().remove(recordsPath(QStringLiteral("posts"), postId)).status, 204);

    const QJsonArray deletes = entries(QStringLiteral("action = 'record.delete'"));
    QCOMPARE(column(deletes, QStringLiteral("target")),
             (QStringList {QStringLiteral("posts/") + postId, QStringLiteral("comments/") + commentId}));
    const QJsonObject cascade = deletes.at(1).toObject().value(u"details").toObject();
    QCOMPARE(cascade.value(u"cause").toString(), QStringLiteral("posts/") + postId);
    QCOMPARE(cascade.value(u"before").toObject().value(u"post").toString(), postId);
    QVERIFY(!deletes.at(0).toObject().value(u"details").toObject().contains(u"cause"));
}

void TestAuditRecords::importIsOneSummary()
{
    const HttpResponse r = admin().send(
        "POST", "/api/collections/posts/import?onError=skip",
        R"([{"id":"aaaaaaaaaaaaaa1","title":"a"},{"title":{"bad":1}},{"id":"aaaaaaaaaaaaaa3","title":"c"}])");
    QVERIFY2(r.status == 200, summary(r).constData());
    const QJsonArray items = recordEntries();
    QCOMPARE(items.size(), 1);
    const QJsonObject entry = items.first().toObject();
    QCOMPARE(entry.value(u"action").toString(), QStringLiteral("record.import"));
    QCOMPARE(entry.value(u"target").toString(), QStringLiteral("posts"));
    QCOMPARE(entry.value(u"actor").toString(), superuserLabel());
    QCOMPARE(entry.value(u"details").toObject(),
             object(R"({"collection":"posts","count":2,"failed":1,"firstId":"aaaaaaaaaaaaaa1",
                        "lastId":"aaaaaaaaaaaaaa3","onError":"skip"})"));
}

void TestAuditRecords::schemaChangesCarryDefinitions()
{
    const QJsonObject created
        = bodyIfOk(admin().post("/api/collections",
                                collectionDefinition(QStringLiteral("tags"), {textField(QStringLiteral("label"))})),
                   "create");
    m_api->clock().advanceMs(1000);
    const QJsonObject renamed
        = bodyIfOk(admin().patch(collectionPath(QStringLiteral("tags")), object(R"({"name":"labels"})")), "rename");
    QCOMPARE(admin().remove(collectionPath(QStringLiteral("labels"))).status, 204);

    const QJsonArray items = entries(QStringLiteral("action ~ 'collection.' && (details.before.id = '%1' || "
                                                    "details.after.id = '%1')")
                                         .arg(created.value(u"id").toString()));
    QCOMPARE(column(items, QStringLiteral("action")),
             (QStringList {QStringLiteral("collection.create"), QStringLiteral("collection.update"),
                           QStringLiteral("collection.delete")}));
    QCOMPARE(column(items, QStringLiteral("target")),
             (QStringList {QStringLiteral("tags"), QStringLiteral("labels"), QStringLiteral("labels")}));
    QCOMPARE(column(items, QStringLiteral("actor")), QStringList(3, superuserLabel()));
    const QJsonObject create = items.at(0).toObject().value(u"details").toObject();
    QCOMPARE(create.value(u"before"), QJsonValue(QJsonValue::Null));
    QCOMPARE(create.value(u"after").toObject(), created);
    const QJsonObject update = items.at(1).toObject().value(u"details").toObject();
    QCOMPARE(update.value(u"before").toObject(), created);
    QCOMPARE(update.value(u"after").toObject(), renamed);
    const QJsonObject remove = items.at(2).toObject().value(u"details").toObject();
    QCOMPARE(remove.value(u"before").toObject(), renamed);
    QCOMPARE(remove.value(u"after"), QJsonValue(QJsonValue::Null));
}

void TestAuditRecords::accountSecretsNeverAppear()
{
    // The default `users` auth collection: its records hold a password hash and a token key.
    const HttpResponse created = admin().post(recordsPath(QStringLiteral("users")),
                                              object(R"({"email":"ann@example.com","password":"a long passphrase 1",
                                                         "passwordConfirm":"a long passphrase 1","name":"Ann"})"));
    QVERIFY2(created.status == 200, summary(created).constData());
    const QString id = created.json().value(u"id").toString();
    QCOMPARE(admin()
                 .patch(recordsPath(QStringLiteral("users"), id),
                        object(R"({"password":"another passphrase 2","passwordConfirm":"another passphrase 2"})"))
                 .status,
             200);
    QCOMPARE(admin().remove(recordsPath(QStringLiteral("users"), id)).status, 204);

    // The password change is its own entry (auth.password_change), without the password.
    const QJsonArray items = entries(QStringLiteral("target = 'users/%1' && action ~ 'record.'").arg(id));
    QCOMPARE(column(items, QStringLiteral("action")),
             (QStringList {QStringLiteral("record.create"), QStringLiteral("record.update"),
                           QStringLiteral("record.delete")}));
    QCOMPARE(entries(QStringLiteral("target = 'users/%1' && action = 'auth.password_change'").arg(id)).size(), 1);
    const QJsonObject after = items.at(0).toObject().value(u"details").toObject().value(u"after").toObject();
    QCOMPARE(after.value(u"email").toString(), QStringLiteral("ann@example.com"));
    QCOMPARE(after.value(u"name").toString(), QStringLiteral("Ann"));
    for (const QJsonValue &item : items) {
        const QJsonObject details = item.toObject().value(u"details").toObject();
        for (const QString &side : {QStringLiteral("before"), QStringLiteral("after")}) {
            const QJsonObject values = details.value(side).toObject();
            QVERIFY2(!values.contains(u"password") && !values.contains(u"tokenKey"),
                     QJsonDocument(values).toJson(QJsonDocument::Compact).constData());
        }
        const QByteArray text = QJsonDocument(details).toJson(QJsonDocument::Compact);
        QVERIFY2(!text.contains("$argon2"), text.constData());
    }
}

void TestAuditRecords::detailsCanBeFiltered()
{
    QCOMPARE(admin().post(recordsPath(QStringLiteral("posts")), object(R"({"title":"needle"})")).status, 200);
    QCOMPARE(admin().post(recordsPath(QStringLiteral("posts")), object(R"({"title":"hay"})")).status, 200);
    const QJsonArray found = entries(QStringLiteral("details.after.title = 'needle'"));
    QCOMPARE(found.size(), 1);
    QCOMPARE(found.first().toObject().value(u"action").toString(), QStringLiteral("record.create"));
    const HttpResponse sorted = admin().get("/api/logs/audit?sort=-details.collection");
    QVERIFY2(sorted.status == 200, summary(sorted).constData());
}

QTEST_GUILESS_MAIN(TestAuditRecords)
#include "tst_auditrecords.moc"
