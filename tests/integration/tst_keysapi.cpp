// The API key admin API end to end over HTTP: what creation hands out and what listings hide, a
// secret used through both headers, validation, changes, revocation, rotation with grace, expiry,
// address limits, usage counters and the rule that a key cannot grant what it does not hold. Time
// moves on the fixture's ManualClock only. Which caller gets 401/403 on which route is
// tst_permissions' table, not repeated here.
#include <QCryptographicHash>
#include <QtTest>
#include <memory>

#include "apifixture.h"
#include "auth/apikeys.h"
#include "auth/superusers.h"

using namespace Outpost;
using namespace Outpost::Testing;

namespace {

// Both collections have null rules: only superusers, and keys whose scopes name them, get in.
const QString kNotes = QStringLiteral("notes");
const QString kOther = QStringLiteral("other");
constexpr qint64 kMinute = 60'000;

struct Issued
{
    QString id;
    QByteArray secret; // empty when the creation failed (with a warning)
};

QByteArray keyPath(const QString &id, const char *tail = "")
{
    return "/api/keys/" + encoded(id) + tail;
}

QJsonObject keyBody(const QString &name, const QStringList &scopes, QJsonObject extra = {})
{
    extra.insert(QStringLiteral("name"), name);
    extra.insert(QStringLiteral("scopes"), QJsonArray::fromStringList(scopes));
    return extra;
}

// `secret` with its character at `index` swapped for another base62 character.
QByteArray mistyped(QByteArray secret, qsizetype index)
{
    secret[index] = secret[index] == 'x' ? 'y' : 'x';
    return secret;
}

// The error object a 400 names for `field` (PocketBase's data.{field}.{code,message}).
QJsonObject fieldError(const HttpResponse &r, const QString &field)
{
    return r.json().value(u"data").toObject().value(field).toObject();
}

QString detailOf(const HttpResponse &r)
{
    return r.json().value(u"detail").toString();
}

// True when `text` shows nothing of `secret`: not the secret, not its random part, not its SHA-256
// (hex in either case, or base64).
bool revealsNothing(const QByteArray &text, const QByteArray &secret)
{
    const QByteArray hash = QCryptographicHash::hash(secret, QCryptographicHash::Sha256);
    return !text.contains(secret) && !text.contains(secret.mid(12, 20)) && !text.contains(hash.toHex())
        && !text.contains(hash.toHex().toUpper()) && !text.contains(hash.toBase64());
}

// A key as the API shows it has none of these members (the secret is in `key` only in the answer
// to create and rotate).
bool hasNoSecretMembers(const QJsonObject &key)
{
    for (const QString &name : key.keys()) {
        const QString lower = name.toLower();
        if (lower == u"key" || lower.contains(u"hash") || lower.contains(u"secret"))
            return false;
    }
    return true;
}

} // namespace

class TestKeysApi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void createShowsTheSecretOnce();
    void createdByNamesTheCreator();
    void secretOpensOnlyGrantedRecords_data();
    void secretOpensOnlyGrantedRecords();
    void mistypedSecretIsMalformed_data();
    void mistypedSecretIsMalformed();
    void badInputIsRefused_data();
    void badInputIsRefused();
    void patchTakesEffectAtOnce();
    void deleteRevokesAtOnce();
    void rotationKeepsOldSecretForGrace();
    void rotationWithoutGraceEndsOldSecretAtOnce();
    void rotationRefusesBadGrace_data();
    void rotationRefusesBadGrace();
    void expiredKeyIsRefused();
    void allowedCidrsLimitAddresses_data();
    void allowedCidrsLimitAddresses();
    void usageIsCounted();
    void keyCannotGrantWhatItLacks_data();
    void keyCannotGrantWhatItLacks();
    void keyCannotRotateStrongerKey();
    void managedKeysInheritTheManagersLimits();

private:
    const ApiClient &admin() const { return m_api->admin(); }
    ApiClient bearer(const QByteArray &secret) const { return ApiClient(m_api->server(), "Bearer " + secret); }
    // GET with the secret in X-API-Key.
    HttpResponse getWithHeader(const QByteArray &target, const QByteArray &secret) const
    {
        return m_api->guest().send("GET", target, {}, {{QByteArray("X-API-Key"), secret}});
    }
    // POST /api/keys by `by` (the superuser when null); on anything but 201 a warning and no secret.
    Issued issue(const QStringList &scopes, const QJsonObject &extra = {}, const ApiClient *by = nullptr) const;
    QJsonObject keyView(const QString &id) const { return bodyIfOk(admin().get(keyPath(id)), "GET /api/keys/{id}"); }
    int keyCount() const { return bodyIfOk(admin().get("/api/keys"), "GET /api/keys").value(u"totalItems").toInt(-1); }
    QString nowText(qint64 offsetMs = 0) const
    {
        return Auth::Superusers::timestamp(m_api->clock().nowMs() + offsetMs);
    }

    std::unique_ptr<ApiFixture> m_api;
    QString m_recordId; // one record in `notes`
};

void TestKeysApi::init()
{
    m_api = std::make_unique<ApiFixture>();
    QVERIFY2(m_api->start(), qPrintable(m_api->errorString()));
    for (const QString &name : {kNotes, kOther}) {
        const QJsonObject collection {
            {QStringLiteral("name"), name},
            {QStringLiteral("fields"), QJsonArray {object(R"({"name":"title","type":"text"})")}}};
        QVERIFY(!bodyIfOk(admin().post("/api/collections", collection), "create collection").isEmpty());
    }
    m_recordId = bodyIfOk(admin().post(recordsPath(kNotes), object(R"({"title":"first"})")), "create record")
                     .value(u"id")
                     .toString();
    QVERIFY(!m_recordId.isEmpty());
}

