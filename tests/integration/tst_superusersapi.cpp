// The superuser accounts API (`/api/collections/_superusers/records`) end to end over HTTP: what
// each role may do to which account, the last-owner rule, a role change reaching the account's next
// request, validation, and listing as PocketBase lists. The fixture's superuser is the one owner to
// begin with. The plain 401/403 of every route for every kind of caller is tst_permissions' table.
#include <QtTest>
#include <memory>

#include "apifixture.h"
#include "auth/superusers.h"
#include "server/server.h"

using namespace Outpost;
using namespace Outpost::Testing;

namespace {

const QByteArray kRecords = "/api/collections/_superusers/records";
const QString kPassword = QStringLiteral("a long enough password");

QByteArray accountPath(const QString &id)
{
    return kRecords + '/' + encoded(id);
}

QJsonObject newAccount(const QString &email, const QString &role)
{
    return {{QStringLiteral("email"), email},
            {QStringLiteral("password"), kPassword},
            {QStringLiteral("passwordConfirm"), kPassword},
            {QStringLiteral("role"), role}};
}

QJsonObject roleChange(const QString &role)
{
    return {{QStringLiteral("role"), role}};
}

QString detailOf(const HttpResponse &r)
{
    return r.json().value(u"detail").toString();
}

QString fieldCode(const HttpResponse &r, const QString &field)
{
    return r.json().value(u"data").toObject().value(field).toObject().value(u"code").toString();
}

} // namespace

class TestSuperusersApi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void ownerCreatesEachRole();
    void adminCannotTouchOwners();
    void apiKeyCountsAsAdmin();
    void editorAndViewerAreRefused();
    void lastOwnerCannotBeDeletedOrDemoted();
    void roleChangeTakesEffectOnTheNextRequest();
    void passwordChangeEndsSessions();
    void validationErrors_data();
    void validationErrors();
    void unknownAccountIs404();
    void listPagesFiltersAndSorts();
    void changesAreAudited();

private:
    const ApiClient &owner() const { return m_api->admin(); }
    // Creates NAME@example.com with `role` as the owner; its id (empty on failure, with a warning).
    QString create(const QString &name, const QString &role) const;
    // A client with the token of `email` (logged in over HTTP).
    ApiClient as(const QString &email) const;
    QString ownerId() const;

    std::unique_ptr<ApiFixture> m_api;
};

void TestSuperusersApi::init()
{
    m_api = std::make_unique<ApiFixture>();
    QVERIFY2(m_api->start(), qPrintable(m_api->errorString()));
}

void TestSuperusersApi::cleanup()
{
    m_api.reset();
}

QString TestSuperusersApi::create(const QString &name, const QString &role) const
{
    const HttpResponse r = owner().post(kRecords, newAccount(name + QStringLiteral("@example.com"), role));
    return bodyIfOk(r, "create a superuser").value(u"id").toString();
}

ApiClient TestSuperusersApi::as(const QString &email) const
{
    const QByteArray token = m_api->server().login(email, kPassword);
    if (token.isEmpty())
        qWarning() << "login failed for" << email;
    return ApiClient(m_api->server(), "Bearer " + token);
}

QString TestSuperusersApi::ownerId() const
{
    auto root = m_api->server().server().superusers().findByEmail(kSuperuserEmail);
    return root ? root->id : QString();
}

void TestSuperusersApi::ownerCreatesEachRole()
{
    for (const QString &role : {QStringLiteral("admin"), QStringLiteral("editor"), QStringLiteral("viewer")}) {
        const QString email = role + QStringLiteral("@example.com");
        const HttpResponse created = owner().post(kRecords, newAccount(email, role));
        QCOMPARE(created.status, 200);
        const QJsonObject record = created.json();
        QCOMPARE(record.value(u"email").toString(), email);
        QCOMPARE(record.value(u"role").toString(), role);
        QCOMPARE(record.value(u"collectionName").toString(), QStringLiteral("_superusers"));
        QCOMPARE(record.value(u"collectionId").toString(), QStringLiteral("pbc_3142635823"));
        QVERIFY(!created.body.contains("password") && !created.body.toLower().contains("token"));
        const QString id = record.value(u"id").toString();
        QCOMPARE(owner().get(accountPath(id)).json(), record);

        // The account logs in with the role given.
        const HttpResponse login = m_api->server().roundTrip(loginRequest(email, kPassword));
        QCOMPARE(login.status, 200);
        QCOMPARE(login.json().value(u"record").toObject().value(u"role").toString(), role);
    }
}

