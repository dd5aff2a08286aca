#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <memory>
#include <thread>
#include <vector>

#include "auth/apikeys.h"
#include "auth/keyformat.h"
#include "auth/scopes.h"
#include "core/clock.h"
#include "store/store.h"

using namespace Outpost;
using Outpost::Auth::ApiKey;
using Outpost::Auth::ApiKeys;
using Outpost::Auth::Permission;
using Outpost::Auth::Scopes;
using Outpost::Store::Database;

namespace {

constexpr qint64 kStartMs = 1'700'000'000'000; // 2023-11-14 22:13:20 UTC
constexpr qint64 kFlushMs = 5000;
// Computed independently (Python's zlib.crc32, then base62): valid checksums of keys never stored.
constexpr char kZeroKey[] = "opk_000000000000000000000000000000001MnhID";
constexpr char kAlphabetKey[] = "opk_0123456789ABCDEFGHIJKLMNOPQRSTUV3L95uI";

QString outcome(const std::variant<ApiKey, ApiKeys::Refusal> &result)
{
    if (std::holds_alternative<ApiKey>(result))
        return QStringLiteral("ok");
    switch (std::get<ApiKeys::Refusal>(result)) {
    case ApiKeys::Refusal::Malformed:
        return QStringLiteral("malformed");
    case ApiKeys::Refusal::Unknown:
        return QStringLiteral("unknown");
    case ApiKeys::Refusal::Expired:
        return QStringLiteral("expired");
    case ApiKeys::Refusal::Revoked:
        return QStringLiteral("revoked");
    case ApiKeys::Refusal::AddressNotAllowed:
        return QStringLiteral("address");
    }
    return QStringLiteral("?");
}

QString fieldCode(const Error &error, const QString &field)
{
    return error.details.value(QStringLiteral("fields"))
        .toObject()
        .value(field)
        .toObject()
        .value(QStringLiteral("code"))
        .toString();
}

QString message(const Status &s)
{
    return s ? QString() : s.error().message;
}

const QHostAddress kLocal(QStringLiteral("127.0.0.1"));

} // namespace

class TestApiKeys : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void scopesParse_data();
    void scopesParse();
    void scopesGrant_data();
    void scopesGrant();
    void scopesGrantAny();
    void permissionNamesParse();

    void keyFormat();
    void crc32KnownVectors();
    void checksumKnownVectors();
    void looksLikeKey_data();
    void looksLikeKey();
    void everySingleCharacterTypoFailsChecksum();
    void createValidates_data();
    void createValidates();
    void createReportsEveryBadField();
    void tableIsStrict();

    void authenticateSucceeds();
    void authenticateRefusesUnknownAndMalformed();
    void expiredAfterClockPasses();
    void revocationIsImmediateOnEveryThread();
    void revokedKeysCannotChange();
    void addressRules_data();
    void addressRules();

    void rotationGracePeriod();
    void rotationWithoutGrace();
    void secondRotationEndsOlderSecret();
    void rotateValidatesGrace_data();
    void rotateValidatesGrace();
    void updateTakesEffectAtOnce();
    void updateValidates_data();
    void updateValidates();
    void unknownIdIsNotFound();

    void usageCountedAndFlushed();
    void usageFlushedLazilyWithoutBlocking();
    void usageCountedFromManyThreads();
    void keysPersistAcrossInstances();
    void listIsNewestFirst();
    void changesAreAudited();
    void jsonShape();

    void everyChangeCountsOnce();
    void revocationByAnotherProcessArrives();
    void creationByAnotherProcessArrives();
    void rotationByAnotherProcessArrives();
    void reloadKeepsUnflushedUsage();
    void changesStartFromTheStoredState();

private:
    Auth::IssuedKey createOrFail(Auth::NewKey key = {});
    qint64 queryInt(const char *sql, const QString &id);
    qint64 storedVersion();
    std::unique_ptr<Store::Store> openOtherStore();
    QStringList auditLog();

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Store::Store> m_store;
    ManualClock m_clock {kStartMs};
    std::unique_ptr<ApiKeys> m_keys;
};

void TestApiKeys::init()
{
    m_clock.setMs(kStartMs);
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    auto store = Store::Store::open({m_dir->filePath(QStringLiteral("data")), Durability::Normal});
    QVERIFY2(store.ok(), qPrintable(store.ok() ? QString() : store.error().message));
    m_store = std::move(store).value();
    m_keys = std::make_unique<ApiKeys>(*m_store, m_clock, kFlushMs);
}

void TestApiKeys::cleanup()
{
    m_keys.reset();
    m_store.reset();
    m_dir.reset();
}

Auth::IssuedKey TestApiKeys::createOrFail(Auth::NewKey key)
{
    if (key.name.isEmpty())
        key.name = QStringLiteral("deploy bot");
    if (key.scopes.isEmpty())
        key.scopes = {QStringLiteral("records:read")};
    if (key.createdBy.isEmpty())
        key.createdBy = QStringLiteral("superuser:abc");
    auto issued = m_keys->create(key);
    if (!issued) {
        qWarning() << "create failed:" << issued.error().message << issued.error().details;
        return {};
    }
    return *issued;
}

qint64 TestApiKeys::queryInt(const char *sql, const QString &id)
{
    qint64 value = -1;
    const Status s = m_store->read([&](Database &db) -> Status {
        auto select = db.prepare(sql);
        if (!select)
            return select.error();
        select->bind(1, id);
        auto row = select->step();
        if (!row)
            return row.error();
        if (*row)
            value = select->int64(0);
        return {};
    });
    if (!s)
        qWarning() << "query failed:" << s.error().message;
    return value;
}

qint64 TestApiKeys::storedVersion()
{
    return queryInt("SELECT CAST(value AS INTEGER) FROM _settings WHERE key = ?", QStringLiteral("apikeys.version"));
}

// What `outpostd apikey ...` opens while the server runs: its own connections to the same data.db.
std::unique_ptr<Store::Store> TestApiKeys::openOtherStore()
{
    auto store = Store::Store::open({m_dir->filePath(QStringLiteral("data")), Durability::Normal});
    if (!store) {
        qWarning() << "opening a second store failed:" << store.error().message;
        return {};
    }
    return std::move(store).value();
}

// "action target actor" per row, oldest first.
QStringList TestApiKeys::auditLog()
{
    QStringList rows;
    m_store->auditLog().flush(); // entries are written by the log's own thread
    const Status s = m_store->writeLog([&rows](Database &db) -> Status {
        auto select = db.prepare("SELECT action, target, actor, success FROM audit_log ORDER BY id");
        if (!select)
            return select.error();
        while (select->step().value())
            rows.append(QStringList {select->text(0), select->text(1), select->text(2), select->text(3)}.join(u' '));
        return {};
    });
    if (!s)
        qWarning() << "reading the audit log failed:" << s.error().message;
    return rows;
}

