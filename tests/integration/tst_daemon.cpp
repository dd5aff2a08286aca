// The real `outpostd` binary, driven like an operator or a service manager would: commands, exit
// codes, the one-line error contract, configuration sources, and signals.
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>
#include <csignal>
#include <memory>

#include "daemon.h"
#include "testserver.h"

using namespace Outpost::Testing;
using namespace Qt::StringLiterals;

namespace {

const QString kEmail = QStringLiteral("a@b.co");
const QString kPassword = QStringLiteral("correct horse battery");

// True while one of the daemon's password-pool threads is on a CPU (hashing a password).
bool isHashing(qint64 daemonPid)
{
    const QString tasks = QStringLiteral("/proc/%1/task").arg(daemonPid);
    for (const QString &tid : QDir(tasks).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile comm(tasks + u'/' + tid + QStringLiteral("/comm"));
        QFile stat(tasks + u'/' + tid + QStringLiteral("/stat"));
        if (!comm.open(QIODevice::ReadOnly) || !comm.readAll().startsWith("outpost-passwor")
            || !stat.open(QIODevice::ReadOnly))
            continue;
        const QByteArray line = stat.readAll();
        const qsizetype close = line.lastIndexOf(')'); // "tid (comm) S ..."
        if (close > 0 && close + 2 < line.size() && line[close + 2] == 'R')
            return true;
    }
    return false;
}

// What `outpostd apikey create` or `rotate` printed: "Key ID (NAME): SCOPES", the secret alone on
// the next line, then a reminder.
struct CliKey
{
    QString id;
    QByteArray secret;
};

CliKey issuedKey(const Run &r)
{
    CliKey key;
    const QList<QByteArray> lines = r.out.split('\n');
    if (!lines.isEmpty() && lines.first().startsWith("Key "))
        key.id = QString::fromUtf8(lines.first().split(' ').value(1));
    for (const QByteArray &line : lines) {
        if (line.startsWith("opk_"))
            key.secret = line.trimmed();
    }
    return key;
}

// One request on a new connection to the daemon on `port`.
HttpResponse request(quint16 port, const QByteArray &raw)
{
    RawClient client;
    if (!client.connectTo(port) || !client.send(raw))
        return {};
    return client.readResponse();
}

HttpResponse withKey(quint16 port, QByteArrayView method, const QByteArray &secret)
{
    return request(port,
                   httpRequest(method, "/api/collections/notes/records", method == "POST" ? "{}" : "",
                               {{QByteArray("X-API-Key"), secret}, {"Content-Type", "application/json"}}));
}

} // namespace

class TestDaemon : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void servesAndStopsOnSignal_data();
    void servesAndStopsOnSignal();
    void sigtermFinishesRequestInFlight();
    void superuserCreateReadsPasswordFromStdin();
    void superuserCreateReadsPasswordFile();
    void superuserCreateRejectsBadInput_data();
    void superuserCreateRejectsBadInput();
    void badConfigurationIsOneLineAndExit2_data();
    void badConfigurationIsOneLineAndExit2();
    void configShowsWhereEachValueComesFrom_data();
    void configShowsWhereEachValueComesFrom();
    void secondServerOnSameDataDirFails();
    void portInUseFails();
    void apiKeyCommandsManageKeys();
    void apiKeyChangesReachRunningServer();
    void apiKeyCommandsRejectBadUsage_data();
    void apiKeyCommandsRejectBadUsage();
    void superuserCommandsManageAccounts();
    void superuserCommandsRejectBadUsage_data();
    void superuserCommandsRejectBadUsage();

private:
    Run run(const QStringList &args, const QByteArray &input = {}, const QProcessEnvironment &extraEnv = {});
    // `outpostd apikey ARGS --data-dir DIR`.
    Run apikey(const QStringList &args) { return run(QStringList {QStringLiteral("apikey")} + args + dataDirArgs()); }
    // `outpostd superuser ARGS --data-dir DIR`, with `password` on stdin.
    Run superuser(const QStringList &args, const QByteArray &password = {})
    {
        return run(QStringList {QStringLiteral("superuser")} + args + dataDirArgs(), password);
    }
    // `superuser list`: "EMAIL ROLE" per account, oldest first (empty with a warning on failure).
    QStringList listedSuperusers();
    // `apikey list`: the row of key `id` (empty when it is not listed) and the number of rows.
    QString listedKey(const QString &id, int *rows = nullptr);
    // Creates the superuser kEmail, starts `d` and creates the collection `notes` as that superuser.
    bool serveWithCollection(Daemon &d);
    QStringList dataDirArgs() const { return {QStringLiteral("--data-dir"), m_dataDir}; }
    std::unique_ptr<Daemon> daemon() { return std::make_unique<Daemon>(m_program, m_env); }

    QString m_program;
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_dataDir;
    QProcessEnvironment m_env;
};