void TestSuperusersApi::adminCannotTouchOwners()
{
    QVERIFY(!create(QStringLiteral("admin"), QStringLiteral("admin")).isEmpty());
    const QString editorId = create(QStringLiteral("editor"), QStringLiteral("editor"));
    const ApiClient admin = as(QStringLiteral("admin@example.com"));
    const QString root = ownerId();

    const QList<HttpResponse> refused {
        admin.post(kRecords, newAccount(QStringLiteral("boss@example.com"), QStringLiteral("owner"))),
        admin.patch(accountPath(root), object(R"({"email":"taken-over@example.com"})")),
        admin.patch(accountPath(root), roleChange(QStringLiteral("viewer"))),
        admin.patch(accountPath(root),
                    object(R"({"password":"hijacked password","passwordConfirm":"hijacked password"})")),
        admin.remove(accountPath(root)),
        admin.patch(accountPath(editorId), roleChange(QStringLiteral("owner"))),
    };
    for (const HttpResponse &r : refused) {
        QVERIFY2(isProblem(r, 403), summary(r).constData());
        QVERIFY2(detailOf(r).contains(u"owner"), summary(r).constData());
    }
    // Nothing changed: the owner still logs in as an owner, with its own password.
    const HttpResponse login = m_api->server().roundTrip(loginRequest(kSuperuserEmail, kSuperuserPassword));
    QCOMPARE(login.status, 200);
    QCOMPARE(login.json().value(u"record").toObject().value(u"role").toString(), QStringLiteral("owner"));
    QCOMPARE(owner().get(accountPath(editorId)).json().value(u"role").toString(), QStringLiteral("editor"));

    // Everything below owners is the admin's to manage.
    QCOMPARE(admin.patch(accountPath(editorId), roleChange(QStringLiteral("viewer"))).status, 200);
    const HttpResponse another
        = admin.post(kRecords, newAccount(QStringLiteral("a2@example.com"), QStringLiteral("admin")));
    QCOMPARE(another.status, 200);
    QCOMPARE(admin.remove(accountPath(editorId)).status, 204);
    QCOMPARE(admin.remove(accountPath(another.json().value(u"id").toString())).status, 204);
}

void TestSuperusersApi::apiKeyCountsAsAdmin()
{
    const HttpResponse issued
        = owner().post("/api/keys", object(R"({"name":"accounts","scopes":["accounts:manage"]})"));
    QCOMPARE(issued.status, 201);
    const ApiClient key(m_api->server(), "Bearer " + issued.json().value(u"key").toString().toUtf8());

    const HttpResponse created
        = key.post(kRecords, newAccount(QStringLiteral("ops@example.com"), QStringLiteral("admin")));
    QCOMPARE(created.status, 200);
    QCOMPARE(key.get(kRecords).json().value(u"totalItems").toInt(), 2);
    const HttpResponse newOwner
        = key.post(kRecords, newAccount(QStringLiteral("boss@example.com"), QStringLiteral("owner")));
    QVERIFY2(isProblem(newOwner, 403), summary(newOwner).constData());
    QVERIFY2(detailOf(newOwner).contains(u"admin"), summary(newOwner).constData()); // says how a key counts
    const HttpResponse deleteOwner = key.remove(accountPath(ownerId()));
    QVERIFY2(isProblem(deleteOwner, 403), summary(deleteOwner).constData());
    QCOMPARE(key.remove(accountPath(created.json().value(u"id").toString())).status, 204);
}

void TestSuperusersApi::editorAndViewerAreRefused()
{
    const QString editorId = create(QStringLiteral("editor"), QStringLiteral("editor"));
    QVERIFY(!create(QStringLiteral("viewer"), QStringLiteral("viewer")).isEmpty());
    for (const QString &email : {QStringLiteral("editor@example.com"), QStringLiteral("viewer@example.com")}) {
        const ApiClient client = as(email);
        const QList<HttpResponse> answers {
            client.get(kRecords),
            client.get(accountPath(editorId)),
            client.post(kRecords, newAccount(QStringLiteral("x@example.com"), QStringLiteral("viewer"))),
            client.patch(accountPath(editorId), roleChange(QStringLiteral("admin"))),
            client.remove(accountPath(editorId)),
        };
        for (const HttpResponse &r : answers)
            QVERIFY2(isProblem(r, 403) && detailOf(r).contains(u"accounts:manage"), summary(r).constData());
    }
    QCOMPARE(owner().get(accountPath(editorId)).json().value(u"role").toString(), QStringLiteral("editor"));
}

