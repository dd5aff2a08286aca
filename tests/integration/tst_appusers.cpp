// App users end to end over HTTP: the default `users` auth collection, signup with the password
// rules, password login, rules that see @request.auth, email visibility, access-token expiry,
// auth-refresh, logout, OAuth 2.0 refresh-token rotation with reuse detection, a password change
// that ends the other sessions, client-credentials tokens for API keys, and auth collections of
// one's own. Time moves on the fixture's ManualClock only.
#include <QSet>
#include <QtTest>
#include <memory>

#include "apifixture.h"

using namespace Outpost;
using namespace Outpost::Testing;

namespace {

const QString kUsers = QStringLiteral("users");
const QString kPassword = QStringLiteral("a fine long passphrase");
constexpr qint64 kMinute = 60'000;

QJsonObject signupBody(const QString &email, const QString &password = kPassword, QJsonObject extra = {})
{
    extra.insert(QStringLiteral("email"), email);
    extra.insert(QStringLiteral("password"), password);
    extra.insert(QStringLiteral("passwordConfirm"), password);
    return extra;
}

QJsonObject fieldError(const HttpResponse &r, const QString &field)
{
    return r.json().value(u"data").toObject().value(field).toObject();
}

QByteArray authPath(const QString &collection, const char *action)
{
    return "/api/collections/" + encoded(collection) + '/' + action;
}

// POST /api/keys answers 201.
QJsonObject createdKey(const HttpResponse &r)
{
    if (r.status != 201)
        qWarning("key creation failed: %s", summary(r).constData());
    return r.json();
}

HeaderList form()
{
    return {{"Content-Type", "application/x-www-form-urlencoded"}};
}

struct Login
{
    QByteArray token;
    QByteArray refreshToken;
    QJsonObject record;
};

} // namespace

class TestAppUsers : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void usersCollectionExistsByDefault();
    void signupAppliesThePasswordRules();
    void signupHidesSecretsAndEmail();
    void loginGivesTokensThatRulesSee();
    void wrongPasswordAndUnknownUserGetTheSameAnswer();
    void usersCannotReachAdminRoutes();
    void accessTokensExpireAfterFifteenMinutes();
    void authRefreshKeepsTheSession();
    void logoutEndsTheSession();
    void refreshTokensRotate();
    void reusingARefreshTokenRevokesTheFamily();
    void oauthErrorsUseRfc6749Shape();
    void passwordChangeEndsOtherSessions();
    void passwordChangeNeedsTheOldPassword();
    void onlySuperusersSetVerified();
    void clientCredentialsGiveScopedTokens();
    void revokingAKeyEndsItsTokens();
    void otherAuthCollectionsWorkAlike();
    void accountsCannotBeBatchedOrImported();
    void loginsAndSessionEndsAreAudited();

private:
    // Creates an account through the public signup and returns its id ("" and a warning on failure).
    QString signup(const QString &email, const QString &collection = kUsers);
    Login login(const QString &email, const QString &password = kPassword, const QString &collection = kUsers);
    HttpResponse token(const QByteArray &formBody, const HeaderList &extra = {}) const;

    std::unique_ptr<ApiFixture> m_api;
};

void TestAppUsers::init()
{
    m_api = std::make_unique<ApiFixture>();
    QVERIFY2(m_api->start(), qPrintable(m_api->errorString()));
}

void TestAppUsers::cleanup()
{
    m_api.reset();
}

QString TestAppUsers::signup(const QString &email, const QString &collection)
{
    const HttpResponse r = m_api->guest().post(recordsPath(collection), signupBody(email));
    return bodyIfOk(r, "signup").value(u"id").toString();
}

Login TestAppUsers::login(const QString &email, const QString &password, const QString &collection)
{
    const HttpResponse r = m_api->guest().post(
        authPath(collection, "auth-with-password"),
        QJsonObject {{QStringLiteral("identity"), email}, {QStringLiteral("password"), password}});
    const QJsonObject body = bodyIfOk(r, "login");
    return {body.value(u"token").toString().toUtf8(), body.value(u"refreshToken").toString().toUtf8(),
            body.value(u"record").toObject()};
}

HttpResponse TestAppUsers::token(const QByteArray &formBody, const HeaderList &extra) const
{
    return m_api->guest().send("POST", "/api/oauth2/token", formBody, form() + extra);
}

