#include <QJsonDocument>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

#include "auth/jwt.h"
#include "auth/passwordhasher.h"
#include "auth/superusers.h"
#include "core/clock.h"
#include "store/store.h"

using namespace Outpost;
using Outpost::Auth::Superuser;
using Outpost::Auth::Superusers;
using Outpost::Store::Database;

namespace {

constexpr qint64 kStartMs = 1'700'000'000'000; // 2023-11-14 22:13:20 UTC
constexpr qint64 kTtl = 3600;
constexpr auto kEmail = "admin@example.com";
const QByteArray kPassword = QByteArrayLiteral("correct horse");

struct AuditRow
{
    QString actor;
    QString action;
    QString address;
    qint64 success;
};

QString fieldCode(const Error &error, const QString &field)
{
    return error.details.value(QStringLiteral("fields"))
        .toObject()
        .value(field)
        .toObject()
        .value(QStringLiteral("code"))
        .toString();
}

} // namespace

class TestSuperusers : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void createStoresTheAccount();
    void rolesAreStoredAndTravelWithTheToken();
    void createValidates_data();
    void createValidates();
    void duplicateEmailRefused_data();
    void duplicateEmailRefused();
    void loginReturnsTheUser_data();
    void loginReturnsTheUser();
    void loginFailuresAreIndistinguishable();
    void loginAttemptsAreAudited();
    void fromToken_data();
    void fromToken();
    void tokenRevokedWhenTokenKeyChanges();
    void tokenOfDeletedAccountRefused();
    void tokenOfOtherTypeRefused_data();
    void tokenOfOtherTypeRefused();
    void tokenExpires();
    void signingKeyIsCreatedOnceAndKept();
    void timestampFormat();

private:
    Superuser createOrFail(const QString &email = QString::fromLatin1(kEmail), const QByteArray &password = kPassword);
    QList<AuditRow> auditLog();
    std::unique_ptr<Database> reader();

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Store::Store> m_store;
    ManualClock m_clock {kStartMs};
    const Auth::PasswordHasher m_hasher {Auth::PasswordHasher::Params {64, 1, 1}};
    std::unique_ptr<Auth::Jwt> m_jwt;
    std::unique_ptr<Superusers> m_superusers;
};

void TestSuperusers::init()
{
    m_clock.setMs(kStartMs);
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    auto store = Store::Store::open({m_dir->filePath(QStringLiteral("data")), Durability::Normal});
    QVERIFY2(store.ok(), qPrintable(store.ok() ? QString() : store.error().message));
    m_store = std::move(store).value();
    auto key = Auth::loadOrCreateSigningKey(*m_store);
    QVERIFY(key.ok());
    m_jwt = std::make_unique<Auth::Jwt>(key->secret, key->keyId, m_clock);
    m_superusers = std::make_unique<Superusers>(*m_store, m_hasher, *m_jwt, m_clock, kTtl);
}

void TestSuperusers::cleanup()
{
    m_superusers.reset();
    m_jwt.reset();
    m_store.reset();
    m_dir.reset();
}

Superuser TestSuperusers::createOrFail(const QString &email, const QByteArray &password)
{
    auto user = m_superusers->create(email, password);
    if (!user) {
        qWarning() << "create failed:" << user.error().message;
        return {};
    }
    return *user;
}

QList<AuditRow> TestSuperusers::auditLog()
{
    QList<AuditRow> rows;
    const Status s = m_store->writeLog([&rows](Database &db) -> Status {
        auto select = db.prepare("SELECT actor, action, address, success FROM audit_log ORDER BY id");
        if (!select)
            return select.error();
        for (;;) {
            auto row = select->step();
            if (!row)
                return row.error();
            if (!*row)
                return {};
            rows.append({select->text(0), select->text(1), select->text(2), select->int64(3)});
        }
    });
    if (!s)
        qWarning() << "reading the audit log failed:" << s.error().message;
    return rows;
}

std::unique_ptr<Database> TestSuperusers::reader()
{
    auto db = m_store->openReader();
    return db ? std::move(db).value() : nullptr;
}