void TestApiKeys::scopesParse_data()
{
    QTest::addColumn<QStringList>("scopes");
    QTest::addColumn<QStringList>("normalised"); // empty: refused
    QTest::addColumn<QString>("named"); // the entry the error names

    const QStringList refused;
    QTest::newRow("all records") << QStringList {QStringLiteral("records:read")}
                                 << QStringList {QStringLiteral("records:read")} << QString();
    QTest::newRow("trimmed, prefix lower-cased, name kept")
        << QStringList {QStringLiteral("  Records:READ:Posts ")} << QStringList {QStringLiteral("records:read:Posts")}
        << QString();
    QTest::newRow("admin scopes keep their order")
        << QStringList {QStringLiteral("metrics:read"), QStringLiteral("collections:manage"),
                        QStringLiteral("accounts:manage"), QStringLiteral("keys:manage"), QStringLiteral("logs:read")}
        << QStringList {QStringLiteral("metrics:read"), QStringLiteral("collections:manage"),
                        QStringLiteral("accounts:manage"), QStringLiteral("keys:manage"), QStringLiteral("logs:read")}
        << QString();
    QTest::newRow("read and write of different collections")
        << QStringList {QStringLiteral("records:write:posts"), QStringLiteral("records:read:_private_1")}
        << QStringList {QStringLiteral("records:write:posts"), QStringLiteral("records:read:_private_1")} << QString();
    QTest::newRow("empty list") << QStringList {} << refused << QString();
    QTest::newRow("empty entry") << QStringList {QString()} << refused << QString();
    QTest::newRow("unknown action") << QStringList {QStringLiteral("records:delete")} << refused
                                    << QStringLiteral("records:delete");
    QTest::newRow("unknown area") << QStringList {QStringLiteral("records:read"), QStringLiteral("admin")} << refused
                                  << QStringLiteral("admin");
    QTest::newRow("space inside") << QStringList {QStringLiteral("records: read")} << refused
                                  << QStringLiteral("records: read");
    QTest::newRow("collection on an admin scope")
        << QStringList {QStringLiteral("logs:read:posts")} << refused << QStringLiteral("logs:read:posts");
    QTest::newRow("collection starting with a digit")
        << QStringList {QStringLiteral("records:read:1posts")} << refused << QStringLiteral("records:read:1posts");
    QTest::newRow("collection with a hyphen")
        << QStringList {QStringLiteral("records:read:my-posts")} << refused << QStringLiteral("records:read:my-posts");
    QTest::newRow("empty collection") << QStringList {QStringLiteral("records:read:")} << refused
                                      << QStringLiteral("records:read:");
    QTest::newRow("two collections") << QStringList {QStringLiteral("records:read:a:b")} << refused
                                     << QStringLiteral("records:read:a:b");
    QTest::newRow("collection name too long") << QStringList {QStringLiteral("records:read:") + QString(64, u'a')}
                                              << refused << QStringLiteral("records:read:a");
    QTest::newRow("duplicate") << QStringList {QStringLiteral("logs:read"), QStringLiteral("logs:read")} << refused
                               << QStringLiteral("logs:read");
    QTest::newRow("duplicate in another case")
        << QStringList {QStringLiteral("records:read:Posts"), QStringLiteral("RECORDS:read:posts")} << refused
        << QStringLiteral("RECORDS:read:posts");
}

void TestApiKeys::scopesParse()
{
    QFETCH(QStringList, scopes);
    QFETCH(QStringList, normalised);
    QFETCH(QString, named);

    const auto parsed = Scopes::parse(scopes);
    if (!normalised.isEmpty()) {
        QVERIFY2(parsed.ok(), qPrintable(parsed.ok() ? QString() : parsed.error().message));
        QCOMPARE(parsed->toStrings(), normalised);
        QVERIFY(!parsed->isEmpty());
        return;
    }
    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().code, ErrorCode::InvalidArgument);
    QVERIFY2(parsed.error().message.contains(named), qPrintable(parsed.error().message));
}

void TestApiKeys::scopesGrant_data()
{
    QTest::addColumn<QStringList>("scopes");
    QTest::addColumn<int>("permission");
    QTest::addColumn<QString>("collection");
    QTest::addColumn<bool>("granted");

    const auto read = int(Permission::RecordsRead);
    const auto write = int(Permission::RecordsWrite);
    const QString posts = QStringLiteral("posts");
    const QStringList readAll {QStringLiteral("records:read")};
    const QStringList readPosts {QStringLiteral("records:read:Posts")};
    const QStringList writeAll {QStringLiteral("records:write")};

    QTest::newRow("read all: read posts") << readAll << read << posts << true;
    QTest::newRow("read all: read any") << readAll << read << QStringLiteral("comments") << true;
    QTest::newRow("read all: write posts") << readAll << write << posts << false;
    QTest::newRow("write all: read posts (write does not imply read)") << writeAll << read << posts << false;
    QTest::newRow("write all: write posts") << writeAll << write << posts << true;
    QTest::newRow("read Posts: read posts") << readPosts << read << posts << true;
    QTest::newRow("read Posts: read POSTS") << readPosts << read << QStringLiteral("POSTS") << true;
    QTest::newRow("read Posts: read comments") << readPosts << read << QStringLiteral("comments") << false;
    QTest::newRow("read Posts: read postsx") << readPosts << read << QStringLiteral("postsx") << false;
    QTest::newRow("read Posts: no collection") << readPosts << read << QString() << false;
    QTest::newRow("read Posts: write posts") << readPosts << write << posts << false;
    QTest::newRow("keys:manage: keys") << QStringList {QStringLiteral("keys:manage")} << int(Permission::KeysManage)
                                       << QString() << true;
    QTest::newRow("keys:manage: accounts")
        << QStringList {QStringLiteral("keys:manage")} << int(Permission::AccountsManage) << QString() << false;
    QTest::newRow("keys:manage: records") << QStringList {QStringLiteral("keys:manage")} << read << posts << false;
    QTest::newRow("collections:manage ignores the collection")
        << QStringList {QStringLiteral("collections:manage")} << int(Permission::CollectionsManage) << posts << true;
    QTest::newRow("one of several") << QStringList {QStringLiteral("logs:read"), QStringLiteral("records:write:posts")}
                                    << write << posts << true;
}

void TestApiKeys::scopesGrant()
{
    QFETCH(QStringList, scopes);
    QFETCH(int, permission);
    QFETCH(QString, collection);
    QFETCH(bool, granted);

    const auto parsed = Scopes::parse(scopes);
    QVERIFY(parsed.ok());
    QCOMPARE(parsed->grants(Permission(permission), collection), granted);
}

void TestApiKeys::scopesGrantAny()
{
    const auto parsed = Scopes::parse({QStringLiteral("records:write:posts"), QStringLiteral("logs:read")});
    QVERIFY(parsed.ok());
    QVERIFY(parsed->grantsAny(Permission::RecordsWrite));
    QVERIFY(parsed->grantsAny(Permission::LogsRead));
    QVERIFY(!parsed->grantsAny(Permission::RecordsRead));
    QVERIFY(!parsed->grantsAny(Permission::MetricsRead));
    QVERIFY(!Scopes().grantsAny(Permission::RecordsRead));
    QVERIFY(Scopes().isEmpty());
}

void TestApiKeys::permissionNamesParse()
{
    for (const Permission p :
         {Permission::RecordsRead, Permission::RecordsWrite, Permission::CollectionsManage, Permission::AccountsManage,
          Permission::KeysManage, Permission::LogsRead, Permission::MetricsRead}) {
        const auto parsed = Scopes::parse({Auth::permissionName(p)});
        QVERIFY2(parsed.ok(), qPrintable(Auth::permissionName(p)));
        QVERIFY(parsed->grants(p, QStringLiteral("posts")));
    }
    QCOMPARE(Auth::permissionName(Permission::RecordsWrite), QStringLiteral("records:write"));
}