void TestAppUsers::usersCollectionExistsByDefault()
{
    const QJsonObject users = bodyIfOk(m_api->admin().get(collectionPath(kUsers)), "users collection");
    QCOMPARE(users.value(u"type").toString(), QStringLiteral("auth"));
    QStringList names;
    for (const QJsonValue &f : users.value(u"fields").toArray())
        names << f.toObject().value(u"name").toString();
    for (const char *name : {"id", "password", "tokenKey", "email", "emailVisibility", "verified", "name"})
        QVERIFY2(names.contains(QString::fromLatin1(name)), name);
    QCOMPARE(users.value(u"createRule").toString(), QString());
    QCOMPARE(users.value(u"listRule").toString(), QStringLiteral("id = @request.auth.id"));
}

void TestAppUsers::signupAppliesThePasswordRules()
{
    const ApiClient &guest = m_api->guest();
    HttpResponse r
        = guest.post(recordsPath(kUsers), signupBody(QStringLiteral("a@example.com"), QStringLiteral("short")));
    QVERIFY2(isProblem(r, 400), summary(r));
    QCOMPARE(fieldError(r, QStringLiteral("password")).value(u"code").toString(),
             QStringLiteral("validation_min_text_constraint"));

    r = guest.post(recordsPath(kUsers), signupBody(QStringLiteral("a@example.com"), QStringLiteral("Baseball")));
    QVERIFY2(isProblem(r, 400), summary(r));
    QCOMPARE(fieldError(r, QStringLiteral("password")).value(u"code").toString(),
             QStringLiteral("validation_common_password"));

    QJsonObject mismatch = signupBody(QStringLiteral("a@example.com"));
    mismatch.insert(QStringLiteral("passwordConfirm"), QStringLiteral("something else entirely"));
    r = guest.post(recordsPath(kUsers), mismatch);
    QVERIFY2(isProblem(r, 400), summary(r));
    QCOMPARE(fieldError(r, QStringLiteral("passwordConfirm")).value(u"code").toString(),
             QStringLiteral("validation_values_mismatch"));

    r = guest.post(recordsPath(kUsers), QJsonObject {{QStringLiteral("email"), QStringLiteral("a@example.com")}});
    QVERIFY2(isProblem(r, 400), summary(r));
    QCOMPARE(fieldError(r, QStringLiteral("password")).value(u"code").toString(),
             QStringLiteral("validation_required"));

    // A PHC string sent as the password is just a password: it is hashed like any other.
    const QString phc = QStringLiteral("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA");
    QVERIFY(!signup(QStringLiteral("b@example.com")).isEmpty());
    r = guest.post(recordsPath(kUsers), signupBody(QStringLiteral("c@example.com"), phc));
    QVERIFY2(r.status == 200, summary(r));
    QVERIFY(!login(QStringLiteral("c@example.com"), phc).token.isEmpty());

    r = guest.post(recordsPath(kUsers), signupBody(QStringLiteral("B@Example.com")));
    QVERIFY2(isProblem(r, 400), summary(r));
    QCOMPARE(fieldError(r, QStringLiteral("email")).value(u"code").toString(), QStringLiteral("validation_not_unique"));
}

void TestAppUsers::signupHidesSecretsAndEmail()
{
    const HttpResponse r = m_api->guest().post(recordsPath(kUsers), signupBody(QStringLiteral("hidden@example.com")));
    const QJsonObject record = bodyIfOk(r, "signup");
    QVERIFY(!record.isEmpty());
    QVERIFY(!record.contains(u"password"));
    QVERIFY(!record.contains(u"tokenKey"));
    QVERIFY(!record.contains(u"email")); // emailVisibility is false and a guest is not the owner
    QVERIFY(!r.body.contains("argon2"));
    QCOMPARE(record.value(u"verified").toBool(), false);

    // Superusers see the email, never the secrets.
    const QJsonObject seen = bodyIfOk(m_api->admin().get(recordsPath(kUsers, record.value(u"id").toString())), "view");
    QCOMPARE(seen.value(u"email").toString(), QStringLiteral("hidden@example.com"));
    QVERIFY(!seen.contains(u"password"));
    QVERIFY(!seen.contains(u"tokenKey"));
    // Nor can secrets be filtered on, even by a superuser.
    const HttpResponse filtered = m_api->admin().list(kUsers, "filter=" + encoded(QStringLiteral("password != ''")));
    QVERIFY2(isProblem(filtered, 400), summary(filtered));
}