void TestSuperusers::createStoresTheAccount()
{
    auto count = m_superusers->count();
    QVERIFY(count.ok());
    QCOMPARE(*count, qint64(0));

    auto user = m_superusers->create(QStringLiteral("  admin@example.com "), kPassword);
    QVERIFY2(user.ok(), qPrintable(user.ok() ? QString() : user.error().message));
    QCOMPARE(user->email, QStringLiteral("admin@example.com")); // trimmed
    QVERIFY(QRegularExpression(QStringLiteral("^[a-z0-9]{15}$")).match(user->id).hasMatch());
    QCOMPARE(user->tokenKey.size(), 50);
    QVERIFY(m_hasher.verify(user->passwordHash, kPassword));
    QVERIFY(!user->passwordHash.contains(QString::fromUtf8(kPassword)));
    QCOMPARE(user->created, QStringLiteral("2023-11-14 22:13:20.000Z"));
    QCOMPARE(user->updated, user->created);

    count = m_superusers->count();
    QVERIFY(count.ok());
    QCOMPARE(*count, qint64(1));

    // PocketBase's record shape, without secrets.
    const QJsonObject record = user->toRecord();
    QCOMPARE(record.value(QStringLiteral("id")).toString(), user->id);
    QCOMPARE(record.value(QStringLiteral("email")).toString(), user->email);
    QCOMPARE(record.value(QStringLiteral("collectionName")).toString(), QStringLiteral("_superusers"));
    QCOMPARE(record.value(QStringLiteral("collectionId")).toString(), QStringLiteral("pbc_3142635823"));
    const QByteArray json = QJsonDocument(record).toJson();
    QVERIFY(!json.contains(user->passwordHash.toUtf8()));
    QVERIFY(!json.contains(user->tokenKey.toUtf8()));
}

void TestSuperusers::rolesAreStoredAndTravelWithTheToken()
{
    auto owner = m_superusers->create(QStringLiteral("owner@example.com"), kPassword);
    QVERIFY(owner.ok());
    QCOMPARE(owner->role, Auth::Role::Owner); // the default, and what accounts from before roles got
    QCOMPARE(owner->toRecord().value(u"role").toString(), QStringLiteral("owner"));
    for (Auth::Role role : {Auth::Role::Admin, Auth::Role::Editor, Auth::Role::Viewer}) {
        auto user = m_superusers->create(Auth::roleName(role) + QStringLiteral("@example.com"), kPassword, role);
        QVERIFY(user.ok());
        auto loggedIn = m_superusers->login(user->email, kPassword, QStringLiteral("127.0.0.1"));
        QVERIFY(loggedIn.ok());
        QCOMPARE(loggedIn->role, role);
        Status seen = m_store->read([&](Store::Database &db) -> Status {
            auto fromToken = m_superusers->fromToken(db, QByteArray("Bearer " + m_superusers->issueToken(*user)));
            if (!fromToken)
                return fromToken.error();
            return fromToken->role == role ? Status() : makeError(ErrorCode::Internal, QStringLiteral("wrong role"));
        });
        QVERIFY2(seen.ok(), qPrintable(seen.ok() ? QString() : seen.error().message));
    }
    // The database refuses a role it does not know.
    Status bad = m_store->write([](Store::Database &db) {
        return db.exec("UPDATE _superusers SET role = 'root' WHERE email = 'owner@example.com'");
    });
    QVERIFY(!bad.ok());
    // What each role may do.
    using P = Auth::Permission;
    QVERIFY(Auth::roleGrants(Auth::Role::Admin, P::KeysManage));
    QVERIFY(Auth::roleGrants(Auth::Role::Editor, P::RecordsWrite));
    QVERIFY(!Auth::roleGrants(Auth::Role::Editor, P::CollectionsManage));
    QVERIFY(!Auth::roleGrants(Auth::Role::Editor, P::KeysManage));
    QVERIFY(!Auth::roleGrants(Auth::Role::Editor, P::AccountsManage));
    QVERIFY(Auth::roleGrants(Auth::Role::Viewer, P::LogsRead));
    QVERIFY(!Auth::roleGrants(Auth::Role::Viewer, P::RecordsWrite));
    QCOMPARE(Auth::parseRole(u"Editor"), std::optional<Auth::Role>(Auth::Role::Editor));
    QVERIFY(!Auth::parseRole(u"root"));
}

