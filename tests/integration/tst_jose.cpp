// Issue 4: our tokens interoperate with an independent JWT library. A real server (system clock,
// 127.0.0.1:0) logs a superuser in over HTTP; the `jose` npm package (tests/integration/jose,
// installed by the jose_npm fixture) verifies the token with the key read from data.db, then signs
// look-alikes that copy its header and claims: unsecured (`alg: none`), a wrong key, the install
// secret without the account's suffix, a past `exp`, and a valid one. The server must refuse all but
// the last, on an admin route and on auth-refresh. The HMAC key is what Jwt::mac uses: the install
// secret (`_settings.jwt_secret`) followed by the account's `token_key`.
#include <QJsonDocument>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include "apifixture.h"
#include "store/sqlite.h"

using namespace Outpost;
using namespace Outpost::Testing;

namespace {

const QString kEmail = QStringLiteral("jose@example.com");
const QString kPassword = QStringLiteral("jose interop passphrase");
constexpr auto kB64 = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

struct Keys
{
    QByteArray secret;
    QByteArray keyId;
    QByteArray tokenKey;
};

// Through a connection of our own on data.db, as a verifier outside the server would have to.
std::optional<Keys> readKeys(const QString &dataDir, const QString &email, QString *error)
{
    auto db = Store::Database::open(dataDir + QStringLiteral("/data.db"), Store::Database::Mode::ReadOnly);
    if (!db) {
        *error = db.error().message;
        return std::nullopt;
    }
    Keys keys;
    auto settings = (*db)->prepare("SELECT key, value FROM _settings WHERE key IN ('jwt_secret', 'jwt_kid')");
    auto account = (*db)->prepare("SELECT token_key FROM _superusers WHERE email = ?");
    if (!settings || !account) {
        *error = QStringLiteral("prepare failed");
        return std::nullopt;
    }
    while (auto row = settings->step()) {
        if (!*row)
            break;
        (settings->text(0) == u"jwt_secret" ? keys.secret : keys.keyId) = settings->blob(1);
    }
    account->bind(1, email);
    if (auto row = account->step(); row && *row)
        keys.tokenKey = account->text(0).toUtf8();
    if (keys.secret.isEmpty() || keys.keyId.isEmpty() || keys.tokenKey.isEmpty()) {
        *error = QStringLiteral("jwt_secret, jwt_kid or the account's token_key is missing");
        return std::nullopt;
    }
    return keys;
}

} // namespace

class TstJose : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void joseVerifiesOurToken();
    void forgeries_data();
    void forgeries();

private:
    // Runs tokens.mjs beside the installed packages: its JSON output, or nothing and why.
    static std::optional<QJsonObject> runJose(const QProcessEnvironment &env, QString *error);

    TestServer m_server;
    Keys m_keys;
    QByteArray m_token;
    QJsonObject m_verified; // jose's {header, payload} of m_token
    QJsonObject m_forged; // name -> token
};

std::optional<QJsonObject> TstJose::runJose(const QProcessEnvironment &env, QString *error)
{
    const QString node = QStandardPaths::findExecutable(QStringLiteral("node"));
    const QString modules = QStringLiteral(OUTPOST_JOSE_NODE_DIR "/node_modules");
    if (node.isEmpty()) {
        *error = QStringLiteral("node is not installed (packaging/outpost-dev.sh installs it)");
        return std::nullopt;
    }
    if (!QFile::exists(modules + QStringLiteral("/jose/package.json"))) {
        *error = QStringLiteral("jose is not installed in %1: run `ctest -R jose_npm` (npm ci of "
                                "tests/integration/jose, which needs the npm registry)")
                     .arg(modules);
        return std::nullopt;
    }
    // Bare imports resolve from the script's directory: a copy of the script beside a link to the packages.
    QTemporaryDir dir;
    if (!QFile::copy(QStringLiteral(OUTPOST_JOSE_SOURCE_DIR "/tokens.mjs"), dir.filePath(QStringLiteral("tokens.mjs")))
        || !QFile::link(modules, dir.filePath(QStringLiteral("node_modules")))) {
        *error = QStringLiteral("cannot set up %1").arg(dir.path());
        return std::nullopt;
    }

    QProcess process;
    process.setProcessEnvironment(env);
    process.setWorkingDirectory(dir.path());
    process.start(node, {dir.filePath(QStringLiteral("tokens.mjs"))});
    if (!process.waitForFinished(60'000)) {
        process.kill();
        process.waitForFinished();
    }
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        *error = QStringLiteral("tokens.mjs failed (exit %1): %2")
                     .arg(process.exitCode())
                     .arg(QString::fromUtf8(process.readAllStandardError()));
        return std::nullopt;
    }
    return QJsonDocument::fromJson(process.readAllStandardOutput()).object();
}