void TestAppUsers::loginGivesTokensThatRulesSee()
{
    const QString alice = signup(QStringLiteral("alice@example.com"));
    const QString bob = signup(QStringLiteral("bob@example.com"));
    const Login a = login(QStringLiteral("ALICE@example.com"));
    QVERIFY(!a.token.isEmpty());
    QVERIFY(a.refreshToken.startsWith("opr_"));
    QCOMPARE(a.record.value(u"id").toString(), alice);
    QCOMPARE(a.record.value(u"email").toString(), QStringLiteral("alice@example.com")); // her own

    const ApiClient asAlice(m_api->server(), "Bearer " + a.token);
    const QJsonObject page = bodyIfOk(asAlice.list(kUsers), "list as alice");
    QCOMPARE(page.value(u"totalItems").toInt(), 1);
    QCOMPARE(page.value(u"items").toArray().first().toObject().value(u"id").toString(), alice);
    QCOMPARE(asAlice.get(recordsPath(kUsers, bob)).status, 404);
    QCOMPARE(m_api->guest().list(kUsers).json().value(u"totalItems").toInt(), 0);
    QCOMPARE(bodyIfOk(m_api->admin().list(kUsers), "list as admin").value(u"totalItems").toInt(), 2);

    // She may change her own record, not Bob's.
    HttpResponse r = asAlice.patch(recordsPath(kUsers, alice), object(R"({"name": "Alice"})"));
    QCOMPARE(bodyIfOk(r, "update own").value(u"name").toString(), QStringLiteral("Alice"));
    QCOMPARE(asAlice.patch(recordsPath(kUsers, bob), object(R"({"name": "Mallory"})")).status, 404);
}

void TestAppUsers::wrongPasswordAndUnknownUserGetTheSameAnswer()
{
    signup(QStringLiteral("carol@example.com"));
    const auto attempt = [this](const char *identity) {
        return m_api->guest().post(authPath(kUsers, "auth-with-password"),
                                   QJsonObject {{QStringLiteral("identity"), QString::fromLatin1(identity)},
                                                {QStringLiteral("password"), QStringLiteral("not the password")}});
    };
    const HttpResponse wrong = attempt("carol@example.com");
    const HttpResponse unknown = attempt("nobody@example.com");
    QVERIFY2(isProblem(wrong, 400), summary(wrong));
    QCOMPARE(unknown.status, wrong.status);
    QCOMPARE(unknown.body, wrong.body);
    // A collection that is not an auth collection has no logins.
    const HttpResponse base = m_api->guest().post(authPath(QStringLiteral("nope"), "auth-with-password"),
                                                  object(R"({"identity": "a@b.c", "password": "x"})"));
    QVERIFY2(isProblem(base, 404), summary(base));
}

void TestAppUsers::usersCannotReachAdminRoutes()
{
    signup(QStringLiteral("dave@example.com"));
    const ApiClient asDave(m_api->server(), "Bearer " + login(QStringLiteral("dave@example.com")).token);
    for (const QByteArray &path : {QByteArray("/api/collections"), QByteArray("/api/keys"),
                                   QByteArray("/api/logs/audit"), QByteArray("/api/collections/_superusers/records")}) {
        const HttpResponse r = asDave.get(path);
        QVERIFY2(isProblem(r, 403), QByteArray(path + ": " + summary(r)).constData());
    }
    // A user's token is no superuser's token.
    QCOMPARE(asDave.send("POST", authPath(QStringLiteral("_superusers"), "auth-refresh")).status, 401);
}