void TestKeysApi::cleanup()
{
    m_api.reset();
    m_recordId.clear();
}

Issued TestKeysApi::issue(const QStringList &scopes, const QJsonObject &extra, const ApiClient *by) const
{
    const HttpResponse r = (by ? *by : admin()).post("/api/keys", keyBody(scopes.join(u' '), scopes, extra));
    if (r.status != 201) {
        qWarning("key creation failed: %s", summary(r).constData());
        return {};
    }
    return {r.json().value(u"id").toString(), r.json().value(u"key").toString().toUtf8()};
}

void TestKeysApi::createShowsTheSecretOnce()
{
    const HttpResponse r = admin().post(
        "/api/keys", keyBody(QStringLiteral("  inventory sync  "), {QStringLiteral("records:read:notes")}));
    QCOMPARE(r.status, 201);
    QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
    const QJsonObject created = r.json();
    const QString id = created.value(u"id").toString();
    const QByteArray secret = created.value(u"key").toString().toUtf8();
    QCOMPARE(id.size(), 15);
    QCOMPARE(r.header("Location"), keyPath(id));
    QCOMPARE(created.value(u"name").toString(), QStringLiteral("inventory sync")); // trimmed
    QCOMPARE(created.value(u"scopes").toArray(), QJsonArray {QStringLiteral("records:read:notes")});
    QVERIFY2(secret.startsWith("opk_") && secret.size() == 42, secret.constData());
    QVERIFY(Auth::ApiKeys::checksumValid(secret));
    QCOMPARE(created.value(u"prefix").toString(), QString::fromLatin1(secret.left(12)));
    QCOMPARE(created.value(u"created").toString(), nowText());
    QCOMPARE(created.value(u"expires").toString(), QString());
    QCOMPARE(created.value(u"revoked").toString(), QString());
    QCOMPARE(created.value(u"allowedCidrs").toArray(), QJsonArray());
    QCOMPARE(created.value(u"requestCount").toInt(-1), 0);
    // Two keys never share a secret or an id.
    const Issued second = issue({QStringLiteral("records:read:notes")});
    QVERIFY(!second.secret.isEmpty());
    QVERIFY(second.secret != secret && second.id != id);

    // Neither the listing nor the key's own page shows the secret or anything derived from it.
    const HttpResponse list = admin().get("/api/keys");
    QCOMPARE(list.status, 200);
    QCOMPARE(list.json().value(u"totalItems").toInt(), 2);
    const QJsonArray items = list.json().value(u"items").toArray();
    QCOMPARE(items.size(), 2);
    QCOMPARE(items.at(1).toObject().value(u"id").toString(), id); // newest first
    QVERIFY2(revealsNothing(list.body, secret) && revealsNothing(list.body, second.secret), list.body.constData());
    for (const QJsonValue &item : items)
        QVERIFY2(hasNoSecretMembers(item.toObject()), compact(item.toObject()).constData());
    const HttpResponse view = admin().get(keyPath(id));
    QCOMPARE(view.status, 200);
    QVERIFY2(revealsNothing(view.body, secret), view.body.constData());
    QVERIFY(hasNoSecretMembers(view.json()));
    QCOMPARE(view.json().value(u"prefix").toString(), QString::fromLatin1(secret.left(12)));
    QCOMPARE(view.json().value(u"name").toString(), QStringLiteral("inventory sync"));
    QVERIFY(isProblem(admin().get(keyPath(QStringLiteral("nosuchkey000000"))), 404));
}

void TestKeysApi::createdByNamesTheCreator()
{
    const HttpResponse login = m_api->server().roundTrip(loginRequest(kSuperuserEmail, kSuperuserPassword));
    const QString superuserId = login.json().value(u"record").toObject().value(u"id").toString();
    QVERIFY(!superuserId.isEmpty());
    const Issued manager = issue({QStringLiteral("keys:manage"), QStringLiteral("records:read:notes")});
    QVERIFY(!manager.secret.isEmpty());
    QCOMPARE(keyView(manager.id).value(u"createdBy").toString(), QStringLiteral("superuser:") + superuserId);

    const ApiClient asManager = bearer(manager.secret);
    const Issued child = issue({QStringLiteral("records:read:notes")}, {}, &asManager);
    QVERIFY(!child.secret.isEmpty());
    QCOMPARE(keyView(child.id).value(u"createdBy").toString(), QStringLiteral("apikey:") + manager.id);
    // The key that manages keys sees them too, and the child's secret works.
    QCOMPARE(asManager.get("/api/keys").json().value(u"totalItems").toInt(), 2);
    QCOMPARE(bearer(child.secret).list(kNotes).status, 200);
}

void TestKeysApi::secretOpensOnlyGrantedRecords_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QByteArray>("scheme"); // before the secret in the header's value
    QTest::newRow("X-API-Key") << QByteArray("X-API-Key") << QByteArray();
    QTest::newRow("Authorization: Bearer") << QByteArray("Authorization") << QByteArray("Bearer ");
    QTest::newRow("authorization: bearer") << QByteArray("authorization") << QByteArray("bearer ");
}

