// Crash durability of the real `outpostd`: SIGKILL it in the middle of a storm of record creates,
// restart it on the same data directory, and check that every create it answered 200 survived with
// exactly the values sent and that nothing half-written was stored. A create is answered only after
// its write group's COMMIT with synchronous=FULL (Store::submitWrite), so a lost one is a server bug.
// Reproduce a run's kill schedule and content with OUTPOST_CRASH_SEED=<the logged seed>.
#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRandomGenerator>
#include <QSet>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>
#include <algorithm>
#include <csignal>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "daemon.h"
#include "store/sqlite.h"
#include "testserver.h"

using namespace Outpost::Testing;

namespace {

constexpr int kTimeoutMs = 10'000;
constexpr int kIterations = 20;
constexpr int kClients = 16;
constexpr int kMinKillDelayMs = 20;
constexpr int kMaxKillDelayMs = 400;
constexpr int kDrainMs = 500; // after the kill, for answers already on their way
constexpr int kPerPage = 1000; // the API's maximum
const QString kEmail = QStringLiteral("crash@example.com");
const QString kPassword = QStringLiteral("correct horse battery");
const QString kCollection = QStringLiteral("items");

// Ties a record's title, n and payload together, so that a record stored half-written or mixed up
// with another one shows.
QString checksum(const QString &title, qint64 n, const QString &blob)
{
    const QByteArray data = title.toUtf8() + '|' + QByteArray::number(n) + '|' + blob.toUtf8();
    return QString::fromLatin1(QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex().left(16));
}

QString randomText(QRandomGenerator &rng, int length)
{
    static const QString alphabet = QStringLiteral("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "
                                                   "\u00e9\u00df\u2713\u4e2d\"\\/");
    QString out;
    out.reserve(length);
    for (int i = 0; i < length; ++i)
        out.append(alphabet.at(int(rng.bounded(quint32(alphabet.size())))));
    return out;
}

// One create the test sent; titles are unique.
struct Sent
{
    QString title;
    qint64 n = 0;
    QJsonObject payload;
    int iteration = 0;
};

// Everything the clients sent and were told, across iterations.
struct Ledger
{
    QHash<QString, Sent> sent; // by title
    QHash<QString, QString> acked; // record id -> title, for every create answered 200
    QSet<QString> refused; // titles of creates answered with an error
};

bool sameValues(const QJsonObject &record, const Sent &sent)
{
    return record.value(u"title").toString() == sent.title && record.value(u"n").toDouble() == double(sent.n)
        && record.value(u"payload").toObject() == sent.payload;
}

// Takes one complete response off the front of `buffer`: its status and body. Nothing while it is
// incomplete.
std::optional<std::pair<int, QByteArray>> takeResponse(QByteArray &buffer)
{
    const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return std::nullopt;
    const QList<QByteArray> lines = buffer.first(headEnd).split('\n');
    const int status = lines.first().split(' ').value(1).toInt();
    qint64 length = 0;
    for (const QByteArray &line : lines) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && line.first(colon).trimmed().compare("content-length", Qt::CaseInsensitive) == 0)
            length = line.mid(colon + 1).trimmed().toLongLong();
    }
    if (buffer.size() < headEnd + 4 + length)
        return std::nullopt;
    QByteArray body = buffer.mid(headEnd + 4, length);
    buffer.remove(0, headEnd + 4 + length);
    return std::pair {status, body};
}

// kClients keep-alive connections, driven from this thread's event loop, each with one create in
// flight at all times until the server is killed.
class Storm
{
public:
    Storm(int iteration, QRandomGenerator &rng, Ledger &ledger)
        : m_iteration(iteration)
        , m_rng(rng)
        , m_ledger(ledger)
        , m_clients(kClients)
    {
    }