void TestAppUsers::accessTokensExpireAfterFifteenMinutes()
{
    const QString id = signup(QStringLiteral("erin@example.com"));
    const Login l = login(QStringLiteral("erin@example.com"));
    const ApiClient asErin(m_api->server(), "Bearer " + l.token);
    QCOMPARE(asErin.get(recordsPath(kUsers, id)).status, 200);
    m_api->clock().advanceMs(14 * kMinute);
    QCOMPARE(asErin.get(recordsPath(kUsers, id)).status, 200);
    m_api->clock().advanceMs(2 * kMinute);
    QCOMPARE(asErin.get(recordsPath(kUsers, id)).status, 404); // a guest now: the view rule hides it
    // The refresh token outlives the access token.
    const HttpResponse r = token("grant_type=refresh_token&refresh_token=" + l.refreshToken);
    const QJsonObject fresh = bodyIfOk(r, "refresh");
    QCOMPARE(fresh.value(u"expires_in").toInt(), 900);
    const ApiClient renewed(m_api->server(), "Bearer " + fresh.value(u"access_token").toString().toUtf8());
    QCOMPARE(renewed.get(recordsPath(kUsers, id)).status, 200);
}

void TestAppUsers::authRefreshKeepsTheSession()
{
    const QString id = signup(QStringLiteral("frank@example.com"));
    const Login l = login(QStringLiteral("frank@example.com"));
    m_api->clock().advanceMs(10 * kMinute);
    const ApiClient asFrank(m_api->server(), "Bearer " + l.token);
    const QJsonObject refreshed = bodyIfOk(asFrank.send("POST", authPath(kUsers, "auth-refresh")), "auth-refresh");
    QCOMPARE(refreshed.value(u"record").toObject().value(u"id").toString(), id);
    const QByteArray next = refreshed.value(u"token").toString().toUtf8();
    QVERIFY(!next.isEmpty());
    m_api->clock().advanceMs(10 * kMinute); // the first token has expired, the second has not
    const ApiClient withNext(m_api->server(), "Bearer " + next);
    QCOMPARE(withNext.get(recordsPath(kUsers, id)).status, 200);
    QCOMPARE(asFrank.get(recordsPath(kUsers, id)).status, 404);
    // Logging out ends the session behind both tokens.
    QCOMPARE(withNext.send("POST", authPath(kUsers, "auth-logout")).status, 204);
    QCOMPARE(withNext.get(recordsPath(kUsers, id)).status, 404);
}

void TestAppUsers::logoutEndsTheSession()
{
    const QString id = signup(QStringLiteral("gina@example.com"));
    const Login first = login(QStringLiteral("gina@example.com"));
    const Login second = login(QStringLiteral("gina@example.com"));
    const ApiClient one(m_api->server(), "Bearer " + first.token);
    const ApiClient two(m_api->server(), "Bearer " + second.token);
    QCOMPARE(one.send("POST", authPath(kUsers, "auth-logout")).status, 204);
    QCOMPARE(one.get(recordsPath(kUsers, id)).status, 404);
    QCOMPARE(one.send("POST", authPath(kUsers, "auth-logout")).status, 401);
    QCOMPARE(two.get(recordsPath(kUsers, id)).status, 200); // the other session goes on
    HttpResponse r = token("grant_type=refresh_token&refresh_token=" + first.refreshToken);
    QCOMPARE(r.status, 400);
    QCOMPARE(r.json().value(u"error").toString(), QStringLiteral("invalid_grant"));

    // RFC 7009 revocation with the refresh token ends the second.
    r = m_api->guest().send("POST", "/api/oauth2/revoke", "token=" + second.refreshToken, form());
    QCOMPARE(r.status, 200);
    QCOMPARE(two.get(recordsPath(kUsers, id)).status, 404);
    // Unknown tokens get the same answer.
    QCOMPARE(m_api->guest().send("POST", "/api/oauth2/revoke", "token=opr_nothing", form()).status, 200);
}