void TestSuperusers::createValidates_data()
{
    QTest::addColumn<QString>("email");
    QTest::addColumn<QByteArray>("password");
    QTest::addColumn<QString>("field"); // empty: accepted
    QTest::addColumn<QString>("code");

    const QString email = QString::fromLatin1(kEmail);
    const QString isEmail = QStringLiteral("validation_is_email");
    const QString minText = QStringLiteral("validation_min_text_constraint");
    const QString maxText = QStringLiteral("validation_max_text_constraint");

    QTest::newRow("valid") << email << kPassword << QString() << QString();
    QTest::newRow("plus address and subdomain")
        << QStringLiteral("ops+outpost@mail.example.co.uk") << kPassword << QString() << QString();
    QTest::newRow("empty email") << QString() << kPassword << QStringLiteral("email") << isEmail;
    QTest::newRow("blank email") << QStringLiteral("   ") << kPassword << QStringLiteral("email") << isEmail;
    QTest::newRow("no at sign") << QStringLiteral("admin.example.com") << kPassword << QStringLiteral("email")
                                << isEmail;
    QTest::newRow("two at signs") << QStringLiteral("admin@@example.com") << kPassword << QStringLiteral("email")
                                  << isEmail;
    QTest::newRow("no domain dot") << QStringLiteral("admin@localhost") << kPassword << QStringLiteral("email")
                                   << isEmail;
    QTest::newRow("domain starts with hyphen")
        << QStringLiteral("admin@-example.com") << kPassword << QStringLiteral("email") << isEmail;
    QTest::newRow("space inside") << QStringLiteral("ad min@example.com") << kPassword << QStringLiteral("email")
                                  << isEmail;
    QTest::newRow("longer than 254") << QString(250, u'a') + QStringLiteral("@example.com") << kPassword
                                     << QStringLiteral("email") << isEmail;
    QTest::newRow("empty password") << email << QByteArray() << QStringLiteral("password") << minText;
    QTest::newRow("7 characters") << email << QByteArray("1234567") << QStringLiteral("password") << minText;
    QTest::newRow("8 characters") << email << QByteArray("12345678") << QString() << QString();
    QTest::newRow("8 non-ASCII characters") << email << QStringLiteral("äöüßäöüß").toUtf8() << QString() << QString();
    // Four characters (eight UTF-16 code units): PocketBase counts characters.
    QTest::newRow("4 emoji") << email << QStringLiteral("🔑🔑🔑🔑").toUtf8() << QStringLiteral("password") << minText;
    QTest::newRow("1024 bytes") << email << QByteArray(1024, 'p') << QString() << QString();
    QTest::newRow("1025 bytes") << email << QByteArray(1025, 'p') << QStringLiteral("password") << maxText;
}

void TestSuperusers::createValidates()
{
    QFETCH(QString, email);
    QFETCH(QByteArray, password);
    QFETCH(QString, field);
    QFETCH(QString, code);

    auto user = m_superusers->create(email, password);
    auto count = m_superusers->count();
    QVERIFY(count.ok());
    QCOMPARE(user.ok(), field.isEmpty());
    if (field.isEmpty()) {
        QCOMPARE(*count, qint64(1));
        QVERIFY(m_hasher.verify(user->passwordHash, password));
        return;
    }
    QCOMPARE(*count, qint64(0));
    const Error &error = user.error();
    QCOMPARE(error.code, ErrorCode::InvalidArgument);
    QCOMPARE(error.message, QStringLiteral("Failed to create record."));
    const QJsonObject fields = error.details.value(QStringLiteral("fields")).toObject();
    QCOMPARE(fields.keys(), QStringList {field});
    QCOMPARE(fieldCode(error, field), code);
    QVERIFY(!fields.value(field).toObject().value(QStringLiteral("message")).toString().isEmpty());
}