    // Runs the storm for `killAfterMs`, SIGKILLs `daemon`, then reads the answers already on their way.
    void run(Daemon &daemon, int killAfterMs)
    {
        QEventLoop loop;
        for (int i = 0; i < kClients; ++i) {
            Client &c = m_clients[size_t(i)];
            c.index = i;
            c.socket = std::make_unique<QTcpSocket>();
            QTcpSocket *s = c.socket.get();
            QObject::connect(s, &QTcpSocket::connected, s, [this, &c] { sendNext(c); });
            QObject::connect(s, &QTcpSocket::readyRead, s, [this, &c] { readAnswers(c); });
            s->connectToHost(QHostAddress(QHostAddress::LocalHost), daemon.port());
        }
        QObject::connect(&daemon.process(), &QProcess::finished, &loop, [this, &loop] {
            if (!m_killed)
                m_errors.append(QStringLiteral("outpostd exited by itself during the storm"));
            loop.quit();
        });
        QTimer::singleShot(killAfterMs, &loop, [this, &daemon, &loop] {
            m_killed = daemon.signal(SIGKILL);
            loop.quit();
        });
        loop.exec();
        daemon.waitForExit();
        const QDeadlineTimer deadline(kDrainMs);
        for (Client &c : m_clients) {
            QTcpSocket &s = *c.socket;
            while (s.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()
                   && s.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())))) { }
            readAnswers(c); // what came with the close
        }
    }

    bool killed() const { return m_killed; }
    int sentCount() const { return m_sentCount; }
    int ackedCount() const { return m_ackedCount; }
    // Creates sent that got no complete answer: their fate is unknown to the client.
    int unanswered() const
    {
        return int(
            std::count_if(m_clients.begin(), m_clients.end(), [](const Client &c) { return !c.pending.isEmpty(); }));
    }
    const QMap<int, int> &otherStatuses() const { return m_otherStatuses; }
    const QStringList &errors() const { return m_errors; }

private:
    struct Client
    {
        std::unique_ptr<QTcpSocket> socket;
        int index = 0;
        int seq = 0;
        QByteArray buffer;
        QString pending; // the title of the create in flight
    };

    void sendNext(Client &c)
    {
        if (m_killed || c.socket->state() != QAbstractSocket::ConnectedState)
            return;
        const int seq = c.seq++;
        Sent s;
        s.title = QStringLiteral("iter-%1-client-%2-seq-%3").arg(m_iteration).arg(c.index).arg(seq);
        s.n = qint64(m_iteration) * 1'000'000 + c.index * 10'000 + seq;
        s.iteration = m_iteration;
        const QString blob = randomText(m_rng, 16 + int(m_rng.bounded(496)));
        s.payload = QJsonObject {{QStringLiteral("seq"), seq},
                                 {QStringLiteral("client"), c.index},
                                 {QStringLiteral("blob"), blob},
                                 {QStringLiteral("check"), checksum(s.title, s.n, blob)}};
        const QJsonObject body {
            {QStringLiteral("title"), s.title}, {QStringLiteral("n"), s.n}, {QStringLiteral("payload"), s.payload}};
        c.pending = s.title;
        m_ledger.sent.insert(s.title, s);
        ++m_sentCount;
        c.socket->write(jsonRequest("/api/collections/items/records", body));
    }

    void readAnswers(Client &c)
    {
        c.buffer += c.socket->readAll();
        while (auto response = takeResponse(c.buffer))
            answered(c, response->first, response->second);
    }

    void answered(Client &c, int status, const QByteArray &body)
    {
        if (c.pending.isEmpty()) {
            m_errors.append(QStringLiteral("client %1: an answer to no request: %2").arg(c.index).arg(status));
            return;
        }
        const QString title = std::exchange(c.pending, QString());
        if (status == 200) {
            const QJsonObject record = QJsonDocument::fromJson(body).object();
            const QString id = record.value(u"id").toString();
            if (id.isEmpty() || !sameValues(record, m_ledger.sent.value(title)) || m_ledger.acked.contains(id))
                m_errors.append(QStringLiteral("%1: a bad 200 answer: %2").arg(title, QString::fromUtf8(body)));
            m_ledger.acked.insert(id, title);
            ++m_ackedCount;
        } else {
            ++m_otherStatuses[status];
            m_ledger.refused.insert(title);
            if (status < 500) // the test's fault, not load
                m_errors.append(
                    QStringLiteral("%1: answered %2: %3").arg(title).arg(status).arg(QString::fromUtf8(body)));
        }
        sendNext(c);
    }

    const int m_iteration;
    QRandomGenerator &m_rng;
    Ledger &m_ledger;
    std::vector<Client> m_clients; // never resized: the connections capture references
    bool m_killed = false;
    int m_sentCount = 0;
    int m_ackedCount = 0;
    QMap<int, int> m_otherStatuses;
    QStringList m_errors;
};