void TestKeysApi::secretOpensOnlyGrantedRecords()
{
    QFETCH(QByteArray, header);
    QFETCH(QByteArray, scheme);
    const Issued key = issue({QStringLiteral("records:read:notes")});
    QVERIFY(!key.secret.isEmpty());
    const HeaderList credential {{header, scheme + key.secret}};
    const ApiClient &guest = m_api->guest();

    const HttpResponse list = guest.send("GET", recordsPath(kNotes), {}, credential);
    QCOMPARE(list.status, 200);
    QCOMPARE(list.json().value(u"totalItems").toInt(), 1);
    const HttpResponse view = guest.send("GET", recordsPath(kNotes, m_recordId), {}, credential);
    QCOMPARE(view.status, 200);
    QCOMPARE(view.json().value(u"title").toString(), QStringLiteral("first"));

    // records:read:notes is neither write access nor access to another collection.
    const HttpResponse create = guest.send("POST", recordsPath(kNotes), R"({"title":"no"})", credential);
    QVERIFY2(isProblem(create, 403), summary(create).constData());
    QVERIFY(detailOf(create).contains(u"records:write"));
    QVERIFY(isProblem(guest.send("PATCH", recordsPath(kNotes, m_recordId), R"({"title":"no"})", credential), 403));
    QVERIFY(isProblem(guest.send("DELETE", recordsPath(kNotes, m_recordId), {}, credential), 403));
    QVERIFY(isProblem(guest.send("GET", recordsPath(kOther), {}, credential), 403));
    const QByteArray batch = R"({"requests":[{"method":"POST","url":"/api/collections/notes/records","body":{}}]})";
    QVERIFY(isProblem(guest.send("POST", "/api/batch", batch, credential), 403));
    QCOMPARE(admin().list(kNotes).json().value(u"totalItems").toInt(), 1); // nothing was written
}

void TestKeysApi::mistypedSecretIsMalformed_data()
{
    QTest::addColumn<int>("typo"); // index of the changed character; -1: one cut off, -2: one added
    QTest::newRow("random part") << 10;
    QTest::newRow("first character after opk_") << 4;
    QTest::newRow("checksum") << 41;
    QTest::newRow("cut short") << -1;
    QTest::newRow("one too many") << -2;
}

void TestKeysApi::mistypedSecretIsMalformed()
{
    QFETCH(int, typo);
    const Issued key = issue({QStringLiteral("records:read:notes")});
    QVERIFY(!key.secret.isEmpty());
    QCOMPARE(getWithHeader(recordsPath(kNotes), key.secret).status, 200);
    const QByteArray bad = typo == -1 ? key.secret.chopped(1)
        : typo == -2                  ? key.secret + 'x'
                                      : mistyped(key.secret, typo);
    for (const HttpResponse &r : {getWithHeader(recordsPath(kNotes), bad), bearer(bad).list(kNotes)}) {
        QVERIFY2(isProblem(r, 401), summary(r).constData());
        QVERIFY2(detailOf(r).contains(u"malformed") && detailOf(r).contains(u"checksum"), summary(r).constData());
        QVERIFY(r.header("WWW-Authenticate").startsWith("Bearer"));
    }
    QCOMPARE(keyView(key.id).value(u"requestCount").toInt(), 1); // the refused tries were not its uses
}

void TestKeysApi::badInputIsRefused_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QStringList>("fields"); // each must be in `data`, with
    QTest::addColumn<QStringList>("codes"); // these codes
    const QStringList name {QStringLiteral("name")};
    const QStringList scopes {QStringLiteral("scopes")};
    const QStringList cidrs {QStringLiteral("allowedCidrs")};
    const QStringList expires {QStringLiteral("expiresAt")};
    const auto code = [](const char *c) { return QStringList {QString::fromLatin1(c)}; };
    QTest::newRow("empty name") << QByteArray(R"({"name":"","scopes":["records:read"]})") << name
                                << code("validation_required");
    QTest::newRow("blank name") << QByteArray(R"({"name":"   ","scopes":["records:read"]})") << name
                                << code("validation_required");
    QTest::newRow("no name") << QByteArray(R"({"scopes":["records:read"]})") << name << code("validation_required");
    QTest::newRow("name too long") << QByteArray(R"({"name":")" + QByteArray(101, 'n')
                                                 + R"(","scopes":["records:read"]})")
                                   << name << code("validation_length_out_of_range");
    QTest::newRow("unknown scope") << QByteArray(R"({"name":"k","scopes":["records:delete"]})") << scopes
                                   << code("validation_invalid_scope");
    QTest::newRow("collection on keys:manage")
        << QByteArray(R"({"name":"k","scopes":["keys:manage:notes"]})") << scopes << code("validation_invalid_scope");
    QTest::newRow("bad collection name") << QByteArray(R"({"name":"k","scopes":["records:read:no such"]})") << scopes
                                         << code("validation_invalid_scope");
    QTest::newRow("scope twice") << QByteArray(R"({"name":"k","scopes":["records:read","Records:Read"]})") << scopes
                                 << code("validation_invalid_scope");
    QTest::newRow("no scopes") << QByteArray(R"({"name":"k","scopes":[]})") << scopes
                               << code("validation_invalid_scope");
    QTest::newRow("scopes missing") << QByteArray(R"({"name":"k"})") << scopes << code("validation_invalid_scope");
    QTest::newRow("scopes not an array") << QByteArray(R"({"name":"k","scopes":"records:read"})") << scopes
                                         << code("validation_invalid_scope");
    QTest::newRow("scope not a string") << QByteArray(R"({"name":"k","scopes":[7]})") << scopes
                                        << code("validation_invalid_scope");
    QTest::newRow("prefix over 32") << QByteArray(
        R"({"name":"k","scopes":["records:read"],"allowedCidrs":["10.0.0.0/33"]})")
                                    << cidrs << code("validation_invalid_cidr");
    QTest::newRow("host name as CIDR") << QByteArray(
        R"({"name":"k","scopes":["records:read"],"allowedCidrs":["example.com"]})")
                                       << cidrs << code("validation_invalid_cidr");
    QTest::newRow("short IPv4 form") << QByteArray(R"({"name":"k","scopes":["records:read"],"allowedCidrs":["10.1"]})")
                                     << cidrs << code("validation_invalid_cidr");
    QTest::newRow("CIDRs not an array") << QByteArray(
        R"({"name":"k","scopes":["records:read"],"allowedCidrs":"10.0.0.0/8"})")
                                        << cidrs << code("validation_invalid_cidr");
    // The fixture's clock stands in November 2023.
    QTest::newRow("expiry in the past") << QByteArray(
        R"({"name":"k","scopes":["records:read"],"expiresAt":"2020-01-01 00:00:00.000Z"})")
                                        << expires << code("validation_past_expiry");
    QTest::newRow("expiry not a date") << QByteArray(
        R"({"name":"k","scopes":["records:read"],"expiresAt":"next tuesday"})")
                                       << expires << code("validation_invalid_date");
    QTest::newRow("expiry on 30 February")
        << QByteArray(R"({"name":"k","scopes":["records:read"],"expiresAt":"2030-02-30 00:00:00.000Z"})") << expires
        << code("validation_invalid_date");
    QTest::newRow("expiry a number") << QByteArray(
        R"({"name":"k","scopes":["records:read"],"expiresAt":1893456000000})")
                                     << expires << code("validation_invalid_date");
    QTest::newRow("every field at once")
        << QByteArray(R"({"name":"","scopes":["nope"],"allowedCidrs":["300.1.1.1"],"expiresAt":"2020-01-01"})")
        << (name + scopes + cidrs + expires)
        << QStringList {QStringLiteral("validation_required"), QStringLiteral("validation_invalid_scope"),
                        QStringLiteral("validation_invalid_cidr"), QStringLiteral("validation_past_expiry")};
}

