// One table for the whole API: every route the server registers, every kind of caller, the status
// each must get. A route added without a row here fails the test.
#include <QMap>
#include <QtTest>

#include "apifixture.h"
#include "auth/superusers.h"
#include "http/router.h"
#include "server/server.h"

using namespace Outpost;
using namespace Outpost::Testing;

namespace {

// What a route demands, as this table states it (checked against the router's own policy).
enum class Demand {
    Open, // anyone
    SuperuserToken, // the route itself needs a superuser's token (auth-refresh)
    Logout, // as SuperuserToken, and it ends the token's session: each superuser sends a fresh one
    Records, // records routes on a collection whose rules are all null (superusers only)
    Batch, // as Records; a rule that refuses fails the batch (400) naming the item's 403
    Permission, // a permission: superusers, and keys with its scope
};

struct Row
{
    Demand demand;
    Auth::Permission permission;
    QByteArray target; // with placeholders filled
    QByteArray body; // sent as JSON when non-empty
    bool head = false; // send HEAD instead of GET: the answer is streamed (chunked), the status is the same
};

// What a caller must get on a route: Pass = anything but 401/403 (and below 500).
enum class Expect { Pass, Unauthorized, Forbidden, ItemForbidden };

struct Caller
{
    const char *name;
    QByteArray authorization; // Authorization header value; empty for none
    // The expectation for each kind of route; for Records and Permission routes the scope-based
    // callers are decided per row (see expected()).
    Expect open, superuserToken, records, permission;
};

QByteArray pattern(Http::Method method, const QByteArray &path)
{
    return Http::methodName(method) + ' ' + path;
}

} // namespace

class TestPermissions : public QObject
{
    Q_OBJECT

private slots:
    void everyRouteHasARow();
    void everyCallerOnEveryRoute();

private:
    QMap<QByteArray, Row> table(const QString &recordId) const;
};