QString compact(const QJsonObject &object)
{
    return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
}

// Why a stored record is not one of the creates sent, or should not be stored; empty when it is fine.
QString recordProblem(const QJsonObject &record, const Ledger &ledger)
{
    const QString title = record.value(u"title").toString();
    const QJsonObject payload = record.value(u"payload").toObject();
    const auto n = qint64(record.value(u"n").toDouble());
    if (payload.value(u"check").toString() != checksum(title, n, payload.value(u"blob").toString()))
        return QStringLiteral("torn: its payload does not match its title and n: ") + compact(record);
    if (!ledger.sent.contains(title) || !sameValues(record, ledger.sent.value(title)))
        return QStringLiteral("differs from every create sent: ") + compact(record);
    if (ledger.refused.contains(title))
        return QStringLiteral("stored although its create was answered with an error: ") + compact(record);
    return {};
}

struct Verification
{
    int stored = 0;
    int ackedVerified = 0;
    QStringList problems;
};

quint32 seedFromEnvironment()
{
    bool ok = false;
    const quint32 seed = qEnvironmentVariable("OUTPOST_CRASH_SEED").toUInt(&ok);
    return ok ? seed : QRandomGenerator::system()->generate();
}

} // namespace

class TestCrash : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();

    void acknowledgedCreatesSurviveSigkill();

private:
    std::unique_ptr<Daemon> daemon()
    {
        return std::make_unique<Daemon>(m_program, m_env, QProcess::ForwardedErrorChannel); // its warnings, in our log
    }
    // These return what went wrong; empty when all went well.
    QString createSuperuser() const;
    QString createCollection(quint16 port) const;
    QString listRecords(quint16 port, QList<QJsonObject> &records) const;
    // Lists every stored record and checks it against what was sent, answered and acknowledged.
    Verification verify(quint16 port) const;
    // The rows of `PRAGMA integrity_check` on data.db ("ok" alone when it is sound).
    QStringList integrityCheck() const;

    QString m_program;
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_dataDir;
    QProcessEnvironment m_env;
    Ledger m_ledger;
};

void TestCrash::initTestCase()
{
    ::signal(SIGPIPE, SIG_IGN);
    m_program = outpostdProgram();
    QVERIFY2(QFileInfo(m_program).isExecutable(), qPrintable(m_program + QStringLiteral(" is not executable")));
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_dataDir = m_dir->filePath(QStringLiteral("data"));
    m_env = isolatedEnvironment(*m_dir);

    const QString superuser = createSuperuser();
    QVERIFY2(superuser.isEmpty(), qPrintable(superuser));
    auto d = daemon();
    QVERIFY2(d->start(serveArguments(m_dataDir)), d->out().constData());
    const QString collection = createCollection(d->port());
    QVERIFY2(collection.isEmpty(), qPrintable(collection));
    QVERIFY(d->signal(SIGTERM));
    QVERIFY(d->waitForExit());
    QCOMPARE(d->process().exitCode(), 0);
}

void TestCrash::cleanup()
{
    if (QTest::currentTestFailed() && m_dir) {
        m_dir->setAutoRemove(false); // for a post-mortem
        qWarning("The data directory is kept: %s", qPrintable(m_dataDir));
    }
}

QString TestCrash::createSuperuser() const
{
    const Run created = runOutpostd(
        m_program, m_env,
        {QStringLiteral("superuser"), QStringLiteral("create"), kEmail, QStringLiteral("--data-dir"), m_dataDir},
        kPassword.toUtf8() + '\n');
    if (!created.finished)
        return QStringLiteral("`%1 superuser create` did not start or did not finish").arg(m_program);
    if (created.status != QProcess::NormalExit || created.exitCode != 0)
        return QString::fromUtf8(created.err);
    return {};
}