void TestAppUsers::refreshTokensRotate()
{
    const QString id = signup(QStringLiteral("hank@example.com"));
    QByteArray refresh = login(QStringLiteral("hank@example.com")).refreshToken;
    QSet<QByteArray> seen {refresh};
    for (int i = 0; i < 3; ++i) {
        m_api->clock().advanceMs(20 * kMinute);
        const HttpResponse r = token("grant_type=refresh_token&refresh_token=" + refresh);
        const QJsonObject body = bodyIfOk(r, "refresh");
        QCOMPARE(body.value(u"token_type").toString(), QStringLiteral("Bearer"));
        QCOMPARE(r.header("Cache-Control"), QByteArray("no-store"));
        refresh = body.value(u"refresh_token").toString().toUtf8();
        QVERIFY(!seen.contains(refresh));
        seen.insert(refresh);
        const ApiClient now(m_api->server(), "Bearer " + body.value(u"access_token").toString().toUtf8());
        QCOMPARE(now.get(recordsPath(kUsers, id)).status, 200);
    }
    // JSON bodies work too.
    const HttpResponse json
        = m_api->guest().post("/api/oauth2/token",
                              QJsonObject {{QStringLiteral("grant_type"), QStringLiteral("refresh_token")},
                                           {QStringLiteral("refresh_token"), QString::fromLatin1(refresh)}});
    QVERIFY2(json.status == 200, summary(json));
    // Sessions end after 30 days, however often they are refreshed.
    refresh = json.json().value(u"refresh_token").toString().toUtf8();
    m_api->clock().advanceMs(31LL * 24 * 60 * kMinute);
    QCOMPARE(token("grant_type=refresh_token&refresh_token=" + refresh).status, 400);
}

void TestAppUsers::reusingARefreshTokenRevokesTheFamily()
{
    const QString id = signup(QStringLiteral("ivy@example.com"));
    const Login l = login(QStringLiteral("ivy@example.com"));
    const QJsonObject next = bodyIfOk(token("grant_type=refresh_token&refresh_token=" + l.refreshToken), "refresh");
    const QByteArray stolenNext = next.value(u"refresh_token").toString().toUtf8();
    const ApiClient current(m_api->server(), "Bearer " + next.value(u"access_token").toString().toUtf8());
    QCOMPARE(current.get(recordsPath(kUsers, id)).status, 200);

    // The spent token again: refused, and the whole session ends with it.
    const HttpResponse reuse = token("grant_type=refresh_token&refresh_token=" + l.refreshToken);
    QCOMPARE(reuse.status, 400);
    QCOMPARE(reuse.json().value(u"error").toString(), QStringLiteral("invalid_grant"));
    QCOMPARE(token("grant_type=refresh_token&refresh_token=" + stolenNext).status, 400);
    QCOMPARE(current.get(recordsPath(kUsers, id)).status, 404);
    QCOMPARE(ApiClient(m_api->server(), "Bearer " + l.token).get(recordsPath(kUsers, id)).status, 404);
    // Another login is a new family.
    QVERIFY(!login(QStringLiteral("ivy@example.com")).token.isEmpty());
}

void TestAppUsers::oauthErrorsUseRfc6749Shape()
{
    HttpResponse r = token("grant_type=password&username=a&password=b");
    QCOMPARE(r.status, 400);
    QCOMPARE(r.json().value(u"error").toString(), QStringLiteral("unsupported_grant_type"));
    QVERIFY(r.json().contains(u"error_description"));
    QVERIFY(r.header("Content-Type").startsWith("application/json"));
    r = token("");
    QCOMPARE(r.json().value(u"error").toString(), QStringLiteral("invalid_request"));
    r = token("grant_type=refresh_token");
    QCOMPARE(r.json().value(u"error").toString(), QStringLiteral("invalid_request"));
    r = token("grant_type=refresh_token&refresh_token=opr_forged");
    QCOMPARE(r.json().value(u"error").toString(), QStringLiteral("invalid_grant"));
    r = m_api->guest().send("POST", "/api/oauth2/token", "grant_type=client_credentials",
                            {{"Content-Type", "text/xml"}});
    QCOMPARE(r.json().value(u"error").toString(), QStringLiteral("invalid_request"));
}