void TestApiKeys::keyFormat()
{
    const auto issued = createOrFail();
    const QByteArray secret = issued.secret.toLatin1();
    QCOMPARE(secret.size(), 42);
    QVERIFY(QRegularExpression(QStringLiteral("\\Aopk_[0-9A-Za-z]{38}\\z")).match(issued.secret).hasMatch());
    QVERIFY(ApiKeys::looksLikeKey(secret));
    QVERIFY(ApiKeys::checksumValid(secret));
    QCOMPARE(issued.key.prefix, issued.secret.left(12));
    QVERIFY(QRegularExpression(QStringLiteral("\\A[a-z0-9]{15}\\z")).match(issued.key.id).hasMatch());
    QVERIFY(createOrFail().secret != issued.secret);

    // Only the hash is stored.
    const Status s = m_store->read([&](Database &db) -> Status {
        auto select = db.prepare("SELECT secret_hash FROM _apikeys WHERE id = ?");
        if (!select)
            return select.error();
        select->bind(1, issued.key.id);
        if (!select->step().value())
            return makeError(ErrorCode::NotFound, QStringLiteral("row missing"));
        const QByteArray expected = QCryptographicHash::hash(secret, QCryptographicHash::Sha256).toHex();
        if (select->text(0).toLatin1() != expected)
            return makeError(ErrorCode::Internal, QStringLiteral("stored hash is not SHA-256 of the secret"));
        return {};
    });
    QVERIFY2(s.ok(), qPrintable(message(s)));
}

void TestApiKeys::crc32KnownVectors()
{
    QCOMPARE(Auth::crc32("123456789"), 0xCBF43926u); // the CRC catalogue's check value
    QCOMPARE(Auth::crc32({}), 0u);
    QCOMPARE(Auth::keyChecksum("123456789"), QByteArray("3jZRME"));
}

void TestApiKeys::checksumKnownVectors()
{
    QVERIFY(ApiKeys::checksumValid(kZeroKey));
    QVERIFY(ApiKeys::checksumValid(kAlphabetKey));
}

void TestApiKeys::looksLikeKey_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("looksLikeKey");
    QTest::addColumn<bool>("checksumValid");

    const QByteArray zero(kZeroKey);
    QTest::newRow("valid") << zero << true << true;
    QTest::newRow("typo in the body") << QByteArray(zero).replace(10, 1, "1") << true << false;
    QTest::newRow("typo in the checksum") << QByteArray(zero).replace(40, 1, "J") << true << false;
    QTest::newRow("truncated") << zero.chopped(1) << false << false;
    QTest::newRow("one too many") << zero + 'a' << false << false;
    QTest::newRow("upper-case prefix") << QByteArray(zero).replace(0, 4, "OPK_") << false << false;
    QTest::newRow("other prefix") << QByteArray(zero).replace(0, 4, "ghp_") << false << false;
    QTest::newRow("not base62") << QByteArray(zero).replace(8, 1, "-") << false << false;
    QTest::newRow("empty") << QByteArray() << false << false;
    QTest::newRow("prefix alone") << QByteArray("opk_") << false << false;
    QTest::newRow("JWT") << QByteArray("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6ImFiYyJ9.c2lnbmF0dXJl") << false
                         << false;
    QTest::newRow("bearer header") << QByteArray("Bearer ") + zero << false << false;
}

void TestApiKeys::looksLikeKey()
{
    QFETCH(QByteArray, text);
    QFETCH(bool, looksLikeKey);
    QFETCH(bool, checksumValid);
    QCOMPARE(ApiKeys::looksLikeKey(text), looksLikeKey);
    QCOMPARE(ApiKeys::checksumValid(text), checksumValid);
    if (!checksumValid)
        QCOMPARE(outcome(m_keys->authenticate(text, kLocal)), QStringLiteral("malformed"));
}

void TestApiKeys::everySingleCharacterTypoFailsChecksum()
{
    const QByteArray secret = createOrFail().secret.toLatin1();
    QVERIFY(!secret.isEmpty());
    for (qsizetype i = 4; i < secret.size(); ++i) {
        QByteArray typo = secret;
        typo[i] = typo[i] == 'x' ? 'y' : 'x';
        QVERIFY2(!ApiKeys::checksumValid(typo), typo.constData());
        QCOMPARE(outcome(m_keys->authenticate(typo, kLocal)), QStringLiteral("malformed"));
    }
    QCOMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("ok"));
}

void TestApiKeys::createValidates_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QStringList>("scopes");
    QTest::addColumn<QStringList>("cidrs");
    QTest::addColumn<qint64>("expiresInMs"); // -1: no expiry
    QTest::addColumn<QString>("field"); // empty: accepted
    QTest::addColumn<QString>("code");

    const QString name = QStringLiteral("ci");
    const QStringList scopes {QStringLiteral("records:read")};
    const QString cidrCode = QStringLiteral("validation_invalid_cidr");
    const QString cidrField = QStringLiteral("allowedCidrs");

    QTest::newRow("minimal") << name << scopes << QStringList() << qint64(-1) << QString() << QString();
    QTest::newRow("everything") << QString(100, u'n') << scopes
                                << QStringList {QStringLiteral("10.0.0.0/8"), QStringLiteral("::1/128"),
                                                QStringLiteral("192.168.1.7"), QStringLiteral("2001:db8::")}
                                << qint64(1) << QString() << QString();
    QTest::newRow("empty name") << QString() << scopes << QStringList() << qint64(-1) << QStringLiteral("name")
                                << QStringLiteral("validation_required");
    QTest::newRow("blank name") << QStringLiteral("  \t ") << scopes << QStringList() << qint64(-1)
                                << QStringLiteral("name") << QStringLiteral("validation_required");
    QTest::newRow("long name") << QString(101, u'n') << scopes << QStringList() << qint64(-1) << QStringLiteral("name")
                               << QStringLiteral("validation_length_out_of_range");
    QTest::newRow("unknown scope") << name << QStringList {QStringLiteral("records:delete")} << QStringList()
                                   << qint64(-1) << QStringLiteral("scopes")
                                   << QStringLiteral("validation_invalid_scope");
    QTest::newRow("no scopes") << name << QStringList() << QStringList() << qint64(-1) << QStringLiteral("scopes")
                               << QStringLiteral("validation_invalid_scope");
    QTest::newRow("prefix too long") << name << scopes << QStringList {QStringLiteral("10.0.0.0/33")} << qint64(-1)
                                     << cidrField << cidrCode;
    QTest::newRow("not an address") << name << scopes << QStringList {QStringLiteral("intranet")} << qint64(-1)
                                    << cidrField << cidrCode;
    QTest::newRow("partial address") << name << scopes << QStringList {QStringLiteral("10.1")} << qint64(-1)
                                     << cidrField << cidrCode;
    QTest::newRow("one bad of two") << name << scopes
                                    << QStringList {QStringLiteral("10.0.0.0/8"), QStringLiteral("::1/129")}
                                    << qint64(-1) << cidrField << cidrCode;
    QTest::newRow("expiry now") << name << scopes << QStringList() << qint64(0) << QStringLiteral("expiresAt")
                                << QStringLiteral("validation_past_expiry");
    QTest::newRow("expiry past") << name << scopes << QStringList() << qint64(-60'000) << QStringLiteral("expiresAt")
                                 << QStringLiteral("validation_past_expiry");
}