void TestKeysApi::badInputIsRefused()
{
    QFETCH(QByteArray, body);
    QFETCH(QStringList, fields);
    QFETCH(QStringList, codes);
    const HttpResponse r = admin().send("POST", "/api/keys", body);
    QVERIFY2(isProblem(r, 400), summary(r).constData());
    QVERIFY(!r.json().contains(u"key"));
    for (qsizetype i = 0; i < fields.size(); ++i) {
        const QJsonObject error = fieldError(r, fields[i]);
        QVERIFY2(error.value(u"code").toString() == codes[i], summary(r).constData());
        QVERIFY2(!error.value(u"message").toString().isEmpty(), summary(r).constData());
    }
    QCOMPARE(keyCount(), 0);
}

void TestKeysApi::patchTakesEffectAtOnce()
{
    const Issued key = issue({QStringLiteral("records:read:notes")});
    QVERIFY(!key.secret.isEmpty());
    const ApiClient client = bearer(key.secret);
    QVERIFY(isProblem(client.post(recordsPath(kNotes), object(R"({"title":"second"})")), 403));

    const HttpResponse widened
        = admin().patch(keyPath(key.id), object(R"({"scopes":["records:read:notes","records:write:notes"]})"));
    QCOMPARE(widened.status, 200);
    QCOMPARE(widened.json().value(u"scopes").toArray(),
             (QJsonArray {QStringLiteral("records:read:notes"), QStringLiteral("records:write:notes")}));
    QVERIFY(hasNoSecretMembers(widened.json()));
    const HttpResponse created = client.post(recordsPath(kNotes), object(R"({"title":"second"})"));
    QVERIFY2(created.status == 200, summary(created).constData());
    QCOMPARE(created.json().value(u"title").toString(), QStringLiteral("second"));

    const HttpResponse renamed = admin().patch(keyPath(key.id), object(R"({"name":"nightly import"})"));
    QCOMPARE(renamed.status, 200);
    QCOMPARE(renamed.json().value(u"name").toString(), QStringLiteral("nightly import"));
    QCOMPARE(renamed.json().value(u"scopes").toArray().size(), 2); // members not sent are kept
    QCOMPARE(keyView(key.id).value(u"name").toString(), QStringLiteral("nightly import"));
    QCOMPARE(client.list(kNotes).status, 200); // renaming does not touch the secret

    // Narrowing takes effect at once too.
    QCOMPARE(admin().patch(keyPath(key.id), object(R"({"scopes":["records:write:notes"]})")).status, 200);
    QVERIFY(isProblem(client.list(kNotes), 403));

    // Bad changes are refused with the field named, and change nothing.
    const HttpResponse badScope = admin().patch(keyPath(key.id), object(R"({"scopes":["records:erase"]})"));
    QVERIFY(isProblem(badScope, 400));
    QCOMPARE(fieldError(badScope, QStringLiteral("scopes")).value(u"code").toString(),
             QStringLiteral("validation_invalid_scope"));
    QVERIFY(isProblem(admin().patch(keyPath(key.id), object(R"({"scopes":"records:read"})")), 400));
    const HttpResponse blank = admin().patch(keyPath(key.id), object(R"({"name":" "})"));
    QVERIFY(isProblem(blank, 400));
    QCOMPARE(fieldError(blank, QStringLiteral("name")).value(u"code").toString(),
             QStringLiteral("validation_required"));
    const HttpResponse past = admin().patch(keyPath(key.id), object(R"({"expiresAt":"2020-01-01 00:00:00.000Z"})"));
    QVERIFY(isProblem(past, 400));
    QCOMPARE(fieldError(past, QStringLiteral("expiresAt")).value(u"code").toString(),
             QStringLiteral("validation_past_expiry"));
    QVERIFY(isProblem(admin().patch(keyPath(QStringLiteral("nosuchkey000000")), object(R"({"name":"x"})")), 404));
    QCOMPARE(keyView(key.id).value(u"name").toString(), QStringLiteral("nightly import"));
    QCOMPARE(keyView(key.id).value(u"expires").toString(), QString());

    // A revoked key cannot be changed (and so cannot be brought back).
    QCOMPARE(admin().remove(keyPath(key.id)).status, 204);
    const HttpResponse revived
        = admin().patch(keyPath(key.id), object(R"({"name":"again","scopes":["records:read"]})"));
    QVERIFY2(isProblem(revived, 400), summary(revived).constData());
    QCOMPARE(keyView(key.id).value(u"name").toString(), QStringLiteral("nightly import"));
    QVERIFY(isProblem(client.list(kNotes), 401));
}