void TestSuperusersApi::lastOwnerCannotBeDeletedOrDemoted()
{
    const QString root = ownerId();
    const HttpResponse deleted = owner().remove(accountPath(root));
    QVERIFY2(isProblem(deleted, 409), summary(deleted).constData());
    QVERIFY2(detailOf(deleted).contains(u"last owner"), summary(deleted).constData());
    const HttpResponse demoted = owner().patch(accountPath(root), roleChange(QStringLiteral("admin")));
    QVERIFY2(isProblem(demoted, 409), summary(demoted).constData());
    QCOMPARE(owner().get(accountPath(root)).json().value(u"role").toString(), QStringLiteral("owner"));

    // With a second owner, the first may step down and then go; the second is then the last.
    const QString second = create(QStringLiteral("second"), QStringLiteral("owner"));
    QVERIFY(!second.isEmpty());
    const ApiClient secondOwner = as(QStringLiteral("second@example.com"));
    const HttpResponse stepDown = owner().patch(accountPath(root), roleChange(QStringLiteral("admin")));
    QCOMPARE(stepDown.status, 200);
    QCOMPARE(stepDown.json().value(u"role").toString(), QStringLiteral("admin"));
    QVERIFY(isProblem(secondOwner.remove(accountPath(second)), 409));
    QVERIFY(isProblem(secondOwner.patch(accountPath(second), roleChange(QStringLiteral("viewer"))), 409));
    QCOMPARE(secondOwner.remove(accountPath(root)).status, 204);
    const QJsonObject remaining = secondOwner.get(kRecords).json();
    QCOMPARE(remaining.value(u"totalItems").toInt(), 1);
    QCOMPARE(remaining.value(u"items").toArray().first().toObject().value(u"role").toString(), QStringLiteral("owner"));
}

void TestSuperusersApi::roleChangeTakesEffectOnTheNextRequest()
{
    const QString id = create(QStringLiteral("admin"), QStringLiteral("admin"));
    const ApiClient before = as(QStringLiteral("admin@example.com"));
    QCOMPARE(before.get("/api/keys").status, 200);

    const HttpResponse changed = owner().patch(accountPath(id), roleChange(QStringLiteral("editor")));
    QCOMPARE(changed.status, 200);
    QCOMPARE(changed.json().value(u"role").toString(), QStringLiteral("editor"));
    // The old token is refused on every thread's next request, even where an editor may go.
    for (int i = 0; i < 4; ++i) {
        QVERIFY(isProblem(before.get("/api/keys"), 401));
        QVERIFY(isProblem(before.get("/api/logs/audit"), 401));
    }
    const ApiClient after = as(QStringLiteral("admin@example.com"));
    QVERIFY(isProblem(after.get("/api/keys"), 403));
    QCOMPARE(after.get("/api/logs/audit").status, 200);
}

void TestSuperusersApi::passwordChangeEndsSessions()
{
    const QString id = create(QStringLiteral("admin"), QStringLiteral("admin"));
    const ApiClient before = as(QStringLiteral("admin@example.com"));
    const QString newPassword = QStringLiteral("a brand new password");
    const HttpResponse changed = owner().patch(
        accountPath(id),
        QJsonObject {{QStringLiteral("password"), newPassword}, {QStringLiteral("passwordConfirm"), newPassword}});
    QCOMPARE(changed.status, 200);
    QVERIFY(isProblem(before.get(kRecords), 401));
    QCOMPARE(m_api->server().roundTrip(loginRequest(QStringLiteral("admin@example.com"), kPassword)).status, 400);
    QCOMPARE(m_api->server().roundTrip(loginRequest(QStringLiteral("admin@example.com"), newPassword)).status, 200);
    // A blank password in an update (as forms send it) changes nothing.
    const HttpResponse blank = owner().patch(accountPath(id), object(R"({"password":"","passwordConfirm":""})"));
    QCOMPARE(blank.status, 200);
    QCOMPARE(m_api->server().roundTrip(loginRequest(QStringLiteral("admin@example.com"), newPassword)).status, 200);
}