void TestAppUsers::passwordChangeEndsOtherSessions()
{
    const QString id = signup(QStringLiteral("jack@example.com"));
    const Login laptop = login(QStringLiteral("jack@example.com"));
    const Login phone = login(QStringLiteral("jack@example.com"));
    const ApiClient onLaptop(m_api->server(), "Bearer " + laptop.token);
    const ApiClient onPhone(m_api->server(), "Bearer " + phone.token);
    const QString fresh = QStringLiteral("another long passphrase");
    const HttpResponse r = onLaptop.patch(recordsPath(kUsers, id),
                                          QJsonObject {{QStringLiteral("oldPassword"), kPassword},
                                                       {QStringLiteral("password"), fresh},
                                                       {QStringLiteral("passwordConfirm"), fresh}});
    QVERIFY2(r.status == 200, summary(r));
    QCOMPARE(onLaptop.get(recordsPath(kUsers, id)).status, 200); // the session that changed it goes on
    QCOMPARE(onPhone.get(recordsPath(kUsers, id)).status, 404);
    QCOMPARE(token("grant_type=refresh_token&refresh_token=" + phone.refreshToken).status, 400);
    QVERIFY(login(QStringLiteral("jack@example.com"), fresh).token.size() > 0);
    const HttpResponse old
        = m_api->guest().post(authPath(kUsers, "auth-with-password"),
                              QJsonObject {{QStringLiteral("identity"), QStringLiteral("jack@example.com")},
                                           {QStringLiteral("password"), kPassword}});
    QCOMPARE(old.status, 400);

    // A superuser resetting it needs no old password and ends every session.
    const QString third = QStringLiteral("a third long passphrase");
    const HttpResponse reset = m_api->admin().patch(
        recordsPath(kUsers, id),
        QJsonObject {{QStringLiteral("password"), third}, {QStringLiteral("passwordConfirm"), third}});
    QVERIFY2(reset.status == 200, summary(reset));
    QCOMPARE(onLaptop.get(recordsPath(kUsers, id)).status, 404);
}

void TestAppUsers::passwordChangeNeedsTheOldPassword()
{
    const QString id = signup(QStringLiteral("kim@example.com"));
    const ApiClient asKim(m_api->server(), "Bearer " + login(QStringLiteral("kim@example.com")).token);
    const QString fresh = QStringLiteral("another long passphrase");
    QJsonObject change {{QStringLiteral("password"), fresh}, {QStringLiteral("passwordConfirm"), fresh}};
    HttpResponse r = asKim.patch(recordsPath(kUsers, id), change);
    QVERIFY2(isProblem(r, 400), summary(r));
    QCOMPARE(fieldError(r, QStringLiteral("oldPassword")).value(u"code").toString(),
             QStringLiteral("validation_required"));
    change.insert(QStringLiteral("oldPassword"), QStringLiteral("not my password"));
    r = asKim.patch(recordsPath(kUsers, id), change);
    QVERIFY2(isProblem(r, 400), summary(r));
    QCOMPARE(fieldError(r, QStringLiteral("oldPassword")).value(u"code").toString(),
             QStringLiteral("validation_invalid_old_password"));
    // Nothing changed: the old password still logs in, and the token key cannot be set.
    QVERIFY(!login(QStringLiteral("kim@example.com")).token.isEmpty());
    r = asKim.patch(recordsPath(kUsers, id), object(R"({"tokenKey": "0123456789012345678901234567890123456789"})"));
    QVERIFY2(isProblem(r, 400), summary(r));
}

void TestAppUsers::onlySuperusersSetVerified()
{
    HttpResponse r = m_api->guest().post(
        recordsPath(kUsers),
        signupBody(QStringLiteral("liz@example.com"), kPassword, QJsonObject {{QStringLiteral("verified"), true}}));
    QVERIFY2(isProblem(r, 400), summary(r));
    const QString id = signup(QStringLiteral("liz@example.com"));
    const ApiClient asLiz(m_api->server(), "Bearer " + login(QStringLiteral("liz@example.com")).token);
    QVERIFY(isProblem(asLiz.patch(recordsPath(kUsers, id), object(R"({"verified": true})")), 400));
    r = m_api->admin().patch(recordsPath(kUsers, id), object(R"({"verified": true})"));
    QCOMPARE(bodyIfOk(r, "verify").value(u"verified").toBool(), true);
}