void TestKeysApi::deleteRevokesAtOnce()
{
    const Issued key = issue({QStringLiteral("records:read:notes")});
    QVERIFY(!key.secret.isEmpty());
    QCOMPARE(getWithHeader(recordsPath(kNotes), key.secret).status, 200);
    m_api->clock().advanceMs(kMinute);
    const QString revokedAt = nowText();

    const HttpResponse removed = admin().remove(keyPath(key.id));
    QCOMPARE(removed.status, 204);
    QVERIFY(removed.body.isEmpty());
    for (const HttpResponse &r : {getWithHeader(recordsPath(kNotes), key.secret), bearer(key.secret).list(kNotes)}) {
        QVERIFY2(isProblem(r, 401), summary(r).constData());
        QVERIFY2(detailOf(r).contains(u"revoked"), summary(r).constData());
    }

    // Still listed, with the time of its revocation; revoking again changes nothing.
    const QJsonArray items = bodyIfOk(admin().get("/api/keys"), "list").value(u"items").toArray();
    QCOMPARE(items.size(), 1);
    QCOMPARE(items.at(0).toObject().value(u"id").toString(), key.id);
    QCOMPARE(items.at(0).toObject().value(u"revoked").toString(), revokedAt);
    m_api->clock().advanceMs(kMinute);
    QCOMPARE(admin().remove(keyPath(key.id)).status, 204);
    QCOMPARE(keyView(key.id).value(u"revoked").toString(), revokedAt);
    QVERIFY(isProblem(admin().remove(keyPath(QStringLiteral("nosuchkey000000"))), 404));
    // Nor can a revoked key be rotated back to life.
    const HttpResponse rotated = admin().post(keyPath(key.id, "/rotate"), object(R"({"graceSeconds":60})"));
    QVERIFY2(isProblem(rotated, 400), summary(rotated).constData());
    QVERIFY(!rotated.json().contains(u"key"));
}