QMap<QByteArray, Row> TestPermissions::table(const QString &recordId) const
{
    using P = Auth::Permission;
    const QByteArray secret = "/api/collections/secret";
    const QByteArray record = secret + "/records/" + recordId.toUtf8();
    const QByteArray batch = R"({"requests":[{"method":"POST","url":"/api/collections/secret/records","body":{}}]})";
    return {
        {"GET /api/health", {Demand::Open, P::RecordsRead, "/api/health", {}}},
        {"POST /api/collections/{collection}/auth-with-password",
         {Demand::Open, P::RecordsRead, "/api/collections/_superusers/auth-with-password", "{}"}},
        {"POST /api/collections/{collection}/auth-refresh",
         {Demand::SuperuserToken, P::RecordsRead, "/api/collections/_superusers/auth-refresh", {}}},
        {"POST /api/collections/{collection}/auth-logout",
         {Demand::Logout, P::RecordsRead, "/api/collections/_superusers/auth-logout", {}}},
        {"POST /api/oauth2/token", {Demand::Open, P::RecordsRead, "/api/oauth2/token", "{}"}},
        {"POST /api/oauth2/revoke", {Demand::Open, P::RecordsRead, "/api/oauth2/revoke", "{}"}},
        {"GET /api/collections", {Demand::Permission, P::CollectionsManage, "/api/collections", {}}},
        {"POST /api/collections", {Demand::Permission, P::CollectionsManage, "/api/collections", "{}"}},
        {"GET /api/collections/{c}", {Demand::Permission, P::CollectionsManage, secret, {}}},
        {"PATCH /api/collections/{c}", {Demand::Permission, P::CollectionsManage, "/api/collections/nope", "{}"}},
        {"DELETE /api/collections/{c}", {Demand::Permission, P::CollectionsManage, "/api/collections/nope", {}}},
        {"GET /api/openapi.json", {Demand::Permission, P::CollectionsManage, "/api/openapi.json", {}}},
        {"GET /api/collections/{c}/records", {Demand::Records, P::RecordsRead, secret + "/records", {}}},
        {"POST /api/collections/{c}/records", {Demand::Records, P::RecordsWrite, secret + "/records", "{}"}},
        {"GET /api/collections/{c}/records/{id}", {Demand::Records, P::RecordsRead, record, {}}},
        {"PATCH /api/collections/{c}/records/{id}",
         {Demand::Records, P::RecordsWrite, secret + "/records/nosuchrecord000", "{}"}},
        {"DELETE /api/collections/{c}/records/{id}",
         {Demand::Records, P::RecordsWrite, secret + "/records/nosuchrecord000", {}}},
        {"POST /api/batch", {Demand::Batch, P::RecordsWrite, "/api/batch", batch}},
        {"GET /api/collections/{c}/export", {Demand::Records, P::RecordsRead, secret + "/export", {}, true}},
        {"POST /api/collections/{c}/import", {Demand::Records, P::RecordsWrite, secret + "/import", "[]"}},
        {"POST /api/keys", {Demand::Permission, P::KeysManage, "/api/keys", "{}"}},
        {"GET /api/keys", {Demand::Permission, P::KeysManage, "/api/keys", {}}},
        {"GET /api/keys/{id}", {Demand::Permission, P::KeysManage, "/api/keys/nosuchkey000000", {}}},
        {"PATCH /api/keys/{id}", {Demand::Permission, P::KeysManage, "/api/keys/nosuchkey000000", "{}"}},
        {"DELETE /api/keys/{id}", {Demand::Permission, P::KeysManage, "/api/keys/nosuchkey000000", {}}},
        {"POST /api/keys/{id}/rotate", {Demand::Permission, P::KeysManage, "/api/keys/nosuchkey000000/rotate", "{}"}},
        {"GET /api/logs/audit", {Demand::Permission, P::LogsRead, "/api/logs/audit", {}}},
        {"GET /api/logs/requests", {Demand::Permission, P::LogsRead, "/api/logs/requests", {}}},
        {"GET /metrics", {Demand::Permission, P::MetricsRead, "/metrics", {}}},
        {"GET /api/metrics/summary", {Demand::Permission, P::MetricsRead, "/api/metrics/summary", {}}},
        {"GET /api/settings/rate-limits", {Demand::Permission, P::SettingsManage, "/api/settings/rate-limits", {}}},
        {"PUT /api/settings/rate-limits", {Demand::Permission, P::SettingsManage, "/api/settings/rate-limits", "{}"}},
        {"DELETE /api/settings/rate-limits", {Demand::Permission, P::SettingsManage, "/api/settings/rate-limits", {}}},
        {"GET /api/collections/_superusers/records",
         {Demand::Permission, P::AccountsManage, "/api/collections/_superusers/records", {}}},
        {"POST /api/collections/_superusers/records",
         {Demand::Permission, P::AccountsManage, "/api/collections/_superusers/records", "{}"}},
        {"GET /api/collections/_superusers/records/{id}",
         {Demand::Permission, P::AccountsManage, "/api/collections/_superusers/records/nosuchaccount00", {}}},
        {"PATCH /api/collections/_superusers/records/{id}",
         {Demand::Permission, P::AccountsManage, "/api/collections/_superusers/records/nosuchaccount00", "{}"}},
        {"DELETE /api/collections/_superusers/records/{id}",
         {Demand::Permission, P::AccountsManage, "/api/collections/_superusers/records/nosuchaccount00", {}}},
    };
}

void TestPermissions::everyRouteHasARow()
{
    ApiFixture api;
    QVERIFY2(api.start(), qPrintable(api.errorString()));
    const auto rows = table(QStringLiteral("x"));
    for (const auto &route : api.server().server().router().routes()) {
        const QByteArray key = pattern(route.method, route.pattern);
        QVERIFY2(rows.contains(key), QByteArray("route without a row in the permission table: " + key).constData());
        const Row &row = rows[key];
        // The table and the router agree on what the route demands.
        switch (route.policy.kind) {
        case Http::Policy::Kind::Open:
            QVERIFY2(row.demand == Demand::Open || row.demand == Demand::SuperuserToken || row.demand == Demand::Logout,
                     key.constData());
            break;
        case Http::Policy::Kind::Rules:
            QVERIFY2((row.demand == Demand::Records || row.demand == Demand::Batch)
                         && row.permission == route.policy.permission,
                     key.constData());
            break;
        case Http::Policy::Kind::Permission:
            QVERIFY2(row.demand == Demand::Permission && row.permission == route.policy.permission, key.constData());
            break;
        }
    }
    QCOMPARE(rows.size(), api.server().server().router().routes().size()); // no stale rows either
}