void TestSuperusersApi::validationErrors_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("code");

    const QByteArray post = "POST", patch = "PATCH";
    QTest::newRow("duplicate email") << post
                                     << QByteArray(R"({"email":"ROOT@example.com","password":"long enough 1",)"
                                                   R"("passwordConfirm":"long enough 1","role":"viewer"})")
                                     << QStringLiteral("email") << QStringLiteral("validation_not_unique");
    QTest::newRow("bad role") << post
                              << QByteArray(R"({"email":"x@example.com","password":"long enough 1",)"
                                            R"("passwordConfirm":"long enough 1","role":"root"})")
                              << QStringLiteral("role") << QStringLiteral("validation_invalid_value");
    QTest::newRow("no role") << post
                             << QByteArray(R"({"email":"x@example.com","password":"long enough 1",)"
                                           R"("passwordConfirm":"long enough 1"})")
                             << QStringLiteral("role") << QStringLiteral("validation_required");
    QTest::newRow("bad email") << post
                               << QByteArray(R"({"email":"nope","password":"long enough 1",)"
                                             R"("passwordConfirm":"long enough 1","role":"viewer"})")
                               << QStringLiteral("email") << QStringLiteral("validation_is_email");
    QTest::newRow("email not a string") << post
                                        << QByteArray(R"({"email":42,"password":"long enough 1",)"
                                                      R"("passwordConfirm":"long enough 1","role":"viewer"})")
                                        << QStringLiteral("email") << QStringLiteral("validation_invalid_type");
    QTest::newRow("short password") << post
                                    << QByteArray(R"({"email":"x@example.com","password":"short",)"
                                                  R"("passwordConfirm":"short","role":"viewer"})")
                                    << QStringLiteral("password") << QStringLiteral("validation_min_text_constraint");
    QTest::newRow("no password") << post << QByteArray(R"({"email":"x@example.com","role":"viewer"})")
                                 << QStringLiteral("password") << QStringLiteral("validation_required");
    QTest::newRow("confirmation differs")
        << post
        << QByteArray(R"({"email":"x@example.com","password":"long enough 1",)"
                      R"("passwordConfirm":"long enough 2","role":"viewer"})")
        << QStringLiteral("passwordConfirm") << QStringLiteral("validation_values_mismatch");
    QTest::newRow("update: duplicate email") << patch << QByteArray(R"({"email":"root@EXAMPLE.com"})")
                                             << QStringLiteral("email") << QStringLiteral("validation_not_unique");
    QTest::newRow("update: bad role") << patch << QByteArray(R"({"role":"superadmin"})") << QStringLiteral("role")
                                      << QStringLiteral("validation_invalid_value");
    QTest::newRow("update: role not a string")
        << patch << QByteArray(R"({"role":1})") << QStringLiteral("role") << QStringLiteral("validation_invalid_type");
    QTest::newRow("update: password without confirmation")
        << patch << QByteArray(R"({"password":"long enough 1"})") << QStringLiteral("passwordConfirm")
        << QStringLiteral("validation_required");
    QTest::newRow("update: bad email") << patch << QByteArray(R"({"email":"a@b"})") << QStringLiteral("email")
                                       << QStringLiteral("validation_is_email");
}

void TestSuperusersApi::validationErrors()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, body);
    QFETCH(QString, field);
    QFETCH(QString, code);
    const QString id = create(QStringLiteral("target"), QStringLiteral("admin"));
    const HttpResponse r = owner().send(method, method == "POST" ? kRecords : accountPath(id), body);
    QVERIFY2(isProblem(r, 400), summary(r).constData());
    QCOMPARE(detailOf(r),
             method == "POST" ? QStringLiteral("Failed to create record.")
                              : QStringLiteral("Failed to update record."));
    QVERIFY2(fieldCode(r, field) == code, summary(r).constData());
    QVERIFY(!r.json().value(u"data").toObject().value(field).toObject().value(u"message").toString().isEmpty());
    // Nothing was stored.
    const QJsonObject list = owner().get(kRecords).json();
    QCOMPARE(list.value(u"totalItems").toInt(), 2);
    const QJsonObject target = owner().get(accountPath(id)).json();
    QCOMPARE(target.value(u"email").toString(), QStringLiteral("target@example.com"));
    QCOMPARE(target.value(u"role").toString(), QStringLiteral("admin"));
}

void TestSuperusersApi::unknownAccountIs404()
{
    const QByteArray path = accountPath(QStringLiteral("nosuchaccount00"));
    QVERIFY(isProblem(owner().get(path), 404));
    QVERIFY(isProblem(owner().patch(path, roleChange(QStringLiteral("viewer"))), 404));
    QVERIFY(isProblem(owner().remove(path), 404));
    QVERIFY(isProblem(owner().send("POST", kRecords, "{not json"), 400));
}