void TstJose::initTestCase()
{
    QVERIFY2(m_server.start(), qPrintable(m_server.errorString()));
    QVERIFY2(m_server.createSuperuser(kEmail, kPassword.toUtf8()), qPrintable(m_server.errorString()));
    m_token = m_server.login(kEmail, kPassword);
    QVERIFY(!m_token.isEmpty());
    QString error;
    auto keys = readKeys(m_server.dataDir(), kEmail, &error);
    QVERIFY2(keys, qPrintable(error));
    m_keys = *keys;

    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("OUTPOST_TOKEN"), QString::fromLatin1(m_token));
    env.insert(QStringLiteral("OUTPOST_HMAC_KEY"),
               QString::fromLatin1(QByteArray(m_keys.secret + m_keys.tokenKey).toBase64(kB64)));
    env.insert(QStringLiteral("OUTPOST_SECRET"), QString::fromLatin1(m_keys.secret.toBase64(kB64)));
    env.insert(QStringLiteral("OUTPOST_KID"), QString::fromLatin1(m_keys.keyId));
    const auto out = runJose(env, &error);
    QVERIFY2(out, qPrintable(error));
    m_verified = out->value(QStringLiteral("verified")).toObject();
    m_forged = out->value(QStringLiteral("forged")).toObject();
    QVERIFY2(!m_verified.isEmpty() && !m_forged.isEmpty(), "tokens.mjs printed no result");
}

void TstJose::joseVerifiesOurToken()
{
    // tokens.mjs checked alg, typ, kid, iat and exp already (or failed); here what it saw matches.
    const QJsonObject header = m_verified.value(QStringLiteral("header")).toObject();
    const QJsonObject payload = m_verified.value(QStringLiteral("payload")).toObject();
    QCOMPARE(header.value(QStringLiteral("alg")).toString(), QStringLiteral("HS256"));
    QCOMPARE(header.value(QStringLiteral("kid")).toString().toLatin1(), m_keys.keyId);
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const qint64 iat = payload.value(QStringLiteral("iat")).toInteger();
    const qint64 exp = payload.value(QStringLiteral("exp")).toInteger();
    QVERIFY2(iat <= now + 1 && iat > now - 120, qPrintable(QString::number(iat)));
    QVERIFY2(exp > now, qPrintable(QString::number(exp)));

    // And our own reading of the token agrees with jose's.
    const QList<QByteArray> parts = m_token.split('.');
    QCOMPARE(parts.size(), 3);
    const auto decoded = QByteArray::fromBase64Encoding(parts.at(1), QByteArray::Base64UrlEncoding);
    QVERIFY(decoded);
    QCOMPARE(QJsonDocument::fromJson(*decoded).object(), payload);
}

void TstJose::forgeries_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("refresh"); // POST auth-refresh, else GET /api/collections
    QTest::addColumn<int>("status");
    const struct
    {
        const char *name;
        int status;
    } tokens[] = {{"unsecured", 401},  {"unsecuredWithKid", 401}, {"wrongKey", 401},
                  {"secretOnly", 401}, {"expired", 401},          {"valid", 200},
                  {"issued", 200}};
    for (const auto &t : tokens) {
        QTest::addRow("%s, admin route", t.name) << QString::fromLatin1(t.name) << false << t.status;
        QTest::addRow("%s, auth-refresh", t.name) << QString::fromLatin1(t.name) << true << t.status;
    }
}

void TstJose::forgeries()
{
    QFETCH(QString, name);
    QFETCH(bool, refresh);
    QFETCH(int, status);
    const QByteArray token = name == u"issued" ? m_token : m_forged.value(name).toString().toLatin1();
    QVERIFY2(!token.isEmpty(), qPrintable(QStringLiteral("tokens.mjs made no '%1' token").arg(name)));

    const ApiClient client(m_server, "Bearer " + token);
    const HttpResponse r
        = refresh ? client.send("POST", "/api/collections/_superusers/auth-refresh") : client.get("/api/collections");
    if (status == 200) {
        QVERIFY2(r.status == 200, summary(r).constData());
        if (refresh)
            QVERIFY(!r.json().value(QStringLiteral("token")).toString().isEmpty());
    } else {
        QVERIFY2(isProblem(r, status), summary(r).constData());
    }
}

QTEST_GUILESS_MAIN(TstJose)
#include "tst_jose.moc"