QString TestCrash::createCollection(quint16 port) const
{
    RawClient client(kTimeoutMs);
    if (!client.connectTo(port) || !client.send(loginRequest(kEmail, kPassword)))
        return QStringLiteral("cannot send the login");
    const HttpResponse login = client.readResponse();
    if (login.status != 200)
        return QStringLiteral("login: %1 %2").arg(login.status).arg(QString::fromUtf8(login.body));
    const QByteArray token = login.json().value(u"token").toString().toLatin1();
    const auto field = [](const char *name, const char *type, bool required) {
        return QJsonObject {{QStringLiteral("name"), QLatin1String(name)},
                            {QStringLiteral("type"), QLatin1String(type)},
                            {QStringLiteral("required"), required}};
    };
    const QJsonObject collection {
        {QStringLiteral("name"), kCollection},
        {QStringLiteral("type"), QStringLiteral("base")},
        {QStringLiteral("listRule"), QStringLiteral("")},
        {QStringLiteral("viewRule"), QStringLiteral("")},
        {QStringLiteral("createRule"), QStringLiteral("")},
        {QStringLiteral("fields"),
         QJsonArray {field("title", "text", true), field("n", "number", false), field("payload", "json", false)}}};
    if (!client.send(jsonRequest("/api/collections", collection, {{"Authorization", token}})))
        return QStringLiteral("cannot send the collection");
    const HttpResponse created = client.readResponse();
    if (created.status != 200)
        return QStringLiteral("creating the collection: %1 %2")
            .arg(created.status)
            .arg(QString::fromUtf8(created.body));
    return {};
}

QString TestCrash::listRecords(quint16 port, QList<QJsonObject> &records) const
{
    RawClient client(kTimeoutMs);
    if (!client.connectTo(port))
        return QStringLiteral("cannot connect to the restarted server");
    // Pages in rowid order, which nothing changes meanwhile: no record is skipped or listed twice.
    for (int page = 1; page <= int(m_ledger.sent.size() / kPerPage) + 2; ++page) {
        const QByteArray target = "/api/collections/items/records?sort=%40rowid&skipTotal=1&perPage="
            + QByteArray::number(kPerPage) + "&page=" + QByteArray::number(page);
        if (!client.send(httpRequest("GET", target)))
            return QStringLiteral("cannot send the list request");
        const HttpResponse r = client.readResponse();
        if (r.status != 200)
            return QStringLiteral("listing page %1: %2 %3").arg(page).arg(r.status).arg(QString::fromUtf8(r.body));
        const QJsonArray items = r.json().value(u"items").toArray();
        for (const QJsonValue &item : items)
            records.append(item.toObject());
        if (items.size() < kPerPage)
            return {};
    }
    return QStringLiteral("more records are stored than were ever sent");
}

Verification TestCrash::verify(quint16 port) const
{
    QList<QJsonObject> records;
    if (const QString error = listRecords(port, records); !error.isEmpty())
        return {0, 0, {error}};
    Verification v;
    QHash<QString, QString> titleById;
    QSet<QString> titles;
    for (const QJsonObject &record : std::as_const(records)) {
        const QString id = record.value(u"id").toString();
        const QString title = record.value(u"title").toString();
        if (const QString problem = recordProblem(record, m_ledger); !problem.isEmpty())
            v.problems.append(QStringLiteral("record %1 is %2").arg(id, problem));
        if (titles.contains(title))
            v.problems.append(QStringLiteral("record %1 (%2) is stored twice").arg(id, title));
        titles.insert(title);
        titleById.insert(id, title);
    }
    v.stored = int(titleById.size());
    for (auto it = m_ledger.acked.cbegin(); it != m_ledger.acked.cend(); ++it) {
        if (titleById.value(it.key()) == it.value())
            ++v.ackedVerified;
        else
            v.problems.append(
                QStringLiteral("LOST: record %1 (%2, iteration %3) was acknowledged with 200 but is %4")
                    .arg(it.key(), it.value())
                    .arg(m_ledger.sent.value(it.value()).iteration)
                    .arg(titleById.contains(it.key()) ? QStringLiteral("changed") : QStringLiteral("missing")));
    }
    return v;
}