void TestApiKeys::createValidates()
{
    QFETCH(QString, name);
    QFETCH(QStringList, scopes);
    QFETCH(QStringList, cidrs);
    QFETCH(qint64, expiresInMs);
    QFETCH(QString, field);
    QFETCH(QString, code);

    Auth::NewKey key {name, scopes, std::nullopt, cidrs, QStringLiteral("cli")};
    if (expiresInMs != -1)
        key.expiresMs = kStartMs + expiresInMs;
    const auto issued = m_keys->create(key);
    const auto list = m_keys->list();
    QVERIFY(list.ok());
    if (field.isEmpty()) {
        QVERIFY2(issued.ok(), qPrintable(issued.ok() ? QString() : issued.error().message));
        QCOMPARE(issued->key.name, name.trimmed());
        QCOMPARE(issued->key.allowedCidrs.size(), cidrs.size());
        QCOMPARE(list->size(), 1);
        return;
    }
    QVERIFY(!issued.ok());
    QCOMPARE(issued.error().code, ErrorCode::InvalidArgument);
    QCOMPARE(fieldCode(issued.error(), field), code);
    QCOMPARE(issued.error().details.value(QStringLiteral("fields")).toObject().size(), 1);
    QVERIFY(list->isEmpty());
}

void TestApiKeys::createReportsEveryBadField()
{
    const auto issued = m_keys->create(
        {QString(), {QStringLiteral("nope")}, kStartMs - 1, {QStringLiteral("x")}, QStringLiteral("cli")});
    QVERIFY(!issued.ok());
    const QJsonObject fields = issued.error().details.value(QStringLiteral("fields")).toObject();
    QCOMPARE(fields.keys(),
             (QStringList {QStringLiteral("allowedCidrs"), QStringLiteral("expiresAt"), QStringLiteral("name"),
                           QStringLiteral("scopes")}));
}

void TestApiKeys::tableIsStrict()
{
    const qint64 strict = queryInt("SELECT strict FROM pragma_table_list WHERE name = ?", QStringLiteral("_apikeys"));
    QCOMPARE(strict, qint64(1));
}

void TestApiKeys::authenticateSucceeds()
{
    const auto issued = createOrFail({QStringLiteral("reader"), {QStringLiteral("records:read:posts")}, {}, {}, {}});
    const auto result = m_keys->authenticate(issued.secret.toLatin1(), kLocal);
    QCOMPARE(outcome(result), QStringLiteral("ok"));
    const ApiKey &key = std::get<ApiKey>(result);
    QCOMPARE(key.id, issued.key.id);
    QCOMPARE(key.name, QStringLiteral("reader"));
    QVERIFY(key.scopes.grants(Permission::RecordsRead, QStringLiteral("Posts")));
    QVERIFY(!key.scopes.grants(Permission::RecordsRead, QStringLiteral("users")));
}

void TestApiKeys::authenticateRefusesUnknownAndMalformed()
{
    createOrFail();
    QCOMPARE(outcome(m_keys->authenticate(kZeroKey, kLocal)), QStringLiteral("unknown"));
    QCOMPARE(outcome(m_keys->authenticate(kAlphabetKey, kLocal)), QStringLiteral("unknown"));
    QCOMPARE(outcome(m_keys->authenticate("garbage", kLocal)), QStringLiteral("malformed"));
    QCOMPARE(outcome(m_keys->authenticate({}, kLocal)), QStringLiteral("malformed"));
}

void TestApiKeys::expiredAfterClockPasses()
{
    const auto issued = createOrFail({QStringLiteral("temp"), {}, kStartMs + 60'000, {}, {}});
    const QByteArray secret = issued.secret.toLatin1();
    QCOMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("ok"));
    m_clock.advanceMs(59'999);
    QCOMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("ok"));
    m_clock.advanceMs(1);
    QCOMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("expired"));
    const auto key = m_keys->get(issued.key.id);
    QVERIFY(key.ok());
    QCOMPARE(key->expiresMs, std::optional<qint64>(kStartMs + 60'000));
}

void TestApiKeys::revocationIsImmediateOnEveryThread()
{
    const auto issued = createOrFail();
    const QByteArray secret = issued.secret.toLatin1();
    QCOMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("ok")); // cache filled

    // Revoked on a worker thread, refused on this one...
    m_clock.advanceMs(1000);
    Result<ApiKey> revoked = makeError(ErrorCode::Internal, QStringLiteral("not run"));
    std::thread worker([&] { revoked = m_keys->revoke(issued.key.id, QStringLiteral("superuser:abc")); });
    worker.join();
    QVERIFY2(revoked.ok(), qPrintable(revoked.ok() ? QString() : revoked.error().message));
    QCOMPARE(revoked->revokedMs, std::optional<qint64>(kStartMs + 1000));
    QCOMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("revoked"));

    // ...and on another thread too.
    QString seen;
    std::thread network([&] { seen = outcome(m_keys->authenticate(secret, kLocal)); });
    network.join();
    QCOMPARE(seen, QStringLiteral("revoked"));

    // Revoking twice is no error and keeps the first time.
    m_clock.advanceMs(1000);
    const auto again = m_keys->revoke(issued.key.id, QStringLiteral("superuser:abc"));
    QVERIFY(again.ok());
    QCOMPARE(again->revokedMs, std::optional<qint64>(kStartMs + 1000));
}

void TestApiKeys::revokedKeysCannotChange()
{
    const auto issued = createOrFail();
    QVERIFY(m_keys->revoke(issued.key.id, QStringLiteral("cli")).ok());
    const auto updated = m_keys->update(issued.key.id, {{QStringLiteral("name"), QStringLiteral("x")}}, {});
    QVERIFY(!updated.ok());
    QCOMPARE(updated.error().code, ErrorCode::InvalidArgument);
    const auto rotated = m_keys->rotate(issued.key.id, 0, {});
    QVERIFY(!rotated.ok());
    QCOMPARE(rotated.error().code, ErrorCode::InvalidArgument);
}

void TestApiKeys::addressRules_data()
{
    QTest::addColumn<QStringList>("cidrs");
    QTest::addColumn<QString>("client");
    QTest::addColumn<bool>("allowed");

    const QStringList ten {QStringLiteral("10.0.0.0/8")};
    const QStringList docNet {QStringLiteral("2001:db8::/32")};
    QTest::newRow("no rule") << QStringList() << QStringLiteral("203.0.113.9") << true;
    QTest::newRow("IPv4 inside") << ten << QStringLiteral("10.1.2.3") << true;
    QTest::newRow("IPv4 outside") << ten << QStringLiteral("11.0.0.1") << false;
    QTest::newRow("IPv4-mapped inside") << ten << QStringLiteral("::ffff:10.0.0.1") << true;
    QTest::newRow("IPv4-mapped outside") << ten << QStringLiteral("::ffff:11.0.0.1") << false;
    QTest::newRow("IPv6 client, IPv4 rule") << ten << QStringLiteral("::1") << false;
    QTest::newRow("IPv6 inside") << docNet << QStringLiteral("2001:db8::1") << true;
    QTest::newRow("IPv6 outside") << docNet << QStringLiteral("2001:db9::1") << false;
    QTest::newRow("IPv4 client, IPv6 rule") << docNet << QStringLiteral("10.0.0.1") << false;
    QTest::newRow("bare IPv4 address") << QStringList {QStringLiteral("192.168.1.7")} << QStringLiteral("192.168.1.7")
                                       << true;
    QTest::newRow("bare IPv4 address, neighbour")
        << QStringList {QStringLiteral("192.168.1.7")} << QStringLiteral("192.168.1.8") << false;
    QTest::newRow("bare IPv6 loopback") << QStringList {QStringLiteral("::1")} << QStringLiteral("::1") << true;
    QTest::newRow("second rule matches") << (ten + docNet) << QStringLiteral("2001:db8::5") << true;
    QTest::newRow("IPv4-mapped rule, mapped client")
        << QStringList {QStringLiteral("::ffff:10.0.0.0/104")} << QStringLiteral("::ffff:10.0.0.1") << true;
}