void TestKeysApi::rotationKeepsOldSecretForGrace()
{
    const Issued key = issue({QStringLiteral("records:read:notes")});
    QVERIFY(!key.secret.isEmpty());
    const HttpResponse r = admin().post(keyPath(key.id, "/rotate"), object(R"({"graceSeconds":60})"));
    QCOMPARE(r.status, 200);
    const QByteArray fresh = r.json().value(u"key").toString().toUtf8();
    QVERIFY(Auth::ApiKeys::checksumValid(fresh));
    QVERIFY(fresh != key.secret);
    QCOMPARE(r.json().value(u"id").toString(), key.id);
    QCOMPARE(r.json().value(u"prefix").toString(), QString::fromLatin1(fresh.left(12)));
    QCOMPARE(keyView(key.id).value(u"prefix").toString(), QString::fromLatin1(fresh.left(12)));
    QVERIFY(revealsNothing(admin().get(keyPath(key.id)).body, fresh));

    QCOMPARE(bearer(fresh).list(kNotes).status, 200);
    QCOMPARE(bearer(key.secret).list(kNotes).status, 200);
    m_api->clock().advanceMs(59'000);
    QCOMPARE(bearer(key.secret).list(kNotes).status, 200);
    m_api->clock().advanceMs(2'000); // 61 s after the rotation
    const HttpResponse late = bearer(key.secret).list(kNotes);
    QVERIFY2(isProblem(late, 401), summary(late).constData());
    QCOMPARE(bearer(fresh).list(kNotes).status, 200);

    // A second rotation inside a grace period ends the older secret at once: one previous secret at a time.
    const QByteArray third = admin()
                                 .post(keyPath(key.id, "/rotate"), object(R"({"graceSeconds":3600})"))
                                 .json()
                                 .value(u"key")
                                 .toString()
                                 .toUtf8();
    const QByteArray fourth = admin()
                                  .post(keyPath(key.id, "/rotate"), object(R"({"graceSeconds":3600})"))
                                  .json()
                                  .value(u"key")
                                  .toString()
                                  .toUtf8();
    QVERIFY(!third.isEmpty() && !fourth.isEmpty());
    QVERIFY(isProblem(bearer(fresh).list(kNotes), 401));
    QCOMPARE(bearer(third).list(kNotes).status, 200);
    QCOMPARE(bearer(fourth).list(kNotes).status, 200);
}

void TestKeysApi::rotationWithoutGraceEndsOldSecretAtOnce()
{
    const Issued key = issue({QStringLiteral("records:read:notes")});
    QVERIFY(!key.secret.isEmpty());
    QCOMPARE(bearer(key.secret).list(kNotes).status, 200);
    const HttpResponse r = admin().send("POST", keyPath(key.id, "/rotate")); // no body: grace 0
    QCOMPARE(r.status, 200);
    const QByteArray fresh = r.json().value(u"key").toString().toUtf8();
    QVERIFY(Auth::ApiKeys::checksumValid(fresh));
    const HttpResponse old = bearer(key.secret).list(kNotes);
    QVERIFY2(isProblem(old, 401), summary(old).constData());
    QCOMPARE(bearer(fresh).list(kNotes).status, 200);

    // {} and an explicit 0 mean the same.
    QByteArray current = fresh;
    for (const char *body : {"{}", R"({"graceSeconds":0})"}) {
        const HttpResponse again = admin().post(keyPath(key.id, "/rotate"), object(body));
        QCOMPARE(again.status, 200);
        const QByteArray next = again.json().value(u"key").toString().toUtf8();
        QVERIFY2(isProblem(bearer(current).list(kNotes), 401), body);
        QCOMPARE(bearer(next).list(kNotes).status, 200);
        current = next;
    }
    QVERIFY(isProblem(admin().post(keyPath(QStringLiteral("nosuchkey000000"), "/rotate"), {}), 404));
}

void TestKeysApi::rotationRefusesBadGrace_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("negative") << QByteArray(R"({"graceSeconds":-1})");
    QTest::newRow("over 7 days") << QByteArray(R"({"graceSeconds":604801})");
    QTest::newRow("far over") << QByteArray(R"({"graceSeconds":1e30})");
    QTest::newRow("a string") << QByteArray(R"({"graceSeconds":"60"})");
    QTest::newRow("a bool") << QByteArray(R"({"graceSeconds":true})");
}

void TestKeysApi::rotationRefusesBadGrace()
{
    QFETCH(QByteArray, body);
    const Issued key = issue({QStringLiteral("records:read:notes")});
    QVERIFY(!key.secret.isEmpty());
    const HttpResponse r = admin().send("POST", keyPath(key.id, "/rotate"), body);
    QVERIFY2(isProblem(r, 400), summary(r).constData());
    QVERIFY(!fieldError(r, QStringLiteral("graceSeconds")).value(u"code").toString().isEmpty());
    QVERIFY(!r.json().contains(u"key"));
    // Nothing was rotated: the secret and its prefix are unchanged.
    QCOMPARE(bearer(key.secret).list(kNotes).status, 200);
    QCOMPARE(keyView(key.id).value(u"prefix").toString(), QString::fromLatin1(key.secret.left(12)));
    // The largest grace is accepted.
    QCOMPARE(admin().post(keyPath(key.id, "/rotate"), object(R"({"graceSeconds":604800})")).status, 200);
    m_api->clock().advanceMs(604'799'000);
    QCOMPARE(bearer(key.secret).list(kNotes).status, 200);
    m_api->clock().advanceMs(1'000);
    QVERIFY(isProblem(bearer(key.secret).list(kNotes), 401));
}

void TestKeysApi::expiredKeyIsRefused()
{
    const QString expiresAt = nowText(10 * kMinute);
    const Issued key = issue({QStringLiteral("records:read:notes")}, {{QStringLiteral("expiresAt"), expiresAt}});
    QVERIFY(!key.secret.isEmpty());
    QCOMPARE(keyView(key.id).value(u"expires").toString(), expiresAt);
    QCOMPARE(bearer(key.secret).list(kNotes).status, 200);
    m_api->clock().advanceMs(9 * kMinute);
    QCOMPARE(bearer(key.secret).list(kNotes).status, 200);
    m_api->clock().advanceMs(2 * kMinute);
    const HttpResponse r = bearer(key.secret).list(kNotes);
    QVERIFY2(isProblem(r, 401), summary(r).constData());
    QVERIFY2(detailOf(r).contains(u"expired"), summary(r).constData());
    QVERIFY(isProblem(getWithHeader(recordsPath(kNotes, m_recordId), key.secret), 401));
    // An expired key is still listed, with its expiry (and not revoked).
    QCOMPARE(keyView(key.id).value(u"expires").toString(), expiresAt);
    QCOMPARE(keyView(key.id).value(u"revoked").toString(), QString());

    // RFC 3339 with an offset is accepted as well, and PATCH can move the expiry of a live key.
    const Issued other = issue({QStringLiteral("records:read:notes")},
                               {{QStringLiteral("expiresAt"), QStringLiteral("2030-01-31T02:00:00+02:00")}});
    QVERIFY(!other.secret.isEmpty());
    QCOMPARE(keyView(other.id).value(u"expires").toString(), QStringLiteral("2030-01-31 00:00:00.000Z"));
    const QString soon = nowText(kMinute);
    QCOMPARE(admin().patch(keyPath(other.id), {{QStringLiteral("expiresAt"), soon}}).status, 200);
    QCOMPARE(keyView(other.id).value(u"expires").toString(), soon);
    m_api->clock().advanceMs(kMinute);
    QVERIFY(isProblem(bearer(other.secret).list(kNotes), 401));
}

void TestKeysApi::allowedCidrsLimitAddresses_data()
{
    QTest::addColumn<QStringList>("cidrs");
    QTest::addColumn<QStringList>("shown"); // as the API shows them
    QTest::addColumn<int>("status");
    QTest::newRow("loopback /32") << QStringList {QStringLiteral("127.0.0.1/32")}
                                  << QStringList {QStringLiteral("127.0.0.1/32")} << 200;
    QTest::newRow("bare address") << QStringList {QStringLiteral("127.0.0.1")}
                                  << QStringList {QStringLiteral("127.0.0.1/32")} << 200;
    QTest::newRow("one of two") << QStringList {QStringLiteral("10.0.0.0/8"), QStringLiteral("127.0.0.0/8")}
                                << QStringList {QStringLiteral("10.0.0.0/8"), QStringLiteral("127.0.0.0/8")} << 200;
    QTest::newRow("another network") << QStringList {QStringLiteral("10.0.0.0/8")}
                                     << QStringList {QStringLiteral("10.0.0.0/8")} << 403;
    QTest::newRow("IPv6 loopback only") << QStringList {QStringLiteral("::1/128")}
                                        << QStringList {QStringLiteral("::1/128")} << 403;
}

void TestKeysApi::allowedCidrsLimitAddresses()
{
    QFETCH(QStringList, cidrs);
    QFETCH(QStringList, shown);
    QFETCH(int, status);
    const Issued key = issue({QStringLiteral("records:read:notes")},
                             {{QStringLiteral("allowedCidrs"), QJsonArray::fromStringList(cidrs)}});
    QVERIFY(!key.secret.isEmpty());
    QCOMPARE(keyView(key.id).value(u"allowedCidrs").toArray(), QJsonArray::fromStringList(shown));
    for (const HttpResponse &r : {bearer(key.secret).list(kNotes), getWithHeader(recordsPath(kNotes), key.secret)}) {
        QVERIFY2(r.status == status, summary(r).constData());
        if (status == 403)
            QVERIFY2(isProblem(r, 403) && detailOf(r).contains(u"address"), summary(r).constData());
    }
    // A use from a refused address is not counted as a use.
    QCOMPARE(keyView(key.id).value(u"requestCount").toInt(), status == 200 ? 2 : 0);
    // Lifting the limit takes effect at once.
    QCOMPARE(admin().patch(keyPath(key.id), object(R"({"allowedCidrs":[]})")).status, 200);
    QCOMPARE(bearer(key.secret).list(kNotes).status, 200);
}

void TestKeysApi::usageIsCounted()
{
    const Issued key = issue({QStringLiteral("records:read:notes")});
    QVERIFY(!key.secret.isEmpty());
    const QJsonObject unused = keyView(key.id);
    QCOMPARE(unused.value(u"requestCount").toInt(-1), 0);
    QCOMPARE(unused.value(u"lastUsedAt").toString(), QString());
    QCOMPARE(unused.value(u"lastUsedFrom").toString(), QString());

    // N = 5 requests: three reads, one over X-API-Key, and one POST that its scopes refuse (403).
    // A use is counted when the key authenticates, before the route's scope check, so the refused
    // POST counts as well: the count is exactly N. Only requests refused for the key itself (a
    // malformed secret, revoked, expired, a refused address) are not counted.
    const ApiClient client = bearer(key.secret);
    QCOMPARE(client.list(kNotes).status, 200);
    QCOMPARE(client.get(recordsPath(kNotes, m_recordId)).status, 200);
    m_api->clock().advanceMs(10'000); // past the usage flush interval: counting goes on across a flush
    QCOMPARE(client.list(kNotes).status, 200);
    QCOMPARE(getWithHeader(recordsPath(kNotes), key.secret).status, 200);
    m_api->clock().advanceMs(3'000);
    QVERIFY(isProblem(client.post(recordsPath(kNotes), object(R"({"title":"x"})")), 403));
    const QString lastUse = nowText();
    QVERIFY(isProblem(getWithHeader(recordsPath(kNotes), mistyped(key.secret, 20)), 401)); // not a use
    m_api->clock().advanceMs(kMinute); // reading the key later does not move its last use

    const QJsonObject used = keyView(key.id);
    QCOMPARE(used.value(u"requestCount").toInt(), 5);
    QCOMPARE(used.value(u"lastUsedFrom").toString(), QStringLiteral("127.0.0.1"));
    QCOMPARE(used.value(u"lastUsedAt").toString(), lastUse);
    // The listing shows the same, and the superuser's own requests are not the key's.
    const QJsonArray items = bodyIfOk(admin().get("/api/keys"), "list").value(u"items").toArray();
    QCOMPARE(items.at(0).toObject().value(u"requestCount").toInt(), 5);
    QCOMPARE(items.at(0).toObject().value(u"lastUsedAt").toString(), lastUse);

    // After revocation the key's requests are refused and not counted.
    QCOMPARE(admin().remove(keyPath(key.id)).status, 204);
    QVERIFY(isProblem(client.list(kNotes), 401));
    QCOMPARE(keyView(key.id).value(u"requestCount").toInt(), 5);
}

void TestKeysApi::keyCannotGrantWhatItLacks_data()
{
    QTest::addColumn<QStringList>("held"); // besides keys:manage
    QTest::addColumn<QStringList>("requested");
    QTest::addColumn<bool>("allowed");
    const auto list = [](const char *scopes) { return QString::fromLatin1(scopes).split(u' '); };
    const QStringList readNotes = list("records:read:notes");
    const QStringList readAll = list("records:read");
    QTest::newRow("the same collection scope") << readNotes << readNotes << true;
    QTest::newRow("keys:manage itself") << readNotes << list("keys:manage") << true;
    QTest::newRow("the scopes it holds") << readNotes << list("keys:manage records:read:notes") << true;
    QTest::newRow("write everywhere") << readNotes << list("records:write") << false;
    QTest::newRow("write to the same collection") << readNotes << list("records:write:notes") << false;
    QTest::newRow("collections:manage") << readNotes << list("collections:manage") << false;
    QTest::newRow("read everywhere") << readNotes << readAll << false;
    QTest::newRow("read another collection") << readNotes << list("records:read:other") << false;
    QTest::newRow("one of two not held") << readNotes << list("records:read:notes metrics:read") << false;
    QTest::newRow("narrowing read-all to other") << readAll << list("records:read:other") << true;
    QTest::newRow("narrowing read-all to both") << readAll << list("records:read:notes records:read:other") << true;
    QTest::newRow("read-all gives no write") << readAll << list("records:write:other") << false;
    QTest::newRow("write-all gives no read") << list("records:write") << list("records:read:other") << false;
    QTest::newRow("accounts:manage") << readAll << list("accounts:manage") << false;
}

void TestKeysApi::keyCannotGrantWhatItLacks()
{
    QFETCH(QStringList, held);
    QFETCH(QStringList, requested);
    QFETCH(bool, allowed);
    const Issued manager = issue(QStringList {QStringLiteral("keys:manage")} + held);
    // A key the manager may change: within its reach (it holds every scope the target has).
    const Issued target = issue({QStringLiteral("keys:manage")});
    QVERIFY(!manager.secret.isEmpty() && !target.secret.isEmpty());
    const ApiClient asManager = bearer(manager.secret);

    const HttpResponse created = asManager.post("/api/keys", keyBody(QStringLiteral("child"), requested));
    const HttpResponse changed
        = asManager.patch(keyPath(target.id), {{QStringLiteral("scopes"), QJsonArray::fromStringList(requested)}});
    if (allowed) {
        QVERIFY2(created.status == 201, summary(created).constData());
        QCOMPARE(created.json().value(u"scopes").toArray(), QJsonArray::fromStringList(requested));
        QCOMPARE(created.json().value(u"createdBy").toString(), QStringLiteral("apikey:") + manager.id);
        QVERIFY2(changed.status == 200, summary(changed).constData());
        QCOMPARE(keyView(target.id).value(u"scopes").toArray(), QJsonArray::fromStringList(requested));
        if (requested.contains(QStringLiteral("records:read:other"))) {
            const QByteArray child = created.json().value(u"key").toString().toUtf8();
            QCOMPARE(bearer(child).list(kOther).status, 200);
        }
        return;
    }
    QVERIFY2(isProblem(created, 403), summary(created).constData());
    QVERIFY2(detailOf(created).contains(u"cannot grant"), summary(created).constData());
    QVERIFY(!created.json().contains(u"key"));
    QCOMPARE(keyCount(), 2); // the manager and the target only
    QVERIFY2(isProblem(changed, 403), summary(changed).constData());
    QCOMPARE(keyView(target.id).value(u"scopes").toArray(), QJsonArray {QStringLiteral("keys:manage")});
}

void TestKeysApi::keyCannotRotateStrongerKey()
{
    const Issued manager = issue({QStringLiteral("keys:manage"), QStringLiteral("records:read:notes")});
    const Issued stronger = issue({QStringLiteral("collections:manage"), QStringLiteral("records:write")});
    QVERIFY(!manager.secret.isEmpty() && !stronger.secret.isEmpty());
    const ApiClient asManager = bearer(manager.secret);
    QVERIFY(isProblem(asManager.get("/api/collections"), 403)); // what the manager cannot do itself

    // Rotating a key hands its caller a working secret with that key's scopes: for a key that
    // manages keys, the same "only what it holds" rule as creating one applies, and to changing or
    // revoking such a key too.
    const HttpResponse r = asManager.post(keyPath(stronger.id, "/rotate"), {});
    QVERIFY2(isProblem(r, 403), summary(r).constData());
    QVERIFY(!r.json().contains(u"key"));
    QVERIFY2(isProblem(asManager.patch(keyPath(stronger.id), {{QStringLiteral("name"), QStringLiteral("mine")}}), 403),
             "a manager must not change a key beyond its reach");
    QVERIFY2(isProblem(asManager.remove(keyPath(stronger.id)), 403), "nor revoke it");
    QCOMPARE(bearer(stronger.secret).get("/api/collections").status, 200); // untouched
    QCOMPARE(bearer(manager.secret).list(kNotes).status, 200);
}

// A key made or changed by a key cannot outlive it or reach from addresses it may not use.
void TestKeysApi::managedKeysInheritTheManagersLimits()
{
    const QStringList scopes {QStringLiteral("keys:manage"), QStringLiteral("records:read:notes")};
    const Issued manager = issue(scopes,
                                 {{QStringLiteral("expiresAt"), nowText(3600'000)},
                                  {QStringLiteral("allowedCidrs"), QJsonArray {QStringLiteral("127.0.0.0/8")}}});
    QVERIFY(!manager.secret.isEmpty());
    const ApiClient asManager = bearer(manager.secret);

    const Issued child = issue({QStringLiteral("records:read:notes")}, {}, &asManager);
    QVERIFY(!child.secret.isEmpty());
    const QJsonObject view = keyView(child.id);
    QCOMPARE(view.value(u"expires").toString(), keyView(manager.id).value(u"expires").toString());
    QCOMPARE(view.value(u"allowedCidrs").toArray(), QJsonArray {QStringLiteral("127.0.0.0/8")});

    const HttpResponse later = asManager.post("/api/keys",
                                              keyBody(QStringLiteral("later"), {QStringLiteral("records:read:notes")},
                                                      {{QStringLiteral("expiresAt"), nowText(7200'000)}}));
    QVERIFY2(isProblem(later, 403), summary(later).constData());
    const HttpResponse wider
        = asManager.post("/api/keys",
                         keyBody(QStringLiteral("wider"), {QStringLiteral("records:read:notes")},
                                 {{QStringLiteral("allowedCidrs"), QJsonArray {QStringLiteral("10.0.0.0/8")}}}));
    QVERIFY2(isProblem(wider, 403), summary(wider).constData());
    const HttpResponse narrower
        = asManager.post("/api/keys",
                         keyBody(QStringLiteral("narrower"), {QStringLiteral("records:read:notes")},
                                 {{QStringLiteral("allowedCidrs"), QJsonArray {QStringLiteral("127.0.0.1/32")}}}));
    QVERIFY2(narrower.status == 201, summary(narrower).constData());

    // Nor lift them afterwards.
    QVERIFY(isProblem(asManager.patch(keyPath(child.id), {{QStringLiteral("expiresAt"), QJsonValue()}}), 403));
    QVERIFY(isProblem(asManager.patch(keyPath(child.id), {{QStringLiteral("allowedCidrs"), QJsonArray()}}), 403));
    QCOMPARE(keyView(child.id).value(u"allowedCidrs").toArray(), QJsonArray {QStringLiteral("127.0.0.0/8")});
    // A superuser may.
    QCOMPARE(admin().patch(keyPath(child.id), {{QStringLiteral("allowedCidrs"), QJsonArray()}}).status, 200);
}

QTEST_GUILESS_MAIN(TestKeysApi)
#include "tst_keysapi.moc"