QStringList TestCrash::integrityCheck() const
{
    using Outpost::Store::Database;
    auto db = Database::open(m_dataDir + QStringLiteral("/data.db"), Database::Mode::ReadOnly);
    if (!db)
        return {db.error().message};
    auto statement = (*db)->prepare("PRAGMA integrity_check");
    if (!statement)
        return {statement.error().message};
    QStringList rows;
    for (auto row = statement->step(); row && *row; row = statement->step())
        rows.append(statement->text(0));
    return rows;
}

// Iteration i starts the server, checks what the storms before left, runs a storm and kills the
// server at a random moment; one last start checks the last storm. Each check covers every create
// ever acknowledged, not only the last storm's.
void TestCrash::acknowledgedCreatesSurviveSigkill()
{
    const quint32 seed = seedFromEnvironment();
    qInfo("seed %u (set OUTPOST_CRASH_SEED to repeat the kill schedule)", seed);
    QRandomGenerator schedule(seed);
    QList<int> killDelays;
    for (int i = 0; i < kIterations; ++i)
        killDelays.append(int(schedule.bounded(kMinKillDelayMs, kMaxKillDelayMs + 1)));
    QRandomGenerator content(seed ^ 0x5eedu);
    QElapsedTimer elapsed;
    elapsed.start();
    int midFlight = 0, unanswered = 0, verified = 0;
    Verification last;
    for (int i = 0; i <= kIterations; ++i) {
        auto d = daemon();
        // The storm writes far faster than one caller may (rate limits are tst_ratelimit's).
        QVERIFY2(d->start(serveArguments(m_dataDir) << QStringLiteral("--rate-limits") << QStringLiteral("off")),
                 d->out().constData());
        last = verify(d->port());
        QVERIFY2(last.problems.isEmpty(),
                 qPrintable(QStringLiteral("after kill %1 (seed %2), %3 problem(s):\n%4")
                                .arg(i)
                                .arg(seed)
                                .arg(last.problems.size())
                                .arg(last.problems.mid(0, 20).join(u'\n'))));
        verified += last.ackedVerified;
        if (i == kIterations) {
            QVERIFY(d->signal(SIGTERM));
            QVERIFY(d->waitForExit());
            QCOMPARE(d->process().exitCode(), 0);
            break;
        }
        Storm storm(i, content, m_ledger);
        storm.run(*d, killDelays[i]);
        QVERIFY2(storm.errors().isEmpty(), qPrintable(storm.errors().mid(0, 20).join(u'\n')));
        QVERIFY(storm.killed());
        QCOMPARE(d->process().exitStatus(), QProcess::CrashExit);
        midFlight += storm.unanswered() > 0 ? 1 : 0;
        unanswered += storm.unanswered();
        qDebug("iteration %d: killed after %d ms; %d sent, %d acknowledged, %d unanswered, other statuses %s", i,
               killDelays[i], storm.sentCount(), storm.ackedCount(), storm.unanswered(),
               qPrintable(QDebug::toString(storm.otherStatuses())));
    }
    const QStringList integrity = integrityCheck();
    QVERIFY2(integrity == QStringList {QStringLiteral("ok")}, qPrintable(integrity.join(u'\n')));

    qInfo("tst_crash: %d iterations, %lld creates sent, %lld acknowledged, %d acknowledged-record checks passed, "
          "%d stored at the end (%lld of them never answered), %d kills mid-flight (%d creates unanswered), "
          "seed %u, %lld ms",
          kIterations, qint64(m_ledger.sent.size()), qint64(m_ledger.acked.size()), verified, last.stored,
          qint64(last.stored) - qint64(m_ledger.acked.size()), midFlight, unanswered, seed, qint64(elapsed.elapsed()));
    QVERIFY2(!m_ledger.acked.isEmpty(), "no create was ever acknowledged: the test tested nothing");
    QVERIFY2(midFlight >= kIterations * 3 / 4,
             qPrintable(QStringLiteral("only %1 of %2 kills found creates in flight").arg(midFlight).arg(kIterations)));
}

QTEST_GUILESS_MAIN(TestCrash)
#include "tst_crash.moc"