void TestDaemon::initTestCase()
{
    ::signal(SIGPIPE, SIG_IGN);
    m_program = outpostdProgram();
    QVERIFY2(QFileInfo(m_program).isExecutable(), qPrintable(m_program + QStringLiteral(" is not executable")));
}

void TestDaemon::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_dataDir = m_dir->filePath(QStringLiteral("data"));
    m_env = isolatedEnvironment(*m_dir);
}

void TestDaemon::cleanup()
{
    m_dir.reset();
}

Run TestDaemon::run(const QStringList &args, const QByteArray &input, const QProcessEnvironment &extraEnv)
{
    QProcessEnvironment env = m_env;
    env.insert(extraEnv);
    return runOutpostd(m_program, env, args, input);
}

void TestDaemon::servesAndStopsOnSignal_data()
{
    QTest::addColumn<int>("signal");
    QTest::newRow("SIGTERM") << int(SIGTERM);
    QTest::newRow("SIGINT") << int(SIGINT);
}

void TestDaemon::servesAndStopsOnSignal()
{
    QFETCH(int, signal);
    auto d = daemon();
    QVERIFY2(d->start(serveArguments(m_dataDir)), d->out().constData());
    QCOMPARE(d->threads(), 2);
    QVERIFY(d->out().contains("No superuser yet"));
    QVERIFY(QFileInfo::exists(m_dataDir + QStringLiteral("/data.db")));

    RawClient client;
    QVERIFY(client.connectTo(d->port()));
    QVERIFY(client.send(httpRequest("GET", "/api/health")));
    const HttpResponse health = client.readResponse();
    QCOMPARE(health.status, 200);
    QCOMPARE(health.json().value(QStringLiteral("status")).toString(), QStringLiteral("ok"));

    QVERIFY(d->stop(signal));
    QCOMPARE(d->process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(d->process().exitCode(), 0);
    QVERIFY(d->out().contains("Stopping: finishing in-flight requests..."));
    QVERIFY(d->out().trimmed().endsWith("Stopped cleanly."));
    QVERIFY(client.waitForClosed(3000)); // the idle keep-alive connection was closed
    RawClient late(1000);
    QVERIFY(!late.connectTo(d->port()));
}

void TestDaemon::sigtermFinishesRequestInFlight()
{
    const Run created
        = run({QStringLiteral("superuser"), QStringLiteral("create"), kEmail, QStringLiteral("--data-dir"), m_dataDir},
              kPassword.toUtf8() + '\n');
    QCOMPARE(created.exitCode, 0);
    auto d = daemon();
    QVERIFY2(d->start(serveArguments(m_dataDir)), d->out().constData());
    RawClient client;
    QVERIFY(client.connectTo(d->port()));
    QVERIFY(client.send(httpRequest("GET", "/api/health"))); // the connection is accepted and live
    QCOMPARE(client.readResponse().status, 200);

    // Send logins until one is caught hashing (the pool thread is on a CPU): that one is in flight
    // when SIGTERM arrives. Bounded by attempts and time.
    bool caught = false;
    for (int attempt = 0; attempt < 5 && !caught; ++attempt) {
        QVERIFY(client.send(loginRequest(kEmail, kPassword)));
        const QDeadlineTimer deadline(5000);
        while (!caught && !client.poll() && !deadline.hasExpired()) {
            caught = isHashing(d->process().processId());
            if (!caught)
                QThread::usleep(200);
        }
        if (!caught) {
            QCOMPARE(client.readResponse().status, 200); // answered before we could catch it; again
        }
    }
    QVERIFY2(caught, "could not catch a login while it was hashing");
    QVERIFY(d->signal(SIGTERM));
    const HttpResponse r = client.readResponse();
    QCOMPARE(r.status, 200);
    QVERIFY(!r.json().value(QStringLiteral("token")).toString().isEmpty());
    QVERIFY(d->waitForExit());
    QCOMPARE(d->process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(d->process().exitCode(), 0);
    QVERIFY(d->out().contains("Stopped cleanly."));
}

void TestDaemon::superuserCreateReadsPasswordFromStdin()
{
    const Run created
        = run({QStringLiteral("superuser"), QStringLiteral("create"), kEmail, QStringLiteral("--data-dir"), m_dataDir},
              kPassword.toUtf8() + '\n');
    QVERIFY(created.finished);
    QCOMPARE(created.exitCode, 0);
    QVERIFY2(created.out.contains("Created superuser a@b.co"), created.out.constData());
    QVERIFY(created.err.isEmpty());

    auto d = daemon();
    QVERIFY(d->start(serveArguments(m_dataDir)));
    QVERIFY(!d->out().contains("No superuser yet"));
    RawClient client;
    QVERIFY(client.connectTo(d->port()));
    QVERIFY(client.send(loginRequest(kEmail, kPassword)));
    const HttpResponse login = client.readResponse();
    QCOMPARE(login.status, 200);
    QCOMPARE(login.json().value(QStringLiteral("record")).toObject().value(QStringLiteral("email")).toString(), kEmail);
    // The newline was not part of the password.
    QVERIFY(client.send(loginRequest(kEmail, kPassword + u'\n')));
    QCOMPARE(client.readResponse().status, 400);
    QVERIFY(d->stop());
    QCOMPARE(d->process().exitCode(), 0);
}

void TestDaemon::superuserCreateReadsPasswordFile()
{
    const QString file = m_dir->filePath(QStringLiteral("password.txt"));
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(kPassword.toUtf8() + '\n');
    f.close();
    const Run created = run({QStringLiteral("superuser"), QStringLiteral("create"), QStringLiteral("file@example.com"),
                             QStringLiteral("--data-dir"), m_dataDir, QStringLiteral("--password-file"), file});
    QCOMPARE(created.exitCode, 0);
    QVERIFY(created.out.contains("Created superuser file@example.com"));

    auto d = daemon();
    QVERIFY(d->start(serveArguments(m_dataDir)));
    RawClient client;
    QVERIFY(client.connectTo(d->port()));
    QVERIFY(client.send(loginRequest(QStringLiteral("file@example.com"), kPassword)));
    QCOMPARE(client.readResponse().status, 200);
    QVERIFY(d->stop());
}

void TestDaemon::superuserCreateRejectsBadInput_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QByteArray>("password");
    QTest::addColumn<QByteArray>("mentions");
    const QStringList create {QStringLiteral("superuser"), QStringLiteral("create")};
    QTest::newRow("invalid email") << create + QStringList {QStringLiteral("not-an-email")}
                                   << QByteArray("longenough1\n") << QByteArray("email");
    QTest::newRow("short password") << create + QStringList {kEmail} << QByteArray("short\n") << QByteArray("password");
    QTest::newRow("no email") << create << QByteArray("longenough1\n") << QByteArray("EMAIL");
    QTest::newRow("two emails") << create + QStringList {kEmail, QStringLiteral("c@d.co")}
                                << QByteArray("longenough1\n") << QByteArray("EMAIL");
    QTest::newRow("missing password file")
        << create + QStringList {kEmail, QStringLiteral("--password-file"), QStringLiteral("/nonexistent/pw")}
        << QByteArray() << QByteArray("password-file");
    QTest::newRow("unknown subcommand") << QStringList {QStringLiteral("superuser"), QStringLiteral("frob")}
                                        << QByteArray() << QByteArray("create");
}

void TestDaemon::superuserCreateRejectsBadInput()
{
    QFETCH(QStringList, args);
    QFETCH(QByteArray, password);
    QFETCH(QByteArray, mentions);
    const Run r = run(args + QStringList {QStringLiteral("--data-dir"), m_dataDir}, password);
    QVERIFY(r.finished);
    QCOMPARE(r.status, QProcess::NormalExit);
    QCOMPARE(r.exitCode, 2);
    QCOMPARE(r.errLines().size(), 1);
    QVERIFY2(r.err.contains(mentions), r.err.constData());
    QVERIFY(!r.out.contains("Created"));
}

void TestDaemon::badConfigurationIsOneLineAndExit2_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QByteArray>("mentions");
    QTest::newRow("listen nonsense") << QStringList {QStringLiteral("--listen"), QStringLiteral("nonsense")}
                                     << QByteArray("listen");
    QTest::newRow("listen bad port") << QStringList {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:99999")}
                                     << QByteArray("listen");
    QTest::newRow("listen host name") << QStringList {QStringLiteral("--listen"), QStringLiteral("example.com:80")}
                                      << QByteArray("listen");
    QTest::newRow("threads 0") << QStringList {QStringLiteral("--threads"), QStringLiteral("0")}
                               << QByteArray("threads");
    QTest::newRow("threads text") << QStringList {QStringLiteral("--threads"), QStringLiteral("many")}
                                  << QByteArray("threads");
    QTest::newRow("durability") << QStringList {QStringLiteral("--durability"), QStringLiteral("maybe")}
                                << QByteArray("durability");
    QTest::newRow("unknown option") << QStringList {QStringLiteral("--bogus")} << QByteArray("--bogus");
    QTest::newRow("missing value") << QStringList {QStringLiteral("--threads")} << QByteArray("--threads");
    QTest::newRow("stray argument") << QStringList {QStringLiteral("extra")} << QByteArray("extra");
    QTest::newRow("non-loopback without TLS") << QStringList {QStringLiteral("--listen"), QStringLiteral("0.0.0.0:0")}
                                              << QByteArray("--allow-insecure-remote");
    QTest::newRow("TLS cert without key")
        << QStringList {QStringLiteral("--tls-cert"), QCoreApplication::applicationFilePath()} << QByteArray("tls_key");
    QTest::newRow("missing config file") << QStringList {QStringLiteral("--config"),
                                                         QStringLiteral("/nonexistent/outpost.conf")}
                                         << QByteArray("/nonexistent/outpost.conf");
}

void TestDaemon::badConfigurationIsOneLineAndExit2()
{
    QFETCH(QStringList, args);
    QFETCH(QByteArray, mentions);
    const Run r = run(QStringList {QStringLiteral("serve"), QStringLiteral("--data-dir"), m_dataDir} + args);
    QVERIFY2(r.finished, "outpostd serve kept running with a bad configuration");
    QCOMPARE(r.status, QProcess::NormalExit);
    QCOMPARE(r.exitCode, 2);
    QCOMPARE(r.errLines().size(), 1);
    QVERIFY2(r.err.contains(mentions), r.err.constData());
    QVERIFY(!r.out.contains("API:"));
    QVERIFY(!QFileInfo::exists(m_dataDir + QStringLiteral("/data.db"))); // refused before touching data
}

void TestDaemon::configShowsWhereEachValueComesFrom_data()
{
    QTest::addColumn<bool>("file");
    QTest::addColumn<bool>("env");
    QTest::addColumn<bool>("flag");
    QTest::addColumn<QString>("expected"); // the `threads` line; %1 is the config file
    QTest::newRow("flag wins") << true << true << true << QStringLiteral("threads = 5    # command line (--threads)");
    QTest::newRow("then environment") << true << true << false
                                      << QStringLiteral("threads = 4    # environment (OUTPOST_THREADS)");
    QTest::newRow("then file") << true << false << false << QStringLiteral("threads = 3    # config file (%1:2)");
    QTest::newRow("then default")
        << false << false << false
        << QStringLiteral("threads = %1    # default").arg(qBound(1, QThread::idealThreadCount(), 64));
}

void TestDaemon::configShowsWhereEachValueComesFrom()
{
    QFETCH(bool, file);
    QFETCH(bool, env);
    QFETCH(bool, flag);
    QFETCH(QString, expected);
    const QString configFile = m_dir->filePath(QStringLiteral("outpost.conf"));
    QFile f(configFile);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("# written by tst_daemon\nthreads = 3\nlisten = \"127.0.0.1:9999\"\n");
    f.close();

    QStringList args {QStringLiteral("config"), QStringLiteral("--data-dir"), m_dataDir};
    if (file)
        args << QStringLiteral("--config") << configFile;
    if (flag)
        args << QStringLiteral("--threads") << QStringLiteral("5");
    QProcessEnvironment extra;
    if (env)
        extra.insert(QStringLiteral("OUTPOST_THREADS"), QStringLiteral("4"));
    const Run r = run(args, {}, extra);
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.err.isEmpty());
    const QStringList lines = QString::fromUtf8(r.out).split(u'\n', Qt::SkipEmptyParts);
    const QString threads = lines.filter(QRegularExpression(QStringLiteral("^threads = "))).value(0);
    QCOMPARE(threads, expected.contains(u"%1") ? expected.arg(configFile) : expected);
    QVERIFY(lines.contains(QStringLiteral("data_dir = %1    # command line (--data-dir)").arg(m_dataDir)));
    const QString listen = file ? QStringLiteral("listen = 127.0.0.1:9999    # config file (%1:3)").arg(configFile)
                                : QStringLiteral("listen = 127.0.0.1:8090    # default");
    QVERIFY2(lines.contains(listen), r.out.constData());
    QVERIFY(lines.contains(QStringLiteral("durability = full    # default")));
}

