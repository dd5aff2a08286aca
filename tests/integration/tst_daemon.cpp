// The real `outpostd` binary, driven like an operator or a service manager would: commands, exit
// codes, the one-line error contract, configuration sources, and signals.
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
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

namespace {

const QString kEmail = QStringLiteral("a@b.co");
const QString kPassword = QStringLiteral("correct horse battery");

// True while one of the daemon's blocking-pool threads is on a CPU (hashing a password).
bool isHashing(qint64 daemonPid)
{
    const QString tasks = QStringLiteral("/proc/%1/task").arg(daemonPid);
    for (const QString &tid : QDir(tasks).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile comm(tasks + u'/' + tid + QStringLiteral("/comm"));
        QFile stat(tasks + u'/' + tid + QStringLiteral("/stat"));
        if (!comm.open(QIODevice::ReadOnly) || !comm.readAll().startsWith("outpost-blockin")
            || !stat.open(QIODevice::ReadOnly))
            continue;
        const QByteArray line = stat.readAll();
        const qsizetype close = line.lastIndexOf(')'); // "tid (comm) S ..."
        if (close > 0 && close + 2 < line.size() && line[close + 2] == 'R')
            return true;
    }
    return false;
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

private:
    Run run(const QStringList &args, const QByteArray &input = {}, const QProcessEnvironment &extraEnv = {});
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
    QTest::newRow("unknown subcommand") << QStringList {QStringLiteral("superuser"), QStringLiteral("delete")}
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

QTEST_GUILESS_MAIN(TestDaemon)
#include "tst_daemon.moc"