void TestPermissions::everyCallerOnEveryRoute()
{
    ApiFixture api;
    QVERIFY2(api.start(), qPrintable(api.errorString()));
    const ApiClient &admin = api.admin();
    for (const char *name : {"secret", "other"})
        QVERIFY(!bodyIfOk(admin.post("/api/collections",
                                     QJsonObject {{QStringLiteral("name"), QLatin1String(name)},
                                                  {QStringLiteral("fields"),
                                                   QJsonArray {object(R"({"name":"title","type":"text"})")}}}),
                          "create collection")
                     .isEmpty());
    const QString recordId
        = bodyIfOk(admin.post("/api/collections/secret/records", object(R"({"title":"t"})")), "create record")
              .value(u"id")
              .toString();
    QVERIFY(!recordId.isEmpty());

    // Keys, made through the admin API.
    QString lastKeyId;
    const auto makeKey = [&](const QStringList &scopes, const QJsonObject &extra = {}) -> QByteArray {
        QJsonObject body = extra;
        body.insert(QStringLiteral("name"), QString(scopes.join(u' ').left(90) + QStringLiteral(" key")));
        body.insert(QStringLiteral("scopes"), QJsonArray::fromStringList(scopes));
        const HttpResponse r = admin.post("/api/keys", body);
        if (r.status != 201) {
            qWarning() << "key creation failed:" << summary(r);
            return {};
        }
        lastKeyId = r.json().value(u"id").toString();
        return r.json().value(u"key").toString().toUtf8();
    };
    const QStringList all = QStringLiteral("records:read records:write collections:manage accounts:manage "
                                           "keys:manage logs:read metrics:read")
                                .split(u' ');
    QMap<QString, QByteArray> byScope; // one key per scope
    for (const QString &scope : all)
        byScope[scope] = makeKey({scope});
    const QByteArray readSecret = makeKey({QStringLiteral("records:read:secret")});
    const QByteArray writeSecret = makeKey({QStringLiteral("records:write:secret")});
    const QByteArray otherCollection
        = makeKey({QStringLiteral("records:read:other"), QStringLiteral("records:write:other")});
    const QByteArray unrelated = makeKey({QStringLiteral("metrics:read")});
    const QByteArray elsewhere = makeKey(all, object(R"({"allowedCidrs":["10.0.0.0/8"]})"));
    const QByteArray revoked = makeKey(all);
    const QString revokedId = lastKeyId;
    const QByteArray expiring = makeKey(
        all, QJsonObject {{QStringLiteral("expiresAt"), Auth::Superusers::timestamp(api.clock().nowMs() + 60'000)}});
    for (const QByteArray &k : byScope.values()
             + QList<QByteArray> {readSecret, writeSecret, otherCollection, unrelated, elsewhere, revoked, expiring})
        QVERIFY(k.startsWith("opk_"));
    QCOMPARE(admin.get("/api/keys/" + revokedId.toUtf8()).json().value(u"prefix").toString(),
             QString::fromUtf8(revoked.left(12)));
    QCOMPARE(admin.remove("/api/keys/" + revokedId.toUtf8()).status, 204);

    // Tokens: a tampered one, and (after the clock moves past its lifetime) an expired one.
    Auth::Superusers &superusers = api.server().server().superusers();
    // A token of a session of its own, as a login would give.
    const auto tokenFor = [&superusers](Auth::Superuser user) {
        auto started = superusers.startSession(user, QStringLiteral("127.0.0.1"));
        return started ? "Bearer " + superusers.issueToken(user) : QByteArray();
    };
    const auto superuser = superusers.login(kSuperuserEmail, kSuperuserPassword.toUtf8(), {});
    QVERIFY(superuser.ok());
    const QByteArray oldToken = tokenFor(*superuser);
    QByteArray tampered = oldToken;
    tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
    api.clock().advanceMs(2 * 3600 * 1000); // the expiring key and oldToken are now past their end
    const QByteArray freshToken = tokenFor(*superuser);

    // An app user of the default `users` collection (signed up and logged in over HTTP).
    const HttpResponse signup = api.guest().post(
        recordsPath(QStringLiteral("users")),
        object(
            R"({"email": "app@example.com", "password": "an app user's password", "passwordConfirm": "an app user's password"})"));
    QVERIFY2(signup.status == 200, summary(signup).constData());
    const QByteArray userToken = "Bearer "
        + bodyIfOk(api.guest().post("/api/collections/users/auth-with-password",
                                    object(R"({"identity": "app@example.com", "password": "an app user's password"})")),
                   "user login")
              .value(u"token")
              .toString()
              .toUtf8();

    const QList<Caller> callers {
        {"anonymous", {}, Expect::Pass, Expect::Unauthorized, Expect::Forbidden, Expect::Unauthorized},
        {"superuser", freshToken, Expect::Pass, Expect::Pass, Expect::Pass, Expect::Pass},
        // Rules decide for app users; the secret collection's null rules admit superusers only.
        {"app user", userToken, Expect::Pass, Expect::Unauthorized, Expect::Forbidden, Expect::Forbidden},
        {"tampered token", tampered, Expect::Pass, Expect::Unauthorized, Expect::Forbidden, Expect::Unauthorized},
        {"expired token", oldToken, Expect::Pass, Expect::Unauthorized, Expect::Forbidden, Expect::Unauthorized},
        {"revoked key", "Bearer " + revoked, Expect::Unauthorized, Expect::Unauthorized, Expect::Unauthorized,
         Expect::Unauthorized},
        {"expired key", "Bearer " + expiring, Expect::Unauthorized, Expect::Unauthorized, Expect::Unauthorized,
         Expect::Unauthorized},
        {"key from a disallowed address", "Bearer " + elsewhere, Expect::Forbidden, Expect::Forbidden,
         Expect::Forbidden, Expect::Forbidden},
        {"key without the scope", "Bearer " + unrelated, Expect::Pass, Expect::Unauthorized, Expect::Forbidden,
         Expect::Forbidden},
        {"key for another collection", "Bearer " + otherCollection, Expect::Pass, Expect::Unauthorized,
         Expect::Forbidden, Expect::Forbidden},
    };

    // A superuser of each role below owner (owners are the "superuser" caller above).
    QMap<Auth::Role, Auth::Superuser> roleUsers;
    QMap<Auth::Role, QByteArray> roleTokens;
    for (Auth::Role role : {Auth::Role::Admin, Auth::Role::Editor, Auth::Role::Viewer}) {
        auto user
            = superusers.create(Auth::roleName(role) + QStringLiteral("@example.com"), "a long enough password", role);
        QVERIFY(user.ok());
        roleUsers[role] = *user;
        roleTokens[role] = tokenFor(*user);
    }

    const auto rows = table(recordId);
    int checked = 0;
    const auto check = [&](const QString &who, const QByteArray &authorization, const QByteArray &key, const Row &row,
                           Expect expect) {
        Http::Method method = Http::Method::Get;
        for (Http::Method m : {Http::Method::Get, Http::Method::Post, Http::Method::Patch, Http::Method::Delete})
            if (key.startsWith(QByteArray(Http::methodName(m) + ' ')))
                method = m;
        const ApiClient client(api.server(), authorization);
        const HttpResponse r
            = client.send(row.head ? QByteArrayView("HEAD") : Http::methodName(method), row.target, row.body);
        const QByteArray what = key + " as " + who.toUtf8() + ": " + summary(r);
        switch (expect) {
        case Expect::Pass:
            QVERIFY2(r.status != 401 && r.status != 403 && r.status > 0 && r.status < 500, what.constData());
            break;
        case Expect::Unauthorized:
            QVERIFY2(r.status == 401 && (row.head || isProblem(r, 401)), what.constData());
            break;
        case Expect::Forbidden:
            QVERIFY2(r.status == 403 && (row.head || isProblem(r, 403)), what.constData());
            break;
        case Expect::ItemForbidden: {
            const QJsonObject item
                = r.json().value(u"data").toObject().value(u"requests").toObject().value(u"0").toObject();
            QVERIFY2(isProblem(r, 400) && item.value(u"response").toObject().value(u"status").toInt() == 403,
                     what.constData());
            break;
        }
        }
        ++checked;
    };
    for (auto it = rows.cbegin(); it != rows.cend(); ++it) {
        const Row &row = it.value();
        for (const Caller &caller : callers) {
            const bool ownToken = row.demand == Demand::SuperuserToken || row.demand == Demand::Logout;
            Expect expect = row.demand == Demand::Open ? caller.open
                : ownToken                             ? caller.superuserToken
                : row.demand == Demand::Permission     ? caller.permission
                                                       : caller.records;
            // Rules refuse a guest's batch item inside the batch (400 naming it); the gate refuses a
            // key outright.
            if (row.demand == Demand::Batch && expect == Expect::Forbidden
                && !caller.authorization.startsWith("Bearer opk_"))
                expect = Expect::ItemForbidden;
            // Every scope has a route now: the unrelated key's metrics:read is the one the metrics
            // routes need.
            if (caller.authorization == "Bearer " + unrelated && row.demand == Demand::Permission
                && row.permission == Auth::Permission::MetricsRead)
                expect = Expect::Pass;
            // Logging out ends the session: the superuser sends a token it can spare.
            const bool spare = row.demand == Demand::Logout && caller.authorization == freshToken;
            check(QString::fromLatin1(caller.name), spare ? tokenFor(*superuser) : caller.authorization, it.key(), row,
                  expect);
            if (QTest::currentTestFailed())
                return;
        }
        // Roles: what Auth::roleGrants() allows passes (rules do not hold a superuser back), the rest
        // is refused by the gate.
        const bool needsPermission
            = row.demand != Demand::Open && row.demand != Demand::SuperuserToken && row.demand != Demand::Logout;
        for (auto r = roleTokens.cbegin(); r != roleTokens.cend(); ++r) {
            check(Auth::roleName(r.key()) + QStringLiteral(" superuser"),
                  row.demand == Demand::Logout ? tokenFor(roleUsers[r.key()]) : r.value(), it.key(), row,
                  !needsPermission || Auth::roleGrants(r.key(), row.permission) ? Expect::Pass : Expect::Forbidden);
        }
        // Keys holding exactly one scope: the one the route needs passes, every other is refused.
        if (needsPermission) {
            const QString needed = Auth::permissionName(row.permission);
            for (auto k = byScope.cbegin(); k != byScope.cend(); ++k)
                check(k.key() + QStringLiteral(" key"), "Bearer " + k.value(), it.key(), row,
                      k.key() == needed ? Expect::Pass : Expect::Forbidden);
        }
        if (row.demand == Demand::Records || row.demand == Demand::Batch) {
            const bool reads = row.permission == Auth::Permission::RecordsRead;
            check(QStringLiteral("records:read:secret key"), "Bearer " + readSecret, it.key(), row,
                  reads ? Expect::Pass : Expect::Forbidden);
            check(QStringLiteral("records:write:secret key"), "Bearer " + writeSecret, it.key(), row,
                  reads ? Expect::Forbidden : Expect::Pass);
        }
        if (QTest::currentTestFailed())
            return;
    }
    qInfo("%d route x caller checks", checked);
}

QTEST_GUILESS_MAIN(TestPermissions)
#include "tst_permissions.moc"