void TestAppUsers::clientCredentialsGiveScopedTokens()
{
    signup(QStringLiteral("mo@example.com"));
    const QJsonObject issued = createdKey(m_api->admin().post(
        "/api/keys", object(R"({"name": "reporting", "scopes": ["records:read:users", "logs:read"]})")));
    const QByteArray id = issued.value(u"id").toString().toUtf8();
    const QByteArray secret = issued.value(u"key").toString().toUtf8();
    QVERIFY(!secret.isEmpty());

    // HTTP Basic (RFC 6749 §2.3.1).
    HttpResponse r = token("grant_type=client_credentials",
                           {{"Authorization", "Basic " + QByteArray(id + ':' + secret).toBase64()}});
    QJsonObject body = bodyIfOk(r, "client credentials");
    QCOMPARE(body.value(u"token_type").toString(), QStringLiteral("Bearer"));
    QCOMPARE(body.value(u"expires_in").toInt(), 900);
    QCOMPARE(body.value(u"scope").toString(), QStringLiteral("records:read:users logs:read"));
    const ApiClient withToken(m_api->server(), "Bearer " + body.value(u"access_token").toString().toUtf8());
    QCOMPARE(bodyIfOk(withToken.list(kUsers), "list with token").value(u"totalItems").toInt(), 1);
    QCOMPARE(withToken.get("/api/logs/audit").status, 200);
    QCOMPARE(withToken.get("/api/keys").status, 403);

    // Narrower scopes on request, never wider.
    r = token("grant_type=client_credentials&scope=logs%3Aread&client_id=" + id + "&client_secret=" + secret);
    body = bodyIfOk(r, "narrowed");
    QCOMPARE(body.value(u"scope").toString(), QStringLiteral("logs:read"));
    const ApiClient narrowed(m_api->server(), "Bearer " + body.value(u"access_token").toString().toUtf8());
    QCOMPARE(narrowed.list(kUsers).status, 403);
    r = token("grant_type=client_credentials&scope=keys%3Amanage&client_id=" + id + "&client_secret=" + secret);
    QCOMPARE(r.status, 400);
    QCOMPARE(r.json().value(u"error").toString(), QStringLiteral("invalid_scope"));

    // A wrong secret, or another key's id.
    r = token("grant_type=client_credentials",
              {{"Authorization", "Basic " + QByteArray(id + ":opk_wrong").toBase64()}});
    QCOMPARE(r.status, 401);
    QCOMPARE(r.json().value(u"error").toString(), QStringLiteral("invalid_client"));
    QVERIFY(r.header("WWW-Authenticate").startsWith("Basic"));
    r = token("grant_type=client_credentials&client_id=someoneelse123&client_secret=" + secret);
    QCOMPARE(r.status, 401);

    // Tokens expire.
    m_api->clock().advanceMs(16 * kMinute);
    QCOMPARE(withToken.list(kUsers).status, 401);
}

void TestAppUsers::revokingAKeyEndsItsTokens()
{
    const QJsonObject issued
        = createdKey(m_api->admin().post("/api/keys", object(R"({"name": "short", "scopes": ["records:read"]})")));
    const QByteArray id = issued.value(u"id").toString().toUtf8();
    const QByteArray secret = issued.value(u"key").toString().toUtf8();
    const QJsonObject body
        = bodyIfOk(token("grant_type=client_credentials&client_id=" + id + "&client_secret=" + secret), "token");
    const ApiClient withToken(m_api->server(), "Bearer " + body.value(u"access_token").toString().toUtf8());
    QCOMPARE(withToken.list(kUsers).status, 200);
    QCOMPARE(m_api->admin().remove("/api/keys/" + id).status, 204);
    const HttpResponse r = withToken.list(kUsers);
    QVERIFY2(isProblem(r, 401), summary(r));
}

void TestAppUsers::otherAuthCollectionsWorkAlike()
{
    const HttpResponse created = m_api->admin().post(
        "/api/collections",
        object(R"({"name": "members", "type": "auth", "createRule": "", "viewRule": "id = @request.auth.id",
                   "fields": [{"name": "nickname", "type": "text"}, {"name": "password", "type": "password", "min": 12}]})"));
    const QJsonObject members = bodyIfOk(created, "create auth collection");
    QCOMPARE(members.value(u"type").toString(), QStringLiteral("auth"));
    // The password minimum may be raised, never lowered below 8.
    HttpResponse r = m_api->guest().post(recordsPath(QStringLiteral("members")),
                                         signupBody(QStringLiteral("n@example.com"), QStringLiteral("elevenchars")));
    QVERIFY2(isProblem(r, 400), summary(r));
    const QString id = signup(QStringLiteral("n@example.com"), QStringLiteral("members"));
    QVERIFY(!id.isEmpty());
    const Login member = login(QStringLiteral("n@example.com"), kPassword, QStringLiteral("members"));
    const ApiClient asMember(m_api->server(), "Bearer " + member.token);
    QCOMPARE(asMember.get(recordsPath(QStringLiteral("members"), id)).status, 200);
    // Tokens do not cross collections.
    QCOMPARE(asMember.send("POST", authPath(kUsers, "auth-refresh")).status, 401);
    QCOMPARE(asMember.send("POST", authPath(QStringLiteral("members"), "auth-refresh")).status, 200);
    // Base collections cannot hold password fields.
    r = m_api->admin().post("/api/collections",
                            object(R"({"name": "plain", "fields": [{"name": "secret", "type": "password"}]})"));
    QVERIFY2(isProblem(r, 400), summary(r));
    // Deleting the account ends its sessions' refresh.
    QCOMPARE(m_api->admin().remove(recordsPath(QStringLiteral("members"), id)).status, 204);
    QCOMPARE(asMember.get(recordsPath(QStringLiteral("members"), id)).status, 404);
    QCOMPARE(token("grant_type=refresh_token&refresh_token=" + member.refreshToken).status, 400);
}