void TestSuperusers::duplicateEmailRefused_data()
{
    QTest::addColumn<QString>("second");
    QTest::newRow("same") << QString::fromLatin1(kEmail);
    QTest::newRow("other case") << QStringLiteral("ADMIN@Example.COM");
    QTest::newRow("surrounding spaces") << QStringLiteral(" admin@example.com\t");
}

void TestSuperusers::duplicateEmailRefused()
{
    QFETCH(QString, second);
    const Superuser first = createOrFail();
    QVERIFY(!first.id.isEmpty());

    auto duplicate = m_superusers->create(second, "another password");
    QVERIFY(!duplicate.ok());
    QCOMPARE(fieldCode(duplicate.error(), QStringLiteral("email")), QStringLiteral("validation_not_unique"));
    auto count = m_superusers->count();
    QVERIFY(count.ok());
    QCOMPARE(*count, qint64(1));

    // The first account is untouched.
    auto login = m_superusers->login(QString::fromLatin1(kEmail), kPassword, QStringLiteral("127.0.0.1"));
    QVERIFY(login.ok());
    QCOMPARE(login->id, first.id);
}

void TestSuperusers::loginReturnsTheUser_data()
{
    QTest::addColumn<QString>("identity");
    QTest::newRow("as created") << QString::fromLatin1(kEmail);
    QTest::newRow("other case") << QStringLiteral("Admin@EXAMPLE.com");
    QTest::newRow("surrounding spaces") << QStringLiteral("  admin@example.com ");
}

void TestSuperusers::loginReturnsTheUser()
{
    QFETCH(QString, identity);
    const Superuser created = createOrFail();
    auto user = m_superusers->login(identity, kPassword, QStringLiteral("127.0.0.1"));
    QVERIFY2(user.ok(), qPrintable(user.ok() ? QString() : user.error().message));
    QCOMPARE(user->id, created.id);
    QCOMPARE(user->email, created.email);
    QCOMPARE(user->tokenKey, created.tokenKey);
    QCOMPARE(user->created, created.created);
}

void TestSuperusers::loginFailuresAreIndistinguishable()
{
    createOrFail();
    auto wrongPassword = m_superusers->login(QString::fromLatin1(kEmail), "wrong password", QStringLiteral("a"));
    auto unknownUser = m_superusers->login(QStringLiteral("nobody@example.com"), kPassword, QStringLiteral("a"));
    auto emptyPassword = m_superusers->login(QString::fromLatin1(kEmail), QByteArray(), QStringLiteral("a"));
    auto tooLong = m_superusers->login(QString::fromLatin1(kEmail), QByteArray(2000, 'x'), QStringLiteral("a"));
    auto emptyIdentity = m_superusers->login(QString(), kPassword, QStringLiteral("a"));

    QVERIFY(!wrongPassword.ok());
    for (const auto *other : {&unknownUser, &emptyPassword, &tooLong, &emptyIdentity}) {
        QVERIFY(!other->ok());
        QCOMPARE(other->error().code, wrongPassword.error().code);
        QCOMPARE(other->error().message, wrongPassword.error().message);
        QCOMPARE(other->error().details, wrongPassword.error().details);
    }
    QCOMPARE(wrongPassword.error().message, QStringLiteral("Failed to authenticate."));
    QVERIFY(wrongPassword.error().details.isEmpty());
}

void TestSuperusers::loginAttemptsAreAudited()
{
    createOrFail();
    QVERIFY(m_superusers->login(QString::fromLatin1(kEmail), kPassword, QStringLiteral("192.0.2.1")).ok());
    QVERIFY(!m_superusers->login(QString::fromLatin1(kEmail), "nope nope", QStringLiteral("192.0.2.2")).ok());
    QVERIFY(!m_superusers->login(QStringLiteral("ghost@example.com"), kPassword, QStringLiteral("192.0.2.3")).ok());

    const QList<AuditRow> rows = auditLog();
    QCOMPARE(rows.size(), 4);
    QCOMPARE(rows.at(0).action, QStringLiteral("superuser.create"));
    QCOMPARE(rows.at(0).actor, QString::fromLatin1(kEmail));
    QCOMPARE(rows.at(0).success, qint64(1));

    const struct
    {
        const char *actor;
        const char *address;
        qint64 success;
    } expected[] = {{kEmail, "192.0.2.1", 1}, {kEmail, "192.0.2.2", 0}, {"ghost@example.com", "192.0.2.3", 0}};
    for (int i = 0; i < 3; ++i) {
        const AuditRow &row = rows.at(i + 1);
        QCOMPARE(row.action, QStringLiteral("auth.login"));
        QCOMPARE(row.actor, QString::fromLatin1(expected[i].actor));
        QCOMPARE(row.address, QString::fromLatin1(expected[i].address));
        QCOMPARE(row.success, expected[i].success);
    }
}