void TestApiKeys::addressRules()
{
    QFETCH(QStringList, cidrs);
    QFETCH(QString, client);
    QFETCH(bool, allowed);

    const auto issued = createOrFail({QStringLiteral("pinned"), {}, {}, cidrs, {}});
    QVERIFY(!issued.secret.isEmpty());
    QCOMPARE(outcome(m_keys->authenticate(issued.secret.toLatin1(), QHostAddress(client))),
             allowed ? QStringLiteral("ok") : QStringLiteral("address"));
}

void TestApiKeys::rotationGracePeriod()
{
    const auto issued = createOrFail();
    const QByteArray oldSecret = issued.secret.toLatin1();
    const auto rotated = m_keys->rotate(issued.key.id, 60, QStringLiteral("superuser:abc"));
    QVERIFY2(rotated.ok(), qPrintable(rotated.ok() ? QString() : rotated.error().message));
    const QByteArray newSecret = rotated->secret.toLatin1();
    QVERIFY(ApiKeys::checksumValid(newSecret));
    QVERIFY(newSecret != oldSecret);
    QCOMPARE(rotated->key.id, issued.key.id);
    QCOMPARE(rotated->key.prefix, rotated->secret.left(12));
    QCOMPARE(rotated->key.previousSecretValidUntilMs, std::optional<qint64>(kStartMs + 60'000));

    QCOMPARE(outcome(m_keys->authenticate(newSecret, kLocal)), QStringLiteral("ok"));
    QCOMPARE(outcome(m_keys->authenticate(oldSecret, kLocal)), QStringLiteral("ok"));
    m_clock.advanceMs(59'999);
    QCOMPARE(outcome(m_keys->authenticate(oldSecret, kLocal)), QStringLiteral("ok"));
    {
        // The grace period survives a restart.
        ApiKeys fresh(*m_store, m_clock, kFlushMs);
        QCOMPARE(outcome(fresh.authenticate(oldSecret, kLocal)), QStringLiteral("ok"));
    }
    m_clock.advanceMs(1);
    QCOMPARE(outcome(m_keys->authenticate(oldSecret, kLocal)), QStringLiteral("unknown"));
    QCOMPARE(outcome(m_keys->authenticate(newSecret, kLocal)), QStringLiteral("ok"));
}

void TestApiKeys::rotationWithoutGrace()
{
    const auto issued = createOrFail();
    const auto rotated = m_keys->rotate(issued.key.id, 0, QStringLiteral("cli"));
    QVERIFY(rotated.ok());
    QCOMPARE(rotated->key.previousSecretValidUntilMs, std::optional<qint64>());
    QCOMPARE(outcome(m_keys->authenticate(issued.secret.toLatin1(), kLocal)), QStringLiteral("unknown"));
    QCOMPARE(outcome(m_keys->authenticate(rotated->secret.toLatin1(), kLocal)), QStringLiteral("ok"));
}

void TestApiKeys::secondRotationEndsOlderSecret()
{
    const auto issued = createOrFail();
    const auto first = m_keys->rotate(issued.key.id, 3600, QStringLiteral("cli"));
    QVERIFY(first.ok());
    const auto second = m_keys->rotate(issued.key.id, 3600, QStringLiteral("cli"));
    QVERIFY(second.ok());
    QCOMPARE(outcome(m_keys->authenticate(issued.secret.toLatin1(), kLocal)), QStringLiteral("unknown"));
    QCOMPARE(outcome(m_keys->authenticate(first->secret.toLatin1(), kLocal)), QStringLiteral("ok"));
    QCOMPARE(outcome(m_keys->authenticate(second->secret.toLatin1(), kLocal)), QStringLiteral("ok"));
}

void TestApiKeys::rotateValidatesGrace_data()
{
    QTest::addColumn<qint64>("grace");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("negative") << qint64(-1) << false;
    QTest::newRow("zero") << qint64(0) << true;
    QTest::newRow("a week") << qint64(604'800) << true;
    QTest::newRow("a week and a second") << qint64(604'801) << false;
}

void TestApiKeys::rotateValidatesGrace()
{
    QFETCH(qint64, grace);
    QFETCH(bool, accepted);
    const auto issued = createOrFail();
    const auto rotated = m_keys->rotate(issued.key.id, grace, QStringLiteral("cli"));
    QCOMPARE(rotated.ok(), accepted);
    if (!accepted) {
        QCOMPARE(rotated.error().code, ErrorCode::InvalidArgument);
        QCOMPARE(fieldCode(rotated.error(), QStringLiteral("graceSeconds")), QStringLiteral("validation_out_of_range"));
        QCOMPARE(outcome(m_keys->authenticate(issued.secret.toLatin1(), kLocal)), QStringLiteral("ok"));
    }
}

void TestApiKeys::updateTakesEffectAtOnce()
{
    const auto issued = createOrFail({QStringLiteral("before"), {}, kStartMs + 1000, {}, {}});
    const QByteArray secret = issued.secret.toLatin1();
    auto result = m_keys->authenticate(secret, kLocal);
    QCOMPARE(outcome(result), QStringLiteral("ok"));
    QVERIFY(std::get<ApiKey>(result).scopes.grants(Permission::RecordsRead, QStringLiteral("posts")));

    const auto updated = m_keys->update(issued.key.id,
                                        {{QStringLiteral("scopes"), QJsonArray {QStringLiteral("records:write:posts")}},
                                         {QStringLiteral("expiresAt"), QJsonValue::Null}},
                                        QStringLiteral("superuser:abc"));
    QVERIFY2(updated.ok(), qPrintable(updated.ok() ? QString() : updated.error().message));
    QCOMPARE(updated->name, QStringLiteral("before")); // absent members are kept
    QCOMPARE(updated->expiresMs, std::optional<qint64>());
    QCOMPARE(updated->scopes.toStrings(), QStringList {QStringLiteral("records:write:posts")});

    result = m_keys->authenticate(secret, kLocal);
    QCOMPARE(outcome(result), QStringLiteral("ok"));
    QVERIFY(!std::get<ApiKey>(result).scopes.grants(Permission::RecordsRead, QStringLiteral("posts")));
    QVERIFY(std::get<ApiKey>(result).scopes.grants(Permission::RecordsWrite, QStringLiteral("posts")));
    m_clock.advanceMs(5000); // past the cleared expiry
    QCOMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("ok"));

    // An address rule and a new expiry (in toJson()'s form) apply at once as well.
    const auto pinned = m_keys->update(issued.key.id,
                                       {{QStringLiteral("name"), QStringLiteral("  after ")},
                                        {QStringLiteral("allowedCidrs"), QJsonArray {QStringLiteral("10.0.0.0/8")}},
                                        {QStringLiteral("expires"), QStringLiteral("2023-11-14 23:00:00.000Z")}},
                                       {});
    QVERIFY(pinned.ok());
    QCOMPARE(pinned->name, QStringLiteral("after"));
    QCOMPARE(pinned->expiresMs, std::optional<qint64>(kStartMs + (46 * 60 + 40) * 1000));
    QCOMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("address"));
    QCOMPARE(outcome(m_keys->authenticate(secret, QHostAddress(QStringLiteral("10.9.9.9")))), QStringLiteral("ok"));

    // And they were stored, not only cached.
    ApiKeys fresh(*m_store, m_clock, kFlushMs);
    const auto reloaded = fresh.get(issued.key.id);
    QVERIFY(reloaded.ok());
    QCOMPARE(reloaded->name, pinned->name);
    QCOMPARE(reloaded->scopes.toStrings(), pinned->scopes.toStrings());
    QCOMPARE(reloaded->allowedCidrs, pinned->allowedCidrs);
    QCOMPARE(reloaded->expiresMs, pinned->expiresMs);
}

void TestApiKeys::updateValidates_data()
{
    QTest::addColumn<QJsonObject>("changes");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("code");

    QTest::newRow("blank name") << QJsonObject {{QStringLiteral("name"), QStringLiteral(" ")}} << QStringLiteral("name")
                                << QStringLiteral("validation_required");
    QTest::newRow("name not a string") << QJsonObject {{QStringLiteral("name"), 5}} << QStringLiteral("name")
                                       << QStringLiteral("validation_required");
    QTest::newRow("scopes not a list") << QJsonObject {{QStringLiteral("scopes"), QStringLiteral("records:read")}}
                                       << QStringLiteral("scopes") << QStringLiteral("validation_invalid_scope");
    QTest::newRow("scopes empty") << QJsonObject {{QStringLiteral("scopes"), QJsonArray()}} << QStringLiteral("scopes")
                                  << QStringLiteral("validation_invalid_scope");
    QTest::newRow("scope not a string") << QJsonObject {{QStringLiteral("scopes"), QJsonArray {1}}}
                                        << QStringLiteral("scopes") << QStringLiteral("validation_invalid_scope");
    QTest::newRow("bad CIDR") << QJsonObject {{QStringLiteral("allowedCidrs"), QJsonArray {QStringLiteral("10/40")}}}
                              << QStringLiteral("allowedCidrs") << QStringLiteral("validation_invalid_cidr");
    QTest::newRow("past expiry") << QJsonObject {{QStringLiteral("expiresAt"), double(kStartMs - 1)}}
                                 << QStringLiteral("expiresAt") << QStringLiteral("validation_past_expiry");
    QTest::newRow("expiry not a time") << QJsonObject {{QStringLiteral("expiresAt"), QStringLiteral("tomorrow")}}
                                       << QStringLiteral("expiresAt") << QStringLiteral("validation_invalid_datetime");
    QTest::newRow("expiry a boolean") << QJsonObject {{QStringLiteral("expires"), true}} << QStringLiteral("expires")
                                      << QStringLiteral("validation_invalid_datetime");
}

void TestApiKeys::updateValidates()
{
    QFETCH(QJsonObject, changes);
    QFETCH(QString, field);
    QFETCH(QString, code);

    const auto issued = createOrFail();
    const auto updated = m_keys->update(issued.key.id, changes, QStringLiteral("cli"));
    QVERIFY(!updated.ok());
    QCOMPARE(updated.error().code, ErrorCode::InvalidArgument);
    QCOMPARE(fieldCode(updated.error(), field), code);
    const auto kept = m_keys->get(issued.key.id);
    QVERIFY(kept.ok());
    QCOMPARE(kept->toJson(), issued.key.toJson());
}

void TestApiKeys::unknownIdIsNotFound()
{
    const QString id = QStringLiteral("nosuchkey000000");
    QCOMPARE(m_keys->get(id).error().code, ErrorCode::NotFound);
    QCOMPARE(m_keys->update(id, {}, {}).error().code, ErrorCode::NotFound);
    QCOMPARE(m_keys->revoke(id, {}).error().code, ErrorCode::NotFound);
    QCOMPARE(m_keys->rotate(id, 0, {}).error().code, ErrorCode::NotFound);
}

void TestApiKeys::usageCountedAndFlushed()
{
    const auto issued = createOrFail();
    const QByteArray secret = issued.secret.toLatin1();
    const quint64 groupsBefore = m_store->writeGroupCount();
    constexpr int kUses = 5;
    for (int i = 0; i < kUses; ++i) {
        m_clock.advanceMs(100);
        QCOMPARE(outcome(m_keys->authenticate(secret, QHostAddress(QStringLiteral("::ffff:10.0.0.9")))),
                 QStringLiteral("ok"));
    }
    // Nothing written per request...
    QCOMPARE(m_store->writeGroupCount(), groupsBefore);
    const char *count = "SELECT request_count FROM _apikeys WHERE id = ?";
    QCOMPARE(queryInt(count, issued.key.id), qint64(0));
    // ...but counted in memory.
    auto key = m_keys->get(issued.key.id);
    QVERIFY(key.ok());
    QCOMPARE(key->requestCount, qint64(kUses));

    const Status flushed = m_keys->flushUsage();
    QVERIFY2(flushed.ok(), qPrintable(message(flushed)));
    QCOMPARE(m_store->writeGroupCount(), groupsBefore + 1);
    QCOMPARE(queryInt(count, issued.key.id), qint64(kUses));
    QCOMPARE(queryInt("SELECT last_used FROM _apikeys WHERE id = ?", issued.key.id), kStartMs + 500);

    ApiKeys fresh(*m_store, m_clock, kFlushMs);
    key = fresh.get(issued.key.id);
    QVERIFY(key.ok());
    QCOMPARE(key->requestCount, qint64(kUses));
    QCOMPARE(key->lastUsedMs, kStartMs + 500);
    QCOMPARE(key->lastUsedFrom, QStringLiteral("10.0.0.9"));

    // Nothing new: no write.
    QVERIFY(m_keys->flushUsage().ok());
    QCOMPARE(m_store->writeGroupCount(), groupsBefore + 1);
}

void TestApiKeys::usageFlushedLazilyWithoutBlocking()
{
    const auto issued = createOrFail();
    const QByteArray secret = issued.secret.toLatin1();
    QCOMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("ok"));
    m_clock.advanceMs(kFlushMs - 1);
    QCOMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("ok"));
    const char *count = "SELECT request_count FROM _apikeys WHERE id = ?";
    QCOMPARE(queryInt(count, issued.key.id), qint64(0));
    m_clock.advanceMs(1);
    QCOMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("ok")); // hands the flush to the writer
    QTRY_COMPARE(queryInt(count, issued.key.id), qint64(3));
    // The next lazy flush waits for the interval again.
    QCOMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("ok"));
    QCOMPARE(queryInt(count, issued.key.id), qint64(3));
}