void TestAppUsers::accountsCannotBeBatchedOrImported()
{
    const HttpResponse batch = m_api->admin().batch(
        QJsonArray {QJsonObject {{QStringLiteral("method"), QStringLiteral("POST")},
                                 {QStringLiteral("url"), QStringLiteral("/api/collections/users/records")},
                                 {QStringLiteral("body"), signupBody(QStringLiteral("batch@example.com"))}}});
    QVERIFY2(isProblem(batch, 400), summary(batch));
    const HttpResponse import
        = m_api->admin().send("POST", "/api/collections/users/import", "email,password\nx@example.com,whatever12345\n",
                              {{"Content-Type", "text/csv"}});
    QVERIFY2(isProblem(import, 400), summary(import));
    QCOMPARE(bodyIfOk(m_api->admin().list(kUsers), "list").value(u"totalItems").toInt(), 0);
}

void TestAppUsers::loginsAndSessionEndsAreAudited()
{
    const QString id = signup(QStringLiteral("olga@example.com"));
    m_api->guest().post(authPath(kUsers, "auth-with-password"),
                        object(R"({"identity": "olga@example.com", "password": "wrong password here"})"));
    const Login a = login(QStringLiteral("olga@example.com"));
    const Login b = login(QStringLiteral("olga@example.com"));
    const ApiClient asA(m_api->server(), "Bearer " + a.token);
    QCOMPARE(asA.send("POST", authPath(kUsers, "auth-logout")).status, 204);
    const QByteArray spent = b.refreshToken;
    QVERIFY(token("grant_type=refresh_token&refresh_token=" + spent).status == 200);
    QCOMPARE(token("grant_type=refresh_token&refresh_token=" + spent).status, 400); // reuse

    const auto entries = [this](const QString &filter) {
        const HttpResponse r = m_api->admin().get("/api/logs/audit?sort=id&filter=" + encoded(filter));
        return bodyIfOk(r, "audit").value(u"items").toArray();
    };
    const QJsonArray logins = entries(QStringLiteral("action = 'auth.login' && target = 'users'"));
    QCOMPARE(logins.size(), 3);
    QCOMPARE(logins[0].toObject().value(u"success").toBool(), false);
    QCOMPARE(logins[1].toObject().value(u"actor").toString(), QStringLiteral("olga@example.com"));
    const QJsonArray ended = entries(QStringLiteral("action = 'session.revoke'"));
    QCOMPARE(ended.size(), 2);
    QCOMPARE(ended[0].toObject().value(u"actor").toString(), QStringLiteral("user:users:") + id);
    QCOMPARE(ended[0].toObject().value(u"details").toObject().value(u"reason").toString(), QStringLiteral("logout"));
    QCOMPARE(ended[1].toObject().value(u"details").toObject().value(u"reason").toString(),
             QStringLiteral("refresh_token_reuse"));
    // Nothing of a password or a token ever reaches the log.
    const HttpResponse all = m_api->admin().get("/api/logs/audit?perPage=500");
    QVERIFY(!all.body.contains("argon2"));
    QVERIFY(!all.body.contains("opr_"));
    QVERIFY(!all.body.contains(a.token));
}

QTEST_GUILESS_MAIN(TestAppUsers)
#include "tst_appusers.moc"