void TestSuperusers::fromToken_data()
{
    QTest::addColumn<QByteArray>("authorization"); // @T@ is a valid token
    QTest::addColumn<bool>("accepted");

    QTest::newRow("Bearer") << QByteArray("Bearer @T@") << true;
    QTest::newRow("bearer, lower case") << QByteArray("bearer @T@") << true;
    QTest::newRow("bare token") << QByteArray("@T@") << true;
    QTest::newRow("extra spaces") << QByteArray("  Bearer   @T@ \t") << true;
    QTest::newRow("empty") << QByteArray() << false;
    QTest::newRow("spaces") << QByteArray("   ") << false;
    QTest::newRow("Bearer only") << QByteArray("Bearer") << false;
    QTest::newRow("Bearer and a space") << QByteArray("Bearer ") << false;
    QTest::newRow("garbage") << QByteArray("Bearer garbage") << false;
    QTest::newRow("three dots") << QByteArray("a.b.c") << false;
    QTest::newRow("Basic scheme") << QByteArray("Basic @T@") << false;
    QTest::newRow("two tokens") << QByteArray("Bearer @T@ @T@") << false;
    QTest::newRow("extra segment") << QByteArray("Bearer @T@.x") << false;
}

void TestSuperusers::fromToken()
{
    QFETCH(QByteArray, authorization);
    QFETCH(bool, accepted);

    const Superuser created = createOrFail();
    const QByteArray token = m_superusers->issueToken(created);
    authorization.replace("@T@", token);
    auto db = reader();
    QVERIFY(db);
    auto user = m_superusers->fromToken(*db, authorization);
    QCOMPARE(user.ok(), accepted);
    if (accepted) {
        QCOMPARE(user->id, created.id);
        QCOMPARE(user->email, created.email);
    } else {
        QCOMPARE(user.error().code, ErrorCode::Unauthenticated);
    }
}

void TestSuperusers::tokenRevokedWhenTokenKeyChanges()
{
    const Superuser created = createOrFail();
    const QByteArray token = m_superusers->issueToken(created);
    auto db = reader();
    QVERIFY(db);
    QVERIFY(m_superusers->fromToken(*db, token).ok());

    QVERIFY(m_store
                ->write([&created](Database &w) -> Status {
                    auto update = w.prepare("UPDATE _superusers SET token_key = ? WHERE id = ?");
                    if (!update)
                        return update.error();
                    return update->bind(1, QStringLiteral("a-new-token-key")).bind(2, created.id).run();
                })
                .ok());
    auto revoked = m_superusers->fromToken(*db, token); // the same reader connection, as a network thread does
    QVERIFY(!revoked.ok());
    QCOMPARE(revoked.error().code, ErrorCode::Unauthenticated);

    // A token issued for the new key works.
    Superuser updated = created;
    updated.tokenKey = QStringLiteral("a-new-token-key");
    auto fresh = m_superusers->fromToken(*db, m_superusers->issueToken(updated));
    QVERIFY(fresh.ok());
    QCOMPARE(fresh->id, created.id);
}

void TestSuperusers::tokenOfDeletedAccountRefused()
{
    const Superuser created = createOrFail();
    const QByteArray token = m_superusers->issueToken(created);
    QVERIFY(m_store
                ->write([&created](Database &w) -> Status {
                    auto remove = w.prepare("DELETE FROM _superusers WHERE id = ?");
                    if (!remove)
                        return remove.error();
                    return remove->bind(1, created.id).run();
                })
                .ok());
    auto db = reader();
    QVERIFY(db);
    auto user = m_superusers->fromToken(*db, token);
    QVERIFY(!user.ok());
    QCOMPARE(user.error().code, ErrorCode::Unauthenticated);
}