void TestSuperusersApi::listPagesFiltersAndSorts()
{
    const QStringList roles {QStringLiteral("admin"), QStringLiteral("editor"), QStringLiteral("editor"),
                             QStringLiteral("viewer"), QStringLiteral("viewer")};
    QStringList ids {ownerId()};
    for (qsizetype i = 0; i < roles.size(); ++i) {
        m_api->clock().advanceMs(1000);
        ids << create(QStringLiteral("user%1").arg(i), roles[i]);
        QVERIFY(!ids.last().isEmpty());
    }
    const auto idsOf = [](const QJsonObject &page) {
        QStringList out;
        for (const QJsonValue &item : page.value(u"items").toArray())
            out << item.toObject().value(u"id").toString();
        return out;
    };
    const QJsonObject all = bodyIfOk(owner().get(kRecords), "list");
    QCOMPARE(idsOf(all), ids); // oldest first
    QCOMPARE(all.value(u"perPage").toInt(), 30);
    QCOMPARE(all.value(u"totalItems").toInt(), 6);

    const QJsonObject second = bodyIfOk(owner().get(kRecords + "?page=2&perPage=4"), "page 2");
    QCOMPARE(second.value(u"page").toInt(), 2);
    QCOMPARE(second.value(u"perPage").toInt(), 4);
    QCOMPARE(second.value(u"totalItems").toInt(), 6);
    QCOMPARE(second.value(u"totalPages").toInt(), 2);
    QCOMPARE(idsOf(second), ids.mid(4));

    const QJsonObject editors
        = bodyIfOk(owner().get(kRecords + "?filter=" + encoded(QStringLiteral("role = 'editor'"))), "filter");
    QCOMPARE(idsOf(editors), ids.mid(2, 2));
    const QJsonObject byEmail = bodyIfOk(
        owner().get(kRecords + "?filter="
                    + encoded(QStringLiteral("email ~ 'user4' || created < '%1'")
                                  .arg(all.value(u"items").toArray().at(1).toObject().value(u"created").toString()))),
        "filter on email and created");
    QCOMPARE(idsOf(byEmail), (QStringList {ids[0], ids[5]}));
    const QJsonObject sorted = bodyIfOk(owner().get(kRecords + "?sort=-email&skipTotal=1"), "sort");
    QCOMPARE(idsOf(sorted).first(), ids[5]); // user4@ comes first by email, descending
    QCOMPARE(idsOf(sorted).last(), ids[0]); // root@ last
    QCOMPARE(sorted.value(u"totalItems").toInt(), -1);

    // Secrets are not fields to filter or sort on.
    const QList<QByteArray> refused {"?filter=" + encoded(QStringLiteral("password_hash != ''")), "?sort=token_key",
                                     "?filter=role%20%3D", "?page=two"};
    for (const QByteArray &query : refused)
        QVERIFY2(isProblem(owner().get(kRecords + query), 400), query.constData());
}

void TestSuperusersApi::changesAreAudited()
{
    const QString id = create(QStringLiteral("admin"), QStringLiteral("admin"));
    QCOMPARE(owner().patch(accountPath(id), roleChange(QStringLiteral("viewer"))).status, 200);
    QCOMPARE(owner().remove(accountPath(id)).status, 204);
    const QJsonObject log = bodyIfOk(
        owner().get("/api/logs/audit?sort=id&filter=" + encoded(QStringLiteral("target = '_superusers/%1'").arg(id))),
        "audit log");
    const QJsonArray items = log.value(u"items").toArray();
    QCOMPARE(items.size(), 3);
    const QStringList actions {QStringLiteral("superuser.create"), QStringLiteral("superuser.update"),
                               QStringLiteral("superuser.delete")};
    for (qsizetype i = 0; i < items.size(); ++i) {
        const QJsonObject entry = items[i].toObject();
        QCOMPARE(entry.value(u"action").toString(), actions[i]);
        QCOMPARE(entry.value(u"actor").toString(), QStringLiteral("superuser:") + ownerId());
        QCOMPARE(entry.value(u"address").toString(), QStringLiteral("127.0.0.1"));
        QVERIFY(entry.value(u"success").toBool());
    }
    const QJsonObject update = items[1].toObject().value(u"details").toObject();
    QCOMPARE(update.value(u"before").toObject().value(u"role").toString(), QStringLiteral("admin"));
    QCOMPARE(update.value(u"after").toObject().value(u"role").toString(), QStringLiteral("viewer"));
    QCOMPARE(update.value(u"after").toObject().value(u"email").toString(), QStringLiteral("admin@example.com"));
}

QTEST_GUILESS_MAIN(TestSuperusersApi)
#include "tst_superusersapi.moc"