void TestApiKeys::usageCountedFromManyThreads()
{
    const auto issued = createOrFail();
    const QByteArray secret = issued.secret.toLatin1();
    constexpr int kThreads = 4;
    constexpr int kUses = 500;
    std::atomic<int> refused {0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kUses; ++i) {
                if (t == 0 && i % 50 == 0)
                    m_clock.advanceMs(kFlushMs); // lazy flushes race with counting
                if (!std::holds_alternative<ApiKey>(m_keys->authenticate(secret, kLocal)))
                    ++refused;
            }
        });
    }
    for (auto &t : threads)
        t.join();
    QCOMPARE(refused.load(), 0);
    QVERIFY(m_keys->flushUsage().ok());
    QCOMPARE(queryInt("SELECT request_count FROM _apikeys WHERE id = ?", issued.key.id), qint64(kThreads * kUses));
}

void TestApiKeys::keysPersistAcrossInstances()
{
    const auto kept = createOrFail({QStringLiteral("kept"),
                                    {QStringLiteral("records:read:Posts"), QStringLiteral("logs:read")},
                                    kStartMs + 3'600'000,
                                    {QStringLiteral("10.0.0.0/8"), QStringLiteral("::1")},
                                    QStringLiteral("cli")});
    const auto gone = createOrFail();
    QVERIFY(m_keys->revoke(gone.key.id, QStringLiteral("cli")).ok());
    m_keys.reset(); // a restart

    m_keys = std::make_unique<ApiKeys>(*m_store, m_clock, kFlushMs);
    QCOMPARE(outcome(m_keys->authenticate(gone.secret.toLatin1(), kLocal)), QStringLiteral("revoked"));
    const auto result = m_keys->authenticate(kept.secret.toLatin1(), QHostAddress(QStringLiteral("10.0.0.1")));
    QCOMPARE(outcome(result), QStringLiteral("ok"));
    const ApiKey &key = std::get<ApiKey>(result);
    QCOMPARE(key.scopes.toStrings(), kept.key.scopes.toStrings());
    QCOMPARE(key.allowedCidrs, kept.key.allowedCidrs);
    QCOMPARE(key.expiresMs, kept.key.expiresMs);
    QCOMPARE(key.createdBy, QStringLiteral("cli"));
    QCOMPARE(key.prefix, kept.key.prefix);
    QCOMPARE(outcome(m_keys->authenticate(kept.secret.toLatin1(), kLocal)), QStringLiteral("address"));
}