void TestSuperusers::tokenOfOtherTypeRefused_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("collectionId");

    const QString superusers = QString::fromLatin1(Superusers::kCollectionId);
    QTest::newRow("refresh type") << QStringLiteral("refresh") << superusers;
    QTest::newRow("file type") << QStringLiteral("file") << superusers;
    QTest::newRow("no type") << QString() << superusers;
    QTest::newRow("other collection") << QStringLiteral("auth") << QStringLiteral("pbc_users");
    QTest::newRow("no collection") << QStringLiteral("auth") << QString();
}

void TestSuperusers::tokenOfOtherTypeRefused()
{
    QFETCH(QString, type);
    QFETCH(QString, collectionId);

    const Superuser created = createOrFail();
    QJsonObject claims {{QStringLiteral("id"), created.id}};
    if (!type.isEmpty())
        claims.insert(QStringLiteral("type"), type);
    if (!collectionId.isEmpty())
        claims.insert(QStringLiteral("collectionId"), collectionId);
    // Correctly signed with the account's key: only the claims are wrong.
    const QByteArray token = m_jwt->sign(claims, kTtl, created.tokenKey.toUtf8());
    auto db = reader();
    QVERIFY(db);
    auto user = m_superusers->fromToken(*db, token);
    QVERIFY(!user.ok());
    QCOMPARE(user.error().code, ErrorCode::Unauthenticated);
}

void TestSuperusers::tokenExpires()
{
    const Superuser created = createOrFail();
    const QByteArray token = m_superusers->issueToken(created);
    auto db = reader();
    QVERIFY(db);
    m_clock.advanceMs((kTtl - 1) * 1000);
    QVERIFY(m_superusers->fromToken(*db, token).ok());
    m_clock.advanceMs(60 * 1000);
    auto user = m_superusers->fromToken(*db, token);
    QVERIFY(!user.ok());
    QCOMPARE(user.error().code, ErrorCode::Unauthenticated);
}

void TestSuperusers::signingKeyIsCreatedOnceAndKept()
{
    auto first = Auth::loadOrCreateSigningKey(*m_store);
    QVERIFY(first.ok());
    QCOMPARE(first->secret.size(), 32);
    QCOMPARE(first->keyId.size(), 12);
    QCOMPARE(m_jwt->keyId(), first->keyId); // the one init() created

    const Superuser created = createOrFail();
    const QByteArray token = m_superusers->issueToken(created);

    // Reopening the data directory keeps the key, so issued tokens stay valid.
    m_superusers.reset();
    m_jwt.reset();
    m_store.reset();
    auto store = Store::Store::open({m_dir->filePath(QStringLiteral("data")), Durability::Normal});
    QVERIFY(store.ok());
    m_store = std::move(store).value();
    auto again = Auth::loadOrCreateSigningKey(*m_store);
    QVERIFY(again.ok());
    QCOMPARE(again->secret, first->secret);
    QCOMPARE(again->keyId, first->keyId);

    m_jwt = std::make_unique<Auth::Jwt>(again->secret, again->keyId, m_clock);
    m_superusers = std::make_unique<Superusers>(*m_store, m_hasher, *m_jwt, m_clock, kTtl);
    auto db = reader();
    QVERIFY(db);
    auto user = m_superusers->fromToken(*db, token);
    QVERIFY(user.ok());
    QCOMPARE(user->id, created.id);
}

void TestSuperusers::timestampFormat()
{
    QCOMPARE(Superusers::timestamp(kStartMs), QStringLiteral("2023-11-14 22:13:20.000Z"));
    QCOMPARE(Superusers::timestamp(kStartMs + 7), QStringLiteral("2023-11-14 22:13:20.007Z"));
    QCOMPARE(Superusers::timestamp(0), QStringLiteral("1970-01-01 00:00:00.000Z"));
}

QTEST_GUILESS_MAIN(TestSuperusers)
#include "tst_superusers.moc"