void TestDaemon::secondServerOnSameDataDirFails()
{
    auto first = daemon();
    QVERIFY(first->start(serveArguments(m_dataDir)));
    auto second = daemon();
    QVERIFY(!second->start(serveArguments(m_dataDir)));
    QVERIFY(second->waitForExit());
    QCOMPARE(second->process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(second->process().exitCode(), 1);
    const QByteArray err = second->err();
    QCOMPARE(err.trimmed().split('\n').size(), 1);
    QVERIFY2(err.contains("in use by another running Outpost server"), err.constData());
    QVERIFY(err.contains(QFile::encodeName(m_dataDir)));

    // The first one is unaffected.
    RawClient client;
    QVERIFY(client.connectTo(first->port()));
    QVERIFY(client.send(httpRequest("GET", "/api/health")));
    QCOMPARE(client.readResponse().status, 200);
    QVERIFY(first->stop());
    QCOMPARE(first->process().exitCode(), 0);
}

void TestDaemon::portInUseFails()
{
    auto first = daemon();
    QVERIFY(first->start(serveArguments(m_dataDir)));
    QTcpServer other;
    QVERIFY(other.listen(QHostAddress::LocalHost, 0));

    for (const quint16 port : {first->port(), other.serverPort()}) {
        auto second = daemon();
        QStringList args = serveArguments(m_dir->filePath(QStringLiteral("data-%1").arg(port)));
        args.last() = QStringLiteral("1"); // "--threads 1"
        args[3] = QStringLiteral("127.0.0.1:%1").arg(port);
        QVERIFY(!second->start(args));
        QVERIFY(second->waitForExit());
        QCOMPARE(second->process().exitCode(), 1);
        const QByteArray err = second->err();
        QCOMPARE(err.trimmed().split('\n').size(), 1);
        QVERIFY2(err.contains("already in use"), err.constData());
    }
    QVERIFY(first->stop());
    QCOMPARE(first->process().exitCode(), 0);
}

QString TestDaemon::listedKey(const QString &id, int *rows)
{
    const Run r = apikey({QStringLiteral("list")});
    if (r.exitCode != 0) {
        qWarning("apikey list failed: %s", r.err.constData());
        return {};
    }
    const QStringList lines = QString::fromUtf8(r.out).split(u'\n', Qt::SkipEmptyParts);
    if (rows)
        *rows = int(lines.size()) - 1; // under the header
    if (lines.value(0).split(u' ', Qt::SkipEmptyParts).value(0) != u"ID")
        qWarning("apikey list printed no header: %s", r.out.constData());
    return lines.filter(QRegularExpression(u'^' + QRegularExpression::escape(id) + u' ')).value(0);
}

bool TestDaemon::serveWithCollection(Daemon &d)
{
    const Run created = run(QStringList {QStringLiteral("superuser"), QStringLiteral("create"), kEmail} + dataDirArgs(),
                            kPassword.toUtf8() + '\n');
    if (created.exitCode != 0 || !d.start(serveArguments(m_dataDir))) {
        qWarning("could not set up the server: %s %s", created.err.constData(), d.out().constData());
        return false;
    }
    const QByteArray token
        = request(d.port(), loginRequest(kEmail, kPassword)).json().value(QStringLiteral("token")).toString().toUtf8();
    const QJsonObject collection {{QStringLiteral("name"), QStringLiteral("notes")},
                                  {QStringLiteral("fields"),
                                   QJsonArray {QJsonObject {{QStringLiteral("name"), QStringLiteral("title")},
                                                            {QStringLiteral("type"), QStringLiteral("text")}}}}};
    const HttpResponse r
        = request(d.port(), jsonRequest("/api/collections", collection, {{"Authorization", "Bearer " + token}}));
    if (r.status != 200)
        qWarning("creating the collection failed: %d %s", r.status, r.body.constData());
    return r.status == 200;
}

void TestDaemon::apiKeyCommandsManageKeys()
{
    const Run created = apikey({QStringLiteral("create"), QStringLiteral("--name"), QStringLiteral("ci"),
                                QStringLiteral("--scopes"), QStringLiteral("records:read")});
    QVERIFY(created.finished);
    QCOMPARE(created.exitCode, 0);
    QVERIFY2(created.err.isEmpty(), created.err.constData());
    const CliKey key = issuedKey(created);
    QVERIFY2(key.id.size() == 15, created.out.constData());
    QVERIFY2(
        QRegularExpression(QStringLiteral("^opk_[0-9A-Za-z]{38}$")).match(QString::fromLatin1(key.secret)).hasMatch(),
        created.out.constData());
    QVERIFY(created.out.contains("(ci): records:read"));

    int rows = 0;
    QString row = listedKey(key.id, &rows);
    QCOMPARE(rows, 1);
    QStringList columns = row.split(u' ', Qt::SkipEmptyParts);
    QCOMPARE(columns.value(1), QString::fromLatin1(key.secret.left(12))); // the prefix, never the secret
    QCOMPARE(columns.value(2), QStringLiteral("ci"));
    QCOMPARE(columns.value(3), QStringLiteral("active"));
    QCOMPARE(columns.value(4), QStringLiteral("never"));
    QCOMPARE(columns.last(), QStringLiteral("records:read"));
    QVERIFY(!row.contains(QString::fromLatin1(key.secret)));

    // The server accepts the secret, within its scopes; its usage is written when it stops.
    {
        Daemon d(m_program, m_env);
        QVERIFY(serveWithCollection(d));
        QCOMPARE(withKey(d.port(), "GET", key.secret).status, 200);
        QCOMPARE(withKey(d.port(), "POST", key.secret).status, 403);
        QVERIFY(d.stop());
        QCOMPARE(d.process().exitCode(), 0);
    }
    columns = listedKey(key.id).split(u' ', Qt::SkipEmptyParts);
    QCOMPARE(columns.value(3), QStringLiteral("active"));
    QVERIFY2(columns.value(4) != u"never", qPrintable(columns.join(u' '))); // "LAST USED": date and time

    const Run revoked = apikey({QStringLiteral("revoke"), key.id});
    QCOMPARE(revoked.exitCode, 0);
    QVERIFY2(revoked.out.contains(QByteArray("Revoked key " + key.id.toUtf8() + " (ci)")), revoked.out.constData());
    QCOMPARE(listedKey(key.id).split(u' ', Qt::SkipEmptyParts).value(3), QStringLiteral("revoked"));
    QCOMPARE(apikey({QStringLiteral("revoke"), key.id}).exitCode, 0); // revoking twice is not an error

    const Run rotated = apikey({QStringLiteral("rotate"), key.id, QStringLiteral("--grace"), QStringLiteral("60")});
    QVERIFY(rotated.finished);
    QVERIFY(rotated.exitCode != 0);
    QCOMPARE(rotated.errLines().size(), 1);
    QVERIFY2(rotated.err.contains("revoked"), rotated.err.constData());
    QVERIFY(!rotated.out.contains("opk_"));

    Daemon again(m_program, m_env);
    QVERIFY(again.start(serveArguments(m_dataDir)));
    const HttpResponse refused = withKey(again.port(), "GET", key.secret);
    QCOMPARE(refused.status, 401);
    QVERIFY2(refused.body.contains("revoked"), refused.body.constData());
    QVERIFY(again.stop());
}

void TestDaemon::apiKeyChangesReachRunningServer()
{
    Daemon d(m_program, m_env);
    QVERIFY(serveWithCollection(d));
    // The README's promise: changes made from the shell reach the running server within about a
    // second. Polled, up to five seconds.
    const CliKey key = issuedKey(apikey({QStringLiteral("create"), QStringLiteral("--name"), QStringLiteral("live"),
                                         QStringLiteral("--scopes"), QStringLiteral("records:read:notes")}));
    QVERIFY(!key.secret.isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(withKey(d.port(), "GET", key.secret).status, 200, 5000);

    const Run rotated = apikey({QStringLiteral("rotate"), key.id});
    QCOMPARE(rotated.exitCode, 0);
    const CliKey fresh = issuedKey(rotated);
    QCOMPARE(fresh.id, key.id);
    QVERIFY(fresh.secret != key.secret);
    QTRY_COMPARE_WITH_TIMEOUT(withKey(d.port(), "GET", fresh.secret).status, 200, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(withKey(d.port(), "GET", key.secret).status, 401, 5000);

    QCOMPARE(apikey({QStringLiteral("revoke"), key.id}).exitCode, 0);
    QTRY_COMPARE_WITH_TIMEOUT(withKey(d.port(), "GET", fresh.secret).status, 401, 5000);
    QVERIFY(withKey(d.port(), "GET", fresh.secret).body.contains("revoked"));
    QVERIFY(d.stop());
    QCOMPARE(d.process().exitCode(), 0);
    // The server's own writes at shutdown (usage) did not undo the revocation.
    QCOMPARE(listedKey(key.id).split(u' ', Qt::SkipEmptyParts).value(3), QStringLiteral("revoked"));
}

void TestDaemon::apiKeyCommandsRejectBadUsage_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QByteArray>("mentions");
    const auto args = [](const char *text) { return QString::fromLatin1(text).split(u' ', Qt::SkipEmptyParts); };
    QTest::newRow("create without --name") << args("create --scopes records:read") << QByteArray("name");
    QTest::newRow("create without --scopes") << args("create --name ci") << QByteArray("scope");
    QTest::newRow("unknown scope") << args("create --name ci --scopes records:erase") << QByteArray("records:erase");
    QTest::newRow("bad CIDR") << args("create --name ci --scopes records:read --cidrs 10.0.0.0/33")
                              << QByteArray("10.0.0.0/33");
    QTest::newRow("expiry not a date") << args("create --name ci --scopes records:read --expires someday")
                                       << QByteArray("--expires");
    QTest::newRow("expiry in the past") << args("create --name ci --scopes records:read --expires 2001-01-01")
                                        << QByteArray("future");
    QTest::newRow("unknown action") << args("frob") << QByteArray("expected");
    QTest::newRow("no action") << QStringList() << QByteArray("expected");
    QTest::newRow("revoke without id") << args("revoke") << QByteArray("expected");
    QTest::newRow("rotate without id") << args("rotate") << QByteArray("expected");
    QTest::newRow("list with an argument") << args("list extra") << QByteArray("expected");
    QTest::newRow("unknown option") << args("list --bogus") << QByteArray("--bogus");
    QTest::newRow("revoke unknown id") << args("revoke nosuchkey000000") << QByteArray("does not exist");
    QTest::newRow("rotate unknown id") << args("rotate nosuchkey000000") << QByteArray("does not exist");
    QTest::newRow("negative grace") << args("rotate nosuchkey000000 --grace -5") << QByteArray("--grace");
    QTest::newRow("grace not a number") << args("rotate nosuchkey000000 --grace soon") << QByteArray("--grace");
}

void TestDaemon::apiKeyCommandsRejectBadUsage()
{
    QFETCH(QStringList, args);
    QFETCH(QByteArray, mentions);
    const Run r = apikey(args);
    QVERIFY(r.finished);
    QCOMPARE(r.status, QProcess::NormalExit);
    QCOMPARE(r.exitCode, 2);
    QCOMPARE(r.errLines().size(), 1);
    QVERIFY2(r.err.startsWith("outpostd"), r.err.constData());
    QVERIFY2(r.err.contains(mentions), r.err.constData());
    QVERIFY(!r.out.contains("opk_"));
    int rows = -1;
    listedKey({}, &rows);
    QCOMPARE(rows, 0); // nothing was created
}

QStringList TestDaemon::listedSuperusers()
{
    const Run r = superuser({QStringLiteral("list")});
    if (r.exitCode != 0 || !r.err.isEmpty()) {
        qWarning("superuser list failed: %s", r.err.constData());
        return {};
    }
    QStringList rows;
    const QStringList lines = QString::fromUtf8(r.out).split(u'\n', Qt::SkipEmptyParts);
    if (lines.value(0).split(u' ', Qt::SkipEmptyParts) != QStringList({u"ID"_s, u"ROLE"_s, u"CREATED"_s, u"EMAIL"_s}))
        qWarning("superuser list printed no header: %s", r.out.constData());
    for (const QString &line : lines.mid(1)) {
        const QStringList columns = line.split(u' ', Qt::SkipEmptyParts); // id, role, date, time, email
        rows << columns.value(4) + u' ' + columns.value(1);
    }
    return rows;
}

void TestDaemon::superuserCommandsManageAccounts()
{
    QCOMPARE(superuser({QStringLiteral("create"), kEmail}, kPassword.toUtf8() + '\n').exitCode, 0);
    const QString editor = QStringLiteral("e@b.co");
    QCOMPARE(superuser({QStringLiteral("create"), editor, QStringLiteral("--role"), QStringLiteral("editor")},
                       kPassword.toUtf8() + '\n')
                 .exitCode,
             0);
    QCOMPARE(listedSuperusers(), QStringList({kEmail + u" owner"_s, editor + u" editor"_s}));

    // A role change reaches a running server at once: the account's old token stops working.
    auto d = daemon();
    QVERIFY(d->start(serveArguments(m_dataDir)));
    const QByteArray token
        = request(d->port(), loginRequest(editor, kPassword)).json().value(u"token").toString().toUtf8();
    QVERIFY(!token.isEmpty());
    const QByteArray audit = httpRequest("GET", "/api/logs/audit", {}, {{"Authorization", "Bearer " + token}});
    QCOMPARE(request(d->port(), audit).status, 200);
    const Run promoted = superuser({QStringLiteral("set-role"), editor, QStringLiteral("admin")});
    QCOMPARE(promoted.exitCode, 0);
    QVERIFY2(promoted.out.contains("e@b.co is now admin (was editor"), promoted.out.constData());
    QCOMPARE(request(d->port(), audit).status, 401);
    QVERIFY(d->stop());
    QCOMPARE(listedSuperusers(), QStringList({kEmail + u" owner"_s, editor + u" admin"_s}));

    // The last owner stays: one line, exit 1, nothing changed.
    for (const QStringList &args : {QStringList {QStringLiteral("set-role"), kEmail, QStringLiteral("viewer")},
                                    QStringList {QStringLiteral("delete"), kEmail}}) {
        const Run refused = superuser(args);
        QCOMPARE(refused.exitCode, 1);
        QCOMPARE(refused.errLines().size(), 1);
        QVERIFY2(refused.err.contains("last owner"), refused.err.constData());
    }
    QCOMPARE(listedSuperusers(), QStringList({kEmail + u" owner"_s, editor + u" admin"_s}));

    // With a second owner it may go.
    QCOMPARE(superuser({QStringLiteral("set-role"), editor, QStringLiteral("owner")}).exitCode, 0);
    const Run deleted = superuser({QStringLiteral("delete"), kEmail});
    QCOMPARE(deleted.exitCode, 0);
    QVERIFY2(deleted.out.contains("Deleted superuser a@b.co"), deleted.out.constData());
    QCOMPARE(listedSuperusers(), QStringList({editor + u" owner"_s}));
}

void TestDaemon::superuserCommandsRejectBadUsage_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QByteArray>("mentions");
    const auto args = [](const char *text) { return QString::fromLatin1(text).split(u' ', Qt::SkipEmptyParts); };
    QTest::newRow("list with an argument") << args("list extra") << QByteArray("expected");
    QTest::newRow("set-role without a role") << args("set-role a@b.co") << QByteArray("expected");
    QTest::newRow("set-role to an unknown role") << args("set-role a@b.co root") << QByteArray("ROLE");
    QTest::newRow("delete without an email") << args("delete") << QByteArray("expected");
    QTest::newRow("delete two") << args("delete a@b.co c@d.co") << QByteArray("expected");
    QTest::newRow("delete an unknown account") << args("delete ghost@b.co") << QByteArray("ghost@b.co");
    QTest::newRow("set-role of an unknown account") << args("set-role ghost@b.co admin") << QByteArray("ghost@b.co");
    QTest::newRow("unknown option") << args("list --bogus") << QByteArray("--bogus");
}

void TestDaemon::superuserCommandsRejectBadUsage()
{
    QFETCH(QStringList, args);
    QFETCH(QByteArray, mentions);
    QCOMPARE(superuser({QStringLiteral("create"), kEmail}, kPassword.toUtf8() + '\n').exitCode, 0);
    const Run r = superuser(args);
    QVERIFY(r.finished);
    QCOMPARE(r.status, QProcess::NormalExit);
    QCOMPARE(r.exitCode, 2);
    QCOMPARE(r.errLines().size(), 1);
    QVERIFY2(r.err.startsWith("outpostd"), r.err.constData());
    QVERIFY2(r.err.contains(mentions), r.err.constData());
    QCOMPARE(listedSuperusers(), QStringList({kEmail + u" owner"_s})); // nothing changed
}

QTEST_GUILESS_MAIN(TestDaemon)
#include "tst_daemon.moc"