void TestApiKeys::listIsNewestFirst()
{
    QStringList created;
    for (const char *name : {"first", "second", "third"}) {
        created.prepend(createOrFail({QString::fromLatin1(name), {}, {}, {}, {}}).key.id);
        m_clock.advanceMs(1);
    }
    // Two in the same millisecond: the later one still comes first.
    created.prepend(createOrFail({QStringLiteral("fourth"), {}, {}, {}, {}}).key.id);
    created.prepend(createOrFail({QStringLiteral("fifth"), {}, {}, {}, {}}).key.id);
    QVERIFY(m_keys->revoke(created.last(), QStringLiteral("cli")).ok()); // revoked ones are listed

    const auto ids = [](const Result<QList<ApiKey>> &keys) {
        QStringList out;
        for (const ApiKey &k : keys.value())
            out.append(k.id);
        return out;
    };
    const auto list = m_keys->list();
    QVERIFY(list.ok());
    QCOMPARE(ids(list), created);
    ApiKeys fresh(*m_store, m_clock, kFlushMs);
    const auto reloaded = fresh.list();
    QVERIFY(reloaded.ok());
    QCOMPARE(ids(reloaded), created);
}

void TestApiKeys::changesAreAudited()
{
    const auto issued = createOrFail({QStringLiteral("audited"), {}, {}, {}, QStringLiteral("superuser:one")});
    const QString id = issued.key.id;
    const QString actor = QStringLiteral("superuser:two");
    QVERIFY(m_keys->update(id, {{QStringLiteral("name"), QStringLiteral("renamed")}}, actor).ok());
    QVERIFY(!m_keys->update(id, {{QStringLiteral("name"), QString()}}, actor).ok()); // refused: not audited
    QVERIFY(m_keys->rotate(id, 10, actor).ok());
    QVERIFY(m_keys->revoke(id, actor).ok());
    QVERIFY(m_keys->revoke(id, actor).ok()); // no change: not audited
    (void)m_keys->authenticate(issued.secret.toLatin1(), kLocal);

    QCOMPARE(auditLog(),
             (QStringList {QStringLiteral("apikey.create %1 superuser:one 1").arg(id),
                           QStringLiteral("apikey.update %1 superuser:two 1").arg(id),
                           QStringLiteral("apikey.rotate %1 superuser:two 1").arg(id),
                           QStringLiteral("apikey.revoke %1 superuser:two 1").arg(id)}));
}

void TestApiKeys::jsonShape()
{
    const auto issued = createOrFail({QStringLiteral("shown"),
                                      {QStringLiteral("records:read")},
                                      kStartMs + 1000,
                                      {QStringLiteral("192.168.1.7")},
                                      QStringLiteral("cli")});
    QJsonObject json = issued.key.toJson();
    QCOMPARE(json.keys(),
             (QStringList {QStringLiteral("allowedCidrs"), QStringLiteral("created"), QStringLiteral("createdBy"),
                           QStringLiteral("expires"), QStringLiteral("id"), QStringLiteral("lastUsedAt"),
                           QStringLiteral("lastUsedFrom"), QStringLiteral("name"), QStringLiteral("prefix"),
                           QStringLiteral("requestCount"), QStringLiteral("revoked"), QStringLiteral("scopes")}));
    QCOMPARE(json.value(QStringLiteral("created")).toString(), QStringLiteral("2023-11-14 22:13:20.000Z"));
    QCOMPARE(json.value(QStringLiteral("expires")).toString(), QStringLiteral("2023-11-14 22:13:21.000Z"));
    QCOMPARE(json.value(QStringLiteral("revoked")).toString(), QString());
    QCOMPARE(json.value(QStringLiteral("lastUsedAt")).toString(), QString());
    QCOMPARE(json.value(QStringLiteral("allowedCidrs")).toArray(), QJsonArray {QStringLiteral("192.168.1.7/32")});
    QCOMPARE(json.value(QStringLiteral("scopes")).toArray(), QJsonArray {QStringLiteral("records:read")});
    QCOMPARE(json.value(QStringLiteral("requestCount")).toInteger(), qint64(0));
    QVERIFY(!QJsonDocument(json).toJson().contains(issued.secret.toLatin1()));

    m_clock.advanceMs(500);
    const QHostAddress client(QStringLiteral("192.168.1.7"));
    QCOMPARE(outcome(m_keys->authenticate(issued.secret.toLatin1(), client)), QStringLiteral("ok"));
    json = m_keys->get(issued.key.id)->toJson();
    QCOMPARE(json.value(QStringLiteral("lastUsedAt")).toString(), QStringLiteral("2023-11-14 22:13:20.500Z"));
    QCOMPARE(json.value(QStringLiteral("lastUsedFrom")).toString(), QStringLiteral("192.168.1.7"));
    QCOMPARE(json.value(QStringLiteral("requestCount")).toInteger(), qint64(1));
}

// data.db's apikeys.version counts changes, not usage: it is how another process's change is noticed.
void TestApiKeys::everyChangeCountsOnce()
{
    QCOMPARE(storedVersion(), qint64(-1)); // no row before the first change
    const auto issued = createOrFail();
    QCOMPARE(storedVersion(), qint64(1));
    const QString id = issued.key.id;
    QVERIFY(m_keys->update(id, {{QStringLiteral("name"), QStringLiteral("renamed")}}, {}).ok());
    QCOMPARE(storedVersion(), qint64(2));
    QVERIFY(!m_keys->update(id, {{QStringLiteral("name"), QString()}}, {}).ok());
    QCOMPARE(storedVersion(), qint64(2));
    QVERIFY(m_keys->rotate(id, 0, {}).ok());
    QCOMPARE(storedVersion(), qint64(3));
    QVERIFY(m_keys->revoke(id, {}).ok());
    QVERIFY(m_keys->revoke(id, {}).ok());
    QCOMPARE(storedVersion(), qint64(4));

    const auto used = createOrFail();
    QCOMPARE(outcome(m_keys->authenticate(used.secret.toLatin1(), kLocal)), QStringLiteral("ok"));
    QVERIFY(m_keys->flushUsage().ok());
    QCOMPARE(queryInt("SELECT request_count FROM _apikeys WHERE id = ?", used.key.id), qint64(1));
    QCOMPARE(storedVersion(), qint64(5));
}

