#include <QJsonDocument>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <atomic>
#include <memory>
#include <thread>

#include "auth/jwt.h"
#include "auth/passwordhasher.h"
#include "auth/superusers.h"
#include "core/clock.h"
#include "store/store.h"

Q_DECLARE_METATYPE(Outpost::Auth::Role)

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
    QString target;
    QJsonObject details;
};

const Auth::AccountActor kAdmin {QStringLiteral("superuser:admin"), Auth::Role::Admin, QString()};
const Auth::AccountActor kOwner {QStringLiteral("superuser:owner"), Auth::Role::Owner, QString()};

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

    void listAndFind();
    void updateChangesTheAccount();
    void updateValidates_data();
    void updateValidates();
    void roleOrPasswordChangeRevokesTokens_data();
    void roleOrPasswordChangeRevokesTokens();
    void onlyOwnersTouchOwners_data();
    void onlyOwnersTouchOwners();
    void lastOwnerStays();
    void concurrentDemotionsKeepAnOwner();
    void removeDeletesTheAccount();
    void changesAreAudited();

private:
    Superuser createOrFail(const QString &email = QString::fromLatin1(kEmail), const QByteArray &password = kPassword);
    QList<AuditRow> auditLog();
    std::unique_ptr<Database> reader();
    // NAME@example.com with `role`, created by the local operator.
    Superuser createWithRole(const QString &name, Auth::Role role);
    // A token of a new session of `user`.
    QByteArray tokenFor(Superuser user);
    // Whether `token` still authenticates its account.
    bool accepted(const QByteArray &token);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Store::Store> m_store;
    ManualClock m_clock {kStartMs};
    const Auth::Sessions m_sessions {m_clock};
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
    m_superusers = std::make_unique<Superusers>(*m_store, m_hasher, *m_jwt, m_clock, m_sessions, kTtl);
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
    m_store->auditLog().flush(); // entries are written by the log's own thread
    const Status s = m_store->writeLog([&rows](Database &db) -> Status {
        auto select = db.prepare("SELECT actor, action, address, success, target, details FROM audit_log ORDER BY id");
        if (!select)
            return select.error();
        for (;;) {
            auto row = select->step();
            if (!row)
                return row.error();
            if (!*row)
                return {};
            rows.append({select->text(0), select->text(1), select->text(2), select->int64(3), select->text(4),
                         QJsonDocument::fromJson(select->blob(5)).object()});
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
            auto fromToken = m_superusers->fromToken(db, QByteArray("Bearer " + tokenFor(*user)));
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
    QTest::newRow("8 characters") << email << QByteArray("k3y-lime") << QString() << QString();
    // One of the most common passwords (the built-in list), whatever its case.
    QTest::newRow("common password") << email << QByteArray("12345678") << QStringLiteral("password")
                                     << QStringLiteral("validation_common_password");
    QTest::newRow("common password, other case") << email << QByteArray("BaseBall") << QStringLiteral("password")
                                                 << QStringLiteral("validation_common_password");
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
    const QByteArray token = tokenFor(created);
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
    const QByteArray token = tokenFor(created);
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
    auto fresh = m_superusers->fromToken(*db, tokenFor(updated));
    QVERIFY(fresh.ok());
    QCOMPARE(fresh->id, created.id);
}

void TestSuperusers::tokenOfDeletedAccountRefused()
{
    const Superuser created = createOrFail();
    const QByteArray token = tokenFor(created);
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
    const QByteArray token = tokenFor(created);
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
    const QByteArray token = tokenFor(created);

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
    m_superusers = std::make_unique<Superusers>(*m_store, m_hasher, *m_jwt, m_clock, m_sessions, kTtl);
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

Superuser TestSuperusers::createWithRole(const QString &name, Auth::Role role)
{
    auto user = m_superusers->create(name + QStringLiteral("@example.com"), kPassword, role);
    if (!user) {
        qWarning() << "create failed:" << user.error().message;
        return {};
    }
    return *user;
}

QByteArray TestSuperusers::tokenFor(Superuser user)
{
    if (auto session = m_superusers->startSession(user, QStringLiteral("192.0.2.1")); !session)
        qWarning() << "starting a session failed:" << session.error().message;
    return m_superusers->issueToken(user);
}

bool TestSuperusers::accepted(const QByteArray &token)
{
    auto db = reader();
    return db && m_superusers->fromToken(*db, token).ok();
}

void TestSuperusers::listAndFind()
{
    auto empty = m_superusers->list();
    QVERIFY(empty.ok());
    QVERIFY(empty->isEmpty());
    const Superuser owner = createWithRole(QStringLiteral("owner"), Auth::Role::Owner);
    m_clock.advanceMs(1000);
    const Superuser admin = createWithRole(QStringLiteral("admin"), Auth::Role::Admin);
    m_clock.advanceMs(1000);
    const Superuser editor = createWithRole(QStringLiteral("editor"), Auth::Role::Editor);

    auto all = m_superusers->list();
    QVERIFY(all.ok());
    QCOMPARE(all->size(), 3);
    QCOMPARE(all->at(0).id, owner.id); // oldest first
    QCOMPARE(all->at(1).id, admin.id);
    QCOMPARE(all->at(2).id, editor.id);
    QCOMPARE(all->at(2).role, Auth::Role::Editor);

    auto found = m_superusers->find(admin.id);
    QVERIFY(found.ok());
    QCOMPARE(found->email, admin.email);
    QCOMPARE(found->role, Auth::Role::Admin);
    QCOMPARE(found->tokenKey, admin.tokenKey);
    auto byEmail = m_superusers->findByEmail(QStringLiteral(" EDITOR@example.com "));
    QVERIFY(byEmail.ok());
    QCOMPARE(byEmail->id, editor.id);

    for (const auto &missing : {m_superusers->find(QStringLiteral("nosuchaccount00")),
                                m_superusers->findByEmail(QStringLiteral("ghost@example.com")),
                                m_superusers->update(QStringLiteral("nosuchaccount00"), {}, kOwner),
                                m_superusers->remove(QStringLiteral("nosuchaccount00"), kOwner)}) {
        QVERIFY(!missing.ok());
        QCOMPARE(missing.error().code, ErrorCode::NotFound);
    }
}

void TestSuperusers::updateChangesTheAccount()
{
    createWithRole(QStringLiteral("owner"), Auth::Role::Owner);
    const Superuser editor = createWithRole(QStringLiteral("editor"), Auth::Role::Editor);
    m_clock.advanceMs(5000);
    const QByteArray newPassword = "a new password";
    auto updated = m_superusers->update(editor.id,
                                        {QStringLiteral(" new@example.com "), newPassword, Auth::Role::Viewer}, kOwner);
    QVERIFY2(updated.ok(), qPrintable(updated.ok() ? QString() : updated.error().message));
    QCOMPARE(updated->id, editor.id);
    QCOMPARE(updated->email, QStringLiteral("new@example.com"));
    QCOMPARE(updated->role, Auth::Role::Viewer);
    QCOMPARE(updated->created, editor.created);
    QCOMPARE(updated->updated, QStringLiteral("2023-11-14 22:13:25.000Z"));
    QVERIFY(m_hasher.verify(updated->passwordHash, newPassword));

    auto stored = m_superusers->find(editor.id);
    QVERIFY(stored.ok());
    QCOMPARE(stored->email, updated->email);
    QCOMPARE(stored->role, Auth::Role::Viewer);
    QCOMPARE(stored->tokenKey, updated->tokenKey);
    QVERIFY(m_superusers->login(QStringLiteral("new@example.com"), newPassword, QStringLiteral("a")).ok());
    QVERIFY(!m_superusers->login(QStringLiteral("new@example.com"), kPassword, QStringLiteral("a")).ok());
    QVERIFY(!m_superusers->login(editor.email, newPassword, QStringLiteral("a")).ok());

    // Nothing to change: the account comes back as it is, untouched.
    m_clock.advanceMs(5000);
    auto same = m_superusers->update(editor.id, {}, kOwner);
    QVERIFY(same.ok());
    QCOMPARE(same->updated, updated->updated);
    QCOMPARE(same->tokenKey, updated->tokenKey);
    auto sameRole = m_superusers->update(editor.id, {{}, {}, Auth::Role::Viewer}, kOwner);
    QVERIFY(sameRole.ok());
    QCOMPARE(sameRole->updated, updated->updated);
}

void TestSuperusers::updateValidates_data()
{
    QTest::addColumn<QString>("email");
    QTest::addColumn<QByteArray>("password");
    QTest::addColumn<QStringList>("fields");
    QTest::addColumn<QString>("code"); // of the first field

    QTest::newRow("bad email") << QStringLiteral("not-an-email") << QByteArray()
                               << QStringList {QStringLiteral("email")} << QStringLiteral("validation_is_email");
    QTest::newRow("blank email") << QStringLiteral("  ") << QByteArray() << QStringList {QStringLiteral("email")}
                                 << QStringLiteral("validation_is_email");
    QTest::newRow("taken email") << QStringLiteral("OWNER@example.com") << QByteArray()
                                 << QStringList {QStringLiteral("email")} << QStringLiteral("validation_not_unique");
    QTest::newRow("short password") << QString() << QByteArray("short") << QStringList {QStringLiteral("password")}
                                    << QStringLiteral("validation_min_text_constraint");
    QTest::newRow("long password") << QString() << QByteArray(1025, 'p') << QStringList {QStringLiteral("password")}
                                   << QStringLiteral("validation_max_text_constraint");
    QTest::newRow("both") << QStringLiteral("x@") << QByteArray("short")
                          << QStringList {QStringLiteral("email"), QStringLiteral("password")}
                          << QStringLiteral("validation_is_email");
}

void TestSuperusers::updateValidates()
{
    QFETCH(QString, email);
    QFETCH(QByteArray, password);
    QFETCH(QStringList, fields);
    QFETCH(QString, code);
    createWithRole(QStringLiteral("owner"), Auth::Role::Owner);
    const Superuser admin = createWithRole(QStringLiteral("admin"), Auth::Role::Admin);
    Auth::SuperuserChanges changes;
    if (!email.isNull())
        changes.email = email;
    if (!password.isNull())
        changes.password = password;
    changes.role = Auth::Role::Editor; // refused with the rest
    auto updated = m_superusers->update(admin.id, changes, kOwner);
    QVERIFY(!updated.ok());
    QCOMPARE(updated.error().code, ErrorCode::InvalidArgument);
    QCOMPARE(updated.error().message, QStringLiteral("Failed to update record."));
    QCOMPARE(updated.error().details.value(u"fields").toObject().keys(), fields);
    QCOMPARE(fieldCode(updated.error(), fields.first()), code);
    auto stored = m_superusers->find(admin.id);
    QVERIFY(stored.ok());
    QCOMPARE(stored->email, admin.email);
    QCOMPARE(stored->role, Auth::Role::Admin);
    QCOMPARE(stored->tokenKey, admin.tokenKey);
}

void TestSuperusers::roleOrPasswordChangeRevokesTokens_data()
{
    QTest::addColumn<QString>("change");
    QTest::addColumn<bool>("revokes");
    QTest::newRow("role") << QStringLiteral("role") << true;
    QTest::newRow("password") << QStringLiteral("password") << true;
    QTest::newRow("email") << QStringLiteral("email") << false;
    QTest::newRow("the same role") << QStringLiteral("same role") << false;
}

void TestSuperusers::roleOrPasswordChangeRevokesTokens()
{
    QFETCH(QString, change);
    QFETCH(bool, revokes);
    createWithRole(QStringLiteral("owner"), Auth::Role::Owner);
    const Superuser admin = createWithRole(QStringLiteral("admin"), Auth::Role::Admin);
    const QByteArray token = tokenFor(admin);
    QVERIFY(accepted(token));
    Auth::SuperuserChanges changes;
    if (change == u"role")
        changes.role = Auth::Role::Viewer;
    else if (change == u"same role")
        changes.role = Auth::Role::Admin;
    else if (change == u"password")
        changes.password = QByteArray("another password");
    else
        changes.email = QStringLiteral("renamed@example.com");
    auto updated = m_superusers->update(admin.id, changes, kOwner);
    QVERIFY(updated.ok());
    QCOMPARE(accepted(token), !revokes);
    QCOMPARE(updated->tokenKey != admin.tokenKey, revokes);
    QVERIFY(accepted(tokenFor(*updated))); // a new login works
}

void TestSuperusers::onlyOwnersTouchOwners_data()
{
    QTest::addColumn<QString>("operation"); // create, update (email), set-role, delete
    QTest::addColumn<Auth::Role>("actor");
    QTest::addColumn<Auth::Role>("target");
    QTest::addColumn<Auth::Role>("newRole"); // set-role only
    QTest::addColumn<bool>("allowed");

    using R = Auth::Role;
    const QString create = QStringLiteral("create"), update = QStringLiteral("update"),
                  setRole = QStringLiteral("set-role"), remove = QStringLiteral("delete");
    QTest::newRow("admin creates an admin") << create << R::Admin << R::Admin << R::Admin << true;
    QTest::newRow("admin creates an owner") << create << R::Admin << R::Owner << R::Owner << false;
    QTest::newRow("admin renames an editor") << update << R::Admin << R::Editor << R::Editor << true;
    QTest::newRow("admin renames an owner") << update << R::Admin << R::Owner << R::Owner << false;
    QTest::newRow("admin demotes an admin") << setRole << R::Admin << R::Admin << R::Viewer << true;
    QTest::newRow("admin promotes an admin to owner") << setRole << R::Admin << R::Admin << R::Owner << false;
    QTest::newRow("admin demotes an owner") << setRole << R::Admin << R::Owner << R::Admin << false;
    QTest::newRow("admin deletes an editor") << remove << R::Admin << R::Editor << R::Editor << true;
    QTest::newRow("admin deletes an owner") << remove << R::Admin << R::Owner << R::Owner << false;
    QTest::newRow("owner creates an owner") << create << R::Owner << R::Owner << R::Owner << true;
    QTest::newRow("owner renames an owner") << update << R::Owner << R::Owner << R::Owner << true;
    QTest::newRow("owner promotes an editor to owner") << setRole << R::Owner << R::Editor << R::Owner << true;
    QTest::newRow("owner demotes an owner") << setRole << R::Owner << R::Owner << R::Viewer << true;
    QTest::newRow("owner deletes an owner") << remove << R::Owner << R::Owner << R::Owner << true;
}

void TestSuperusers::onlyOwnersTouchOwners()
{
    QFETCH(QString, operation);
    QFETCH(Auth::Role, actor);
    QFETCH(Auth::Role, target);
    QFETCH(Auth::Role, newRole);
    QFETCH(bool, allowed);
    createWithRole(QStringLiteral("first"), Auth::Role::Owner); // so that the last-owner rule stays out of it
    const Auth::AccountActor who = actor == Auth::Role::Owner ? kOwner : kAdmin;
    Status outcome;
    Superuser account;
    if (operation == u"create") {
        auto created = m_superusers->create(QStringLiteral("target@example.com"), kPassword, target, who);
        outcome = created ? Status() : Status(created.error());
    } else {
        account = createWithRole(QStringLiteral("target"), target);
        Result<Superuser> done = operation == u"delete" ? m_superusers->remove(account.id, who)
            : operation == u"update"
            ? m_superusers->update(account.id, {QStringLiteral("renamed@example.com"), {}, {}}, who)
            : m_superusers->update(account.id, {{}, {}, newRole}, who);
        outcome = done ? Status() : Status(done.error());
    }
    QCOMPARE(outcome.ok(), allowed);
    if (allowed)
        return;
    QCOMPARE(outcome.error().code, ErrorCode::PermissionDenied);
    QVERIFY2(outcome.error().message.contains(u"owner"), qPrintable(outcome.error().message));
    auto count = m_superusers->count();
    QVERIFY(count.ok());
    QCOMPARE(*count, operation == u"create" ? 1 : 2); // nothing created, nothing deleted
    if (operation != u"create") {
        auto stored = m_superusers->find(account.id);
        QVERIFY(stored.ok());
        QCOMPARE(stored->email, account.email);
        QCOMPARE(stored->role, account.role);
        QCOMPARE(stored->tokenKey, account.tokenKey);
    }
}

void TestSuperusers::lastOwnerStays()
{
    const Superuser owner = createWithRole(QStringLiteral("owner"), Auth::Role::Owner);
    const Superuser admin = createWithRole(QStringLiteral("admin"), Auth::Role::Admin);
    for (const auto &refused : {m_superusers->update(owner.id, {{}, {}, Auth::Role::Admin}, kOwner),
                                m_superusers->remove(owner.id, kOwner)}) {
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().code, ErrorCode::Conflict);
        QVERIFY2(refused.error().message.contains(u"last owner"), qPrintable(refused.error().message));
    }
    auto stored = m_superusers->find(owner.id);
    QVERIFY(stored.ok());
    QCOMPARE(stored->role, Auth::Role::Owner);
    // Other changes to the last owner are fine.
    QVERIFY(m_superusers->update(owner.id, {QStringLiteral("boss@example.com"), {}, Auth::Role::Owner}, kOwner).ok());

    // With a second owner, the first may go; then the second is the last.
    QVERIFY(m_superusers->update(admin.id, {{}, {}, Auth::Role::Owner}, kOwner).ok());
    QVERIFY(m_superusers->update(owner.id, {{}, {}, Auth::Role::Editor}, kOwner).ok());
    auto last = m_superusers->remove(admin.id, kOwner);
    QVERIFY(!last.ok());
    QCOMPARE(last.error().code, ErrorCode::Conflict);
    QVERIFY(m_superusers->update(owner.id, {{}, {}, Auth::Role::Owner}, kOwner).ok());
    QVERIFY(m_superusers->remove(admin.id, kOwner).ok());
    auto all = m_superusers->list();
    QVERIFY(all.ok());
    QCOMPARE(all->size(), 1);
    QCOMPARE(all->first().role, Auth::Role::Owner);
}

void TestSuperusers::concurrentDemotionsKeepAnOwner()
{
    const Superuser first = createWithRole(QStringLiteral("first"), Auth::Role::Owner);
    const Superuser second = createWithRole(QStringLiteral("second"), Auth::Role::Owner);
    // Each round both owners are demoted at once, from two threads: one must be refused.
    for (int round = 0; round < 20; ++round) {
        std::atomic<bool> go {false};
        Result<Superuser> a = Error(), b = Error();
        const auto demote = [&](const Superuser &who, Result<Superuser> &out) {
            while (!go.load())
                std::this_thread::yield();
            out = m_superusers->update(who.id, {{}, {}, Auth::Role::Admin}, kOwner);
        };
        std::thread ta(demote, std::cref(first), std::ref(a));
        std::thread tb(demote, std::cref(second), std::ref(b));
        go = true;
        ta.join();
        tb.join();
        QCOMPARE(int(a.ok()) + int(b.ok()), 1);
        const auto &refused = a.ok() ? b : a;
        QCOMPARE(refused.error().code, ErrorCode::Conflict);
        const Superuser &demoted = a.ok() ? first : second;
        QVERIFY(m_superusers->update(demoted.id, {{}, {}, Auth::Role::Owner}, kOwner).ok());
    }
}

void TestSuperusers::removeDeletesTheAccount()
{
    createWithRole(QStringLiteral("owner"), Auth::Role::Owner);
    const Superuser editor = createWithRole(QStringLiteral("editor"), Auth::Role::Editor);
    const QByteArray token = tokenFor(editor);
    QVERIFY(accepted(token));
    auto removed = m_superusers->remove(editor.id, kAdmin);
    QVERIFY(removed.ok());
    QCOMPARE(removed->id, editor.id);
    QCOMPARE(removed->email, editor.email);
    QVERIFY(!accepted(token));
    QCOMPARE(m_superusers->find(editor.id).error().code, ErrorCode::NotFound);
    QCOMPARE(m_superusers->remove(editor.id, kAdmin).error().code, ErrorCode::NotFound);
    auto count = m_superusers->count();
    QVERIFY(count.ok());
    QCOMPARE(*count, qint64(1));
    // The email is free again.
    QVERIFY(m_superusers->create(editor.email, kPassword, Auth::Role::Viewer, kAdmin).ok());
}

void TestSuperusers::changesAreAudited()
{
    createWithRole(QStringLiteral("owner"), Auth::Role::Owner);
    const Auth::AccountActor actor {QStringLiteral("superuser:abc"), Auth::Role::Owner, QStringLiteral("192.0.2.9")};
    auto admin = m_superusers->create(QStringLiteral("admin@example.com"), kPassword, Auth::Role::Admin, actor);
    QVERIFY(admin.ok());
    QVERIFY(m_superusers->update(admin->id, {{}, QByteArray("another password"), Auth::Role::Editor}, actor).ok());
    QVERIFY(m_superusers->update(admin->id, {QStringLiteral("ed@example.com"), {}, {}}, actor).ok());
    QVERIFY(m_superusers->update(admin->id, {}, actor).ok()); // no change, no entry
    QVERIFY(!m_superusers->update(admin->id, {{}, {}, Auth::Role::Owner}, kAdmin).ok()); // refused, no entry
    QVERIFY(m_superusers->remove(admin->id, actor).ok());

    const QList<AuditRow> rows = auditLog();
    QCOMPARE(rows.size(), 5);
    QCOMPARE(rows.at(0).action, QStringLiteral("superuser.create")); // the owner, by the local operator
    QCOMPARE(rows.at(0).actor, QStringLiteral("owner@example.com"));
    QCOMPARE(rows.at(0).address, QStringLiteral("local"));
    const auto view = [](const char *email, const char *role) {
        return QJsonObject {{QStringLiteral("email"), QLatin1String(email)},
                            {QStringLiteral("role"), QLatin1String(role)}};
    };
    const struct
    {
        const char *action;
        QJsonObject details;
    } expected[] = {
        {"superuser.create", {{QStringLiteral("after"), view("admin@example.com", "admin")}}},
        {"superuser.update",
         {{QStringLiteral("before"), view("admin@example.com", "admin")},
          {QStringLiteral("after"), view("admin@example.com", "editor")},
          {QStringLiteral("password"), QStringLiteral("changed")}}},
        {"superuser.update",
         {{QStringLiteral("before"), view("admin@example.com", "editor")},
          {QStringLiteral("after"), view("ed@example.com", "editor")}}},
        {"superuser.delete", {{QStringLiteral("before"), view("ed@example.com", "editor")}}},
    };
    for (int i = 0; i < 4; ++i) {
        const AuditRow &row = rows.at(i + 1);
        QCOMPARE(row.action, QString::fromLatin1(expected[i].action));
        QCOMPARE(row.target, QStringLiteral("_superusers/") + admin->id);
        QCOMPARE(row.details, expected[i].details);
        QCOMPARE(row.actor, QStringLiteral("superuser:abc"));
        QCOMPARE(row.address, QStringLiteral("192.0.2.9"));
        QCOMPARE(row.success, qint64(1));
    }
    QVERIFY(!QJsonDocument(rows.at(2).details).toJson().contains(admin->passwordHash.toUtf8()));
}

QTEST_GUILESS_MAIN(TestSuperusers)
#include "tst_superusers.moc"