// `other` plays `outpostd apikey revoke`: another ApiKeys over another Store of the same data.db.
void TestApiKeys::revocationByAnotherProcessArrives()
{
    const auto issued = createOrFail();
    const QByteArray secret = issued.secret.toLatin1();
    QCOMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("ok")); // cached
    const auto otherStore = openOtherStore();
    QVERIFY(otherStore);
    ApiKeys other(*otherStore, m_clock, kFlushMs);
    QVERIFY(other.revoke(issued.key.id, QStringLiteral("cli")).ok());

    // Until the next check the cache answers, and the request path touches no database.
    const quint64 groups = m_store->writeGroupCount();
    m_clock.advanceMs(999);
    QCOMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("ok"));
    QCOMPARE(m_store->writeGroupCount(), groups);

    m_clock.advanceMs(1);
    (void)m_keys->authenticate(secret, kLocal); // queues the check; may still see the old cache
    QTRY_COMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("revoked"));
    QTRY_COMPARE(m_store->writeGroupCount(), groups + 1); // one check, however many requests
    const auto key = m_keys->get(issued.key.id);
    QVERIFY(key.ok());
    QCOMPARE(key->revokedMs, std::optional<qint64>(kStartMs));
}

void TestApiKeys::creationByAnotherProcessArrives()
{
    createOrFail(); // the cache is filled
    const auto otherStore = openOtherStore();
    QVERIFY(otherStore);
    ApiKeys other(*otherStore, m_clock, kFlushMs);
    const auto created = other.create({QStringLiteral("from cli"), {QStringLiteral("logs:read")}, {}, {}, {}});
    QVERIFY(created.ok());
    const QByteArray secret = created->secret.toLatin1();
    QCOMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("unknown"));

    m_clock.advanceMs(1000);
    (void)m_keys->authenticate(secret, kLocal); // an unknown key queues the check too
    QTRY_COMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("ok"));
    const auto result = m_keys->authenticate(secret, kLocal);
    QCOMPARE(outcome(result), QStringLiteral("ok"));
    QVERIFY(std::get<ApiKey>(result).scopes.grants(Permission::LogsRead));
}

void TestApiKeys::rotationByAnotherProcessArrives()
{
    const auto issued = createOrFail();
    const QByteArray oldSecret = issued.secret.toLatin1();
    QCOMPARE(outcome(m_keys->authenticate(oldSecret, kLocal)), QStringLiteral("ok"));
    const auto otherStore = openOtherStore();
    QVERIFY(otherStore);
    ApiKeys other(*otherStore, m_clock, kFlushMs);
    const auto rotated = other.rotate(issued.key.id, 0, QStringLiteral("cli"));
    QVERIFY(rotated.ok());
    const QByteArray newSecret = rotated->secret.toLatin1();
    QCOMPARE(outcome(m_keys->authenticate(oldSecret, kLocal)), QStringLiteral("ok"));
    QCOMPARE(outcome(m_keys->authenticate(newSecret, kLocal)), QStringLiteral("unknown"));

    m_clock.advanceMs(1000);
    (void)m_keys->authenticate(oldSecret, kLocal);
    QTRY_COMPARE(outcome(m_keys->authenticate(newSecret, kLocal)), QStringLiteral("ok"));
    QCOMPARE(outcome(m_keys->authenticate(oldSecret, kLocal)), QStringLiteral("unknown"));
}

void TestApiKeys::reloadKeepsUnflushedUsage()
{
    const auto issued = createOrFail();
    const QByteArray secret = issued.secret.toLatin1();
    for (int i = 0; i < 3; ++i)
        QCOMPARE(outcome(m_keys->authenticate(secret, QHostAddress(QStringLiteral("10.0.0.7")))), QStringLiteral("ok"));
    const auto otherStore = openOtherStore();
    QVERIFY(otherStore);
    ApiKeys other(*otherStore, m_clock, kFlushMs);
    const auto created = other.create({QStringLiteral("from cli"), {QStringLiteral("logs:read")}, {}, {}, {}});
    QVERIFY(created.ok());
    QVERIFY(other.update(issued.key.id, {{QStringLiteral("name"), QStringLiteral("renamed")}}, {}).ok());

    m_clock.advanceMs(1000);
    QCOMPARE(outcome(m_keys->authenticate(secret, kLocal)), QStringLiteral("ok")); // the 4th use; queues the check
    QTRY_COMPARE(outcome(m_keys->authenticate(created->secret.toLatin1(), kLocal)), QStringLiteral("ok"));
    QCOMPARE(queryInt("SELECT request_count FROM _apikeys WHERE id = ?", issued.key.id), qint64(0));

    QVERIFY(m_keys->flushUsage().ok());
    const auto key = m_keys->get(issued.key.id);
    QVERIFY(key.ok());
    QCOMPARE(key->name, QStringLiteral("renamed")); // reloaded...
    QCOMPARE(key->requestCount, qint64(4)); // ...with the uses counted before the reload
    QCOMPARE(key->lastUsedMs, kStartMs + 1000);
    QCOMPARE(key->lastUsedFrom, QStringLiteral("127.0.0.1"));
    QCOMPARE(queryInt("SELECT request_count FROM _apikeys WHERE id = ?", issued.key.id), qint64(4));
}

// The admin API's changes, list() and get() read data.db's version first: a change made from a
// stale cache would otherwise undo what another process did (here: un-revoke a key).
void TestApiKeys::changesStartFromTheStoredState()
{
    const auto issued = createOrFail();
    QCOMPARE(outcome(m_keys->authenticate(issued.secret.toLatin1(), kLocal)), QStringLiteral("ok"));
    const auto otherStore = openOtherStore();
    QVERIFY(otherStore);
    ApiKeys other(*otherStore, m_clock, kFlushMs);
    QVERIFY(other.revoke(issued.key.id, QStringLiteral("cli")).ok());
    const auto created = other.create({QStringLiteral("from cli"), {QStringLiteral("logs:read")}, {}, {}, {}});
    QVERIFY(created.ok());

    const auto updated = m_keys->update(issued.key.id, {{QStringLiteral("name"), QStringLiteral("x")}}, {});
    QVERIFY(!updated.ok());
    QCOMPARE(updated.error().code, ErrorCode::InvalidArgument); // revoked keys cannot change
    QVERIFY(!m_keys->rotate(issued.key.id, 0, {}).ok());
    QVERIFY(queryInt("SELECT revoked FROM _apikeys WHERE id = ?", issued.key.id) > 0);
    const auto list = m_keys->list();
    QVERIFY(list.ok());
    QCOMPARE(list->size(), 2);
    QVERIFY(m_keys->get(created->key.id).ok());
    // The cache behind authenticate() was reloaded along the way, without waiting for a check.
    QCOMPARE(outcome(m_keys->authenticate(issued.secret.toLatin1(), kLocal)), QStringLiteral("revoked"));
    QCOMPARE(outcome(m_keys->authenticate(created->secret.toLatin1(), kLocal)), QStringLiteral("ok"));
}

QTEST_GUILESS_MAIN(TestApiKeys)
#include "tst_apikeys.moc"
