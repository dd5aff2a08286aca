// Export and import of records end to end, over a real socket: streamed CSV and JSON exports
// (rules, flow control with flat memory, disconnects, pipelining, HEAD, shutdown) and CSV/JSON
// imports (all-or-nothing, skip, malformed input, round trips).
//
// The TransferController is not wired into Server yet: the test serves it from its own HttpServer
// over the TestServer's store and services.
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QThread>
#include <QUrl>
#include <QtTest>
#include <functional>
#include <memory>
#include <utility>

#include "apifixture.h"
#include "auth/superusers.h"
#include "data/collections.h"
#include "data/records.h"
#include "http/gate.h"
#include "http/httpserver.h"
#include "http/transfercontroller.h"
#include "store/store.h"

using namespace Outpost;
using namespace Outpost::Testing;

#ifdef __has_feature
#define OUTPOST_HAS_FEATURE(x) __has_feature(x)
#else
#define OUTPOST_HAS_FEATURE(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || OUTPOST_HAS_FEATURE(address_sanitizer)
constexpr bool kAddressSanitizer = true; // its quarantine keeps freed memory resident: RSS tells nothing
#else
constexpr bool kAddressSanitizer = false;
#endif

namespace {

// A response as read off the wire, a chunked body decoded.
struct Received
{
    int status = 0;
    HeaderList headers;
    QByteArray body;
    qint64 bodyBytes = 0;
    bool complete = false; // the whole body arrived, properly terminated

    QByteArray header(QByteArrayView name) const
    {
        for (const auto &[key, value] : headers)
            if (name.compare(key, Qt::CaseInsensitive) == 0)
                return value;
        return {};
    }
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QByteArray summary() const { return QByteArray::number(status) + ' ' + body.left(600); }
};

// A blocking client that can read slowly: it never holds more than `readBufferBytes` unread,
// so a slow reader pushes back on the server through TCP flow control.
class StreamClient
{
public:
    explicit StreamClient(int timeoutMs = 30'000)
        : m_timeoutMs(timeoutMs)
    {
        m_socket.setReadBufferSize(64 * 1024);
    }

    bool connectTo(quint16 port)
    {
        m_socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
        return m_socket.waitForConnected(m_timeoutMs);
    }

    bool send(const QByteArray &bytes)
    {
        m_socket.write(bytes);
        const QDeadlineTimer deadline(m_timeoutMs);
        while (m_socket.bytesToWrite() > 0 && !deadline.hasExpired())
            m_socket.waitForBytesWritten(50);
        return m_socket.bytesToWrite() == 0;
    }

    // Reads one response. Body bytes go to `sink` if given, else into Received::body. With
    // `paceBytes`, reads at most that many bytes every 2 ms. Stops early after `stopAfter` body bytes.
    Received read(bool headRequest = false, const std::function<void(QByteArrayView)> &sink = {}, qint64 paceBytes = 0,
                  qint64 stopAfter = -1)
    {
        m_pace = paceBytes;
        const QDeadlineTimer deadline(m_timeoutMs);
        Received r;
        qsizetype end = -1;
        while ((end = m_buffer.indexOf("\r\n\r\n")) < 0)
            if (!fill(deadline))
                return r;
        const QList<QByteArray> lines = m_buffer.first(end).split('\n');
        r.status = lines.value(0).split(' ').value(1).toInt();
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const qsizetype colon = lines[i].indexOf(':');
            if (colon > 0)
                r.headers.append({lines[i].left(colon).trimmed(), lines[i].mid(colon + 1).trimmed()});
        }
        m_buffer.remove(0, end + 4);
        const auto deliver = [&](QByteArrayView bytes) {
            r.bodyBytes += bytes.size();
            sink ? sink(bytes) : void(r.body.append(bytes));
        };
        if (headRequest || r.status == 204 || r.status == 304) {
            r.complete = true;
        } else if (r.header("Transfer-Encoding") == "chunked") {
            r.complete = readChunked(deadline, deliver, stopAfter, r);
        } else if (!r.header("Content-Length").isEmpty()) {
            qint64 left = r.header("Content-Length").toLongLong();
            while (left > 0 && (!m_buffer.isEmpty() || fill(deadline))) {
                const qsizetype n = qMin<qint64>(left, m_buffer.size());
                deliver(QByteArrayView(m_buffer).first(n));
                m_buffer.remove(0, n);
                left -= n;
            }
            r.complete = left == 0;
        } else { // delimited by the close (RFC 9112 §6.3)
            while (!m_buffer.isEmpty() || fill(deadline)) {
                deliver(m_buffer);
                m_buffer.clear();
            }
            r.complete = m_socket.state() != QAbstractSocket::ConnectedState;
        }
        return r;
    }

    QTcpSocket &socket() { return m_socket; }

private:
    bool readChunked(const QDeadlineTimer &deadline, const std::function<void(QByteArrayView)> &deliver,
                     qint64 stopAfter, Received &r)
    {
        for (;;) {
            qsizetype eol = -1;
            while ((eol = m_buffer.indexOf("\r\n")) < 0)
                if (!fill(deadline))
                    return false;
            bool ok = false;
            qint64 size = m_buffer.first(eol).toLongLong(&ok, 16);
            if (!ok)
                return false;
            m_buffer.remove(0, eol + 2);
            if (size == 0) {
                while (m_buffer.size() < 2)
                    if (!fill(deadline))
                        return false;
                const bool terminated = m_buffer.startsWith("\r\n");
                m_buffer.remove(0, 2);
                return terminated;
            }
            while (size > 0) {
                if (m_buffer.isEmpty() && !fill(deadline))
                    return false;
                const qsizetype n = qMin<qint64>(size, m_buffer.size());
                deliver(QByteArrayView(m_buffer).first(n));
                m_buffer.remove(0, n);
                size -= n;
                if (stopAfter >= 0 && r.bodyBytes >= stopAfter)
                    return false;
            }
            while (m_buffer.size() < 2)
                if (!fill(deadline))
                    return false;
            if (!m_buffer.startsWith("\r\n"))
                return false;
            m_buffer.remove(0, 2);
        }
    }

    bool fill(const QDeadlineTimer &deadline)
    {
        while (!deadline.hasExpired()) {
            if (m_pace > 0)
                QThread::msleep(2); // a deliberately slow reader
            if (m_socket.bytesAvailable() == 0 && m_socket.state() != QAbstractSocket::ConnectedState)
                return false;
            if (m_socket.bytesAvailable() == 0)
                m_socket.waitForReadyRead(int(qBound<qint64>(qint64(1), deadline.remainingTime(), qint64(100))));
            const QByteArray got = m_socket.read(m_pace > 0 ? m_pace : 1 << 20);
            if (!got.isEmpty()) {
                m_buffer.append(got);
                return true;
            }
        }
        return false;
    }

    QTcpSocket m_socket;
    QByteArray m_buffer;
    int m_timeoutMs;
    qint64 m_pace = 0;
};

// RFC 4180, written independently of the server's reader.
QList<QStringList> parseCsv(const QByteArray &utf8)
{
    const QString text = QString::fromUtf8(utf8);
    QList<QStringList> rows;
    QStringList row;
    QString cell;
    bool quoted = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == u'"' && i + 1 < text.size() && text[i + 1] == u'"')
                cell += text[++i];
            else if (c == u'"')
                quoted = false;
            else
                cell += c;
        } else if (c == u'"') {
            quoted = true;
        } else if (c == u',') {
            row.append(std::exchange(cell, QString()));
        } else if (c == u'\r' && i + 1 < text.size() && text[i + 1] == u'\n') {
            row.append(std::exchange(cell, QString()));
            rows.append(std::exchange(row, QStringList()));
            ++i;
        } else {
            cell += c;
        }
    }
    return rows;
}

QByteArray csvBody(const QList<QStringList> &rows)
{
    QByteArray out;
    for (const QStringList &row : rows) {
        QStringList cells;
        for (QString cell : row) {
            if (cell.contains(u'"') || cell.contains(u',') || cell.contains(u'\n') || cell.contains(u'\r'))
                cell = u'"' + cell.replace(u'"', QStringLiteral("\"\"")) + u'"';
            cells.append(cell);
        }
        out += cells.join(u',').toUtf8() + "\r\n";
    }
    return out;
}

qint64 procStatusKiB(const char *key)
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n'))
        if (line.startsWith(key))
            return line.mid(qstrlen(key)).trimmed().split(' ').value(0).toLongLong();
    return -1;
}

// Polls `condition` until it holds or `ms` of wall time pass. (QTRY_* count their steps, not the
// time the condition itself takes, and these conditions make requests or open databases.)
bool eventually(const std::function<bool()> &condition, int ms = 10'000)
{
    const QDeadlineTimer deadline(ms);
    while (!condition()) {
        if (deadline.hasExpired())
            return false;
        QTest::qWait(20);
    }
    return true;
}

// Resets VmHWM to the current RSS (Linux >= 4.0): the peak that follows is this step's own.
bool resetPeakRss()
{
    QFile clear(QStringLiteral("/proc/self/clear_refs"));
    return clear.open(QIODevice::WriteOnly) && clear.write("5") == 1;
}

} // namespace

class TestTransfer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void exportCsvHasEveryFieldType();
    void exportJsonHasEveryFieldType();
    void exportHonoursListRule();
    void exportNullListRuleIsSuperuserOnly();
    void exportFilterAndSort();
    void exportErrorsComeBeforeTheStream();
    void headExportHasNoBody();
    void http10ExportEndsWithTheClose();
    void largeExportStreamsWithFlatMemory();
    void disconnectMidExportReleasesTheStatement();
    void clientThatStopsReadingIsCutOff();
    void pipelinedRequestAfterExportIsAnsweredInOrder();
    void tooManyConcurrentExportsIs503();
    void stopDuringExportIsPrompt();

    void importAbortStoresNothingAndListsEveryBadRow();
    void importSkipStoresTheGoodRows();
    void importJson();
    void importMalformedCsvNamesTheLine_data();
    void importMalformedCsvNamesTheLine();
    void importRefusals();
    void importHonoursCreateRule();
    void roundTripCsv();
    void roundTripJson();

private:
    bool startHttp(const Http::Limits &limits = {});
    Result<Data::Collection> createCollection(const QJsonObject &definition);
    QString addRecord(const QString &collection, const QJsonObject &body);
    bool seedRows(const QString &collection, int count);
    bool seedThings();
    qint64 countRows(const QString &collection);
    bool checkpointBlocked();
    Received request(QByteArrayView method, const QByteArray &target, bool admin, const QByteArray &body = {},
                     const QByteArray &contentType = {});
    QByteArray exportRequest(const QByteArray &query, bool admin) const;

    std::unique_ptr<ManualClock> m_clock;
    std::unique_ptr<TestServer> m_server;
    std::unique_ptr<Http::Router> m_router;
    std::unique_ptr<Http::TransferController> m_transfer;
    std::unique_ptr<Http::HttpServer> m_http;
    QByteArray m_authorization;
    QString m_personA;
    QString m_personB;
};

void TestTransfer::init()
{
    m_clock = std::make_unique<ManualClock>();
    m_server = std::make_unique<TestServer>(TestServer::Options {2, m_clock.get(), {}});
    QVERIFY2(m_server->start(), qPrintable(m_server->errorString()));
    auto user = m_server->server().superusers().create(QStringLiteral("root@example.com"), "correct horse battery");
    QVERIFY(user.ok());
    QVERIFY(m_server->server().superusers().startSession(*user, QStringLiteral("127.0.0.1")).ok());
    m_authorization = "Bearer " + m_server->server().superusers().issueToken(*user);
    Server &s = m_server->server();
    m_transfer = std::make_unique<Http::TransferController>(s.collections(), s.records(), s.store(), *m_clock,
                                                            s.blockingPool());
    QVERIFY(startHttp());
    QVERIFY(createCollection(object(R"j({"name":"people","listRule":"","viewRule":"",
        "fields":[{"name":"name","type":"text"}]})j")));
    m_personA = addRecord(QStringLiteral("people"), object(R"j({"name":"Ann"})j"));
    m_personB = addRecord(QStringLiteral("people"), object(R"j({"name":"Bob"})j"));
    QVERIFY(!m_personA.isEmpty() && !m_personB.isEmpty());
}

void TestTransfer::cleanup()
{
    m_http.reset(); // cancels running exports
    m_transfer.reset(); // waits for their threads
    m_router.reset();
    m_server.reset();
    m_clock.reset();
}

bool TestTransfer::startHttp(const Http::Limits &limits)
{
    m_http.reset();
    m_router = std::make_unique<Http::Router>();
    m_server->server().gate().install(*m_router);
    m_transfer->registerRoutes(*m_router);
    Http::HttpServer::Options options;
    options.limits = limits;
    m_http
        = std::make_unique<Http::HttpServer>(*m_router, Http::ResponseObserver(), m_server->server().store(), options);
    return m_http->start().ok();
}

Result<Data::Collection> TestTransfer::createCollection(const QJsonObject &definition)
{
    auto created = m_server->server().collections().create(definition);
    if (!created)
        qWarning() << "creating a collection failed:" << created.error().message << created.error().details;
    return created;
}

QString TestTransfer::addRecord(const QString &collection, const QJsonObject &body)
{
    m_clock->advanceMs(1000); // distinct created/updated times
    auto set = m_server->server().collections().snapshot();
    const Data::Collection *c = set ? (*set)->find(collection) : nullptr;
    if (!c)
        return {};
    Data::Access access;
    access.superuser = true;
    access.context.clock = m_clock.get();
    QString id;
    const Status s = m_server->server().store().write([&](Store::Database &db) -> Status {
        auto r = m_server->server().records().create(db, **set, *c, body, {}, access);
        if (!r)
            return r.error();
        id = r->value(u"id").toString();
        return {};
    });
    if (!s)
        qWarning() << "creating a record failed:" << s.error().message << s.error().details;
    return id;
}

// `count` rows of about 230 CSV bytes into a collection with fields title, body, n; by SQL, fast.
bool TestTransfer::seedRows(const QString &collection, int count)
{
    if (!createCollection(QJsonObject {
            {QStringLiteral("name"), collection},
            {QStringLiteral("listRule"), QString()},
            {QStringLiteral("fields"),
             QJsonArray {object(R"j({"name":"title","type":"text"})j"), object(R"j({"name":"body","type":"text"})j"),
                         object(R"j({"name":"n","type":"number"})j")}}}))
        return false;
    const QByteArray sql = "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < "
        + QByteArray::number(count) + ") INSERT INTO \"" + collection.toUtf8()
        + "\" (id, title, body, n, created, updated) SELECT printf('%015d', i), 'row ' || i, "
          "printf('%.150c', 'x') || ', \"quoted\" ' || i, i, '2024-01-01 00:00:00.000Z', '2024-01-01 00:00:00.000Z' "
          "FROM seq";
    return m_server->server().store().write([&sql](Store::Database &db) { return db.exec(sql.constData()); }).ok();
}

qint64 TestTransfer::countRows(const QString &collection)
{
    qint64 count = -1;
    const Status s = m_server->server().store().read([&](Store::Database &db) -> Status {
        const QByteArray sql = "SELECT COUNT(*) FROM \"" + collection.toUtf8() + '"';
        auto q = db.prepare(sql.constData());
        if (!q)
            return q.error();
        auto row = q->step();
        if (!row)
            return row.error();
        count = q->int64(0);
        return {};
    });
    return s ? count : -1;
}

// Whether a reader still holds a read transaction on data.db: a TRUNCATE checkpoint must wait for
// every reader, and with busy_timeout 0 it reports busy at once instead.
bool TestTransfer::checkpointBlocked()
{
    auto db = Store::Database::open(m_server->server().store().dataPath(), Store::Database::Mode::ReadWrite);
    if (!db || !(*db)->exec("PRAGMA busy_timeout=0"))
        return true;
    auto q = (*db)->prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    if (!q)
        return true;
    auto row = q->step();
    return !row || !*row || q->int64(0) != 0;
}

Received TestTransfer::request(QByteArrayView method, const QByteArray &target, bool admin, const QByteArray &body,
                               const QByteArray &contentType)
{
    HeaderList headers;
    if (admin)
        headers.append({"Authorization", m_authorization});
    if (!contentType.isEmpty())
        headers.append({"Content-Type", contentType});
    StreamClient client;
    if (!client.connectTo(m_http->port()) || !client.send(httpRequest(method, target, body, headers)))
        return {};
    return client.read(method == "HEAD");
}

QByteArray TestTransfer::exportRequest(const QByteArray &query, bool admin) const
{
    HeaderList headers;
    if (admin)
        headers.append({"Authorization", m_authorization});
    return httpRequest("GET", QByteArray("/api/collections/" + query), {}, headers);
}

namespace {

QJsonObject thingsDefinition(const QString &name, const QString &peopleId)
{
    QJsonObject definition = object(R"j({"listRule":"","viewRule":"","createRule":"","fields":[
        {"name":"title","type":"text","required":true},
        {"name":"slug","type":"text"},
        {"name":"n","type":"number"},
        {"name":"flag","type":"bool"},
        {"name":"mail","type":"email"},
        {"name":"site","type":"url"},
        {"name":"day","type":"date"},
        {"name":"one","type":"select","values":["a","b","c"]},
        {"name":"many","type":"select","values":["a","b","c"],"maxSelect":3},
        {"name":"meta","type":"json"},
        {"name":"secret","type":"text","hidden":true}]})j");
    definition.insert(QStringLiteral("name"), name);
    QJsonArray fields = definition.value(u"fields").toArray();
    fields.append(QJsonObject {{QStringLiteral("name"), QStringLiteral("owner")},
                               {QStringLiteral("type"), QStringLiteral("relation")},
                               {QStringLiteral("collectionId"), peopleId}});
    fields.append(QJsonObject {{QStringLiteral("name"), QStringLiteral("owners")},
                               {QStringLiteral("type"), QStringLiteral("relation")},
                               {QStringLiteral("collectionId"), peopleId},
                               {QStringLiteral("maxSelect"), 5}});
    definition.insert(QStringLiteral("fields"), fields);
    definition.insert(QStringLiteral("indexes"),
                      QJsonArray {QStringLiteral("CREATE UNIQUE INDEX idx_%1_slug ON %1 (slug)").arg(name)});
    return definition;
}

const QString kTitle1 = QStringLiteral("He said \"hi\", then left");
const QString kTitle2 = QStringLiteral("line one\nline two\r\nline three");
const QString kTitle3 = QStringLiteral("Grüße 🌍 日本語, ok");

} // namespace

bool TestTransfer::seedThings()
{
    auto people = m_server->server().collections().get(QStringLiteral("people"));
    if (!people || !createCollection(thingsDefinition(QStringLiteral("things"), people->id)))
        return false;
    QJsonObject one = object(R"j({"slug":"s1","n":42,"flag":true,"mail":"a@example.com",
        "site":"https://example.com/a?b=c,d","day":"2024-05-06 07:08:09.123Z","one":"b","many":["a","c"],
        "meta":{"k":[1,"x,y"],"q":"\"quoted\""},"secret":"s3cret"})j");
    one.insert(QStringLiteral("title"), kTitle1);
    one.insert(QStringLiteral("owner"), m_personA);
    one.insert(QStringLiteral("owners"), QJsonArray {m_personA, m_personB});
    QJsonObject two = object(R"j({"slug":"s2","n":3.25,"flag":false,"meta":null})j");
    two.insert(QStringLiteral("title"), kTitle2);
    QJsonObject three = object(R"j({"slug":"s3","n":-7,"meta":"just text","secret":"x"})j");
    three.insert(QStringLiteral("title"), kTitle3);
    return !addRecord(QStringLiteral("things"), one).isEmpty() && !addRecord(QStringLiteral("things"), two).isEmpty()
        && !addRecord(QStringLiteral("things"), three).isEmpty();
}

void TestTransfer::exportCsvHasEveryFieldType()
{
    QVERIFY(seedThings());
    const Received r = request("GET", "/api/collections/things/export?format=csv", true);
    QVERIFY2(r.status == 200 && r.complete, r.summary().constData());
    QCOMPARE(r.header("Content-Type"), QByteArray("text/csv; charset=utf-8"));
    QCOMPARE(r.header("Content-Disposition"), QByteArray("attachment; filename=\"things.csv\""));
    QCOMPARE(r.header("Transfer-Encoding"), QByteArray("chunked"));
    QVERIFY(r.body.contains("\"He said \"\"hi\"\", then left\""));
    QVERIFY(r.body.contains("\"line one\nline two\r\nline three\""));

    const QList<QStringList> rows = parseCsv(r.body);
    QCOMPARE(rows.size(), 4);
    const auto things = m_server->server().collections().get(QStringLiteral("things"));
    QVERIFY(things);
    QStringList names;
    for (const Data::Field &f : things->fields)
        names.append(f.name);
    QCOMPARE(rows[0], names);
    const auto cell = [&](int row, const char *name) { return rows[row].value(names.indexOf(QLatin1String(name))); };
    QCOMPARE(cell(1, "title"), kTitle1);
    QCOMPARE(cell(1, "n"), QStringLiteral("42"));
    QCOMPARE(cell(1, "flag"), QStringLiteral("true"));
    QCOMPARE(cell(1, "mail"), QStringLiteral("a@example.com"));
    QCOMPARE(cell(1, "site"), QStringLiteral("https://example.com/a?b=c,d"));
    QCOMPARE(cell(1, "day"), QStringLiteral("2024-05-06 07:08:09.123Z"));
    QCOMPARE(cell(1, "one"), QStringLiteral("b"));
    QCOMPARE(cell(1, "many"), QStringLiteral(R"(["a","c"])"));
    QCOMPARE(cell(1, "meta"), QStringLiteral(R"({"k":[1,"x,y"],"q":"\"quoted\""})"));
    QCOMPARE(cell(1, "secret"), QStringLiteral("s3cret"));
    QCOMPARE(cell(1, "owner"), m_personA);
    QCOMPARE(cell(1, "owners"), QStringLiteral(R"(["%1","%2"])").arg(m_personA, m_personB));
    QCOMPARE(cell(1, "created"), QStringLiteral("2023-11-14 22:13:23.000Z"));
    QCOMPARE(cell(2, "title"), kTitle2);
    QCOMPARE(cell(2, "n"), QStringLiteral("3.25"));
    QCOMPARE(cell(2, "flag"), QStringLiteral("false"));
    QCOMPARE(cell(2, "meta"), QString());
    QCOMPARE(cell(2, "many"), QStringLiteral("[]"));
    QCOMPARE(cell(2, "owner"), QString());
    QCOMPARE(cell(3, "title"), kTitle3);
    QCOMPARE(cell(3, "n"), QStringLiteral("-7"));
    QCOMPARE(cell(3, "meta"), QStringLiteral("\"just text\""));
}

void TestTransfer::exportJsonHasEveryFieldType()
{
    QVERIFY(seedThings());
    const Received r = request("GET", "/api/collections/things/export?format=json", true);
    QVERIFY2(r.status == 200 && r.complete, r.summary().constData());
    QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
    QCOMPARE(r.header("Content-Disposition"), QByteArray("attachment; filename=\"things.json\""));
    QJsonParseError error;
    const QJsonArray items = QJsonDocument::fromJson(r.body, &error).array();
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(items.size(), 3);
    const QJsonObject one = items[0].toObject();
    QCOMPARE(one.value(u"collectionName").toString(), QStringLiteral("things"));
    QCOMPARE(one.value(u"title").toString(), kTitle1);
    QCOMPARE(one.value(u"n").toDouble(), 42.0);
    QCOMPARE(one.value(u"flag").toBool(), true);
    QCOMPARE(one.value(u"many").toArray(), (QJsonArray {QStringLiteral("a"), QStringLiteral("c")}));
    QCOMPARE(one.value(u"meta").toObject(), object(R"j({"k":[1,"x,y"],"q":"\"quoted\""})j"));
    QCOMPARE(one.value(u"owners").toArray(), (QJsonArray {m_personA, m_personB}));
    QCOMPARE(one.value(u"secret").toString(), QStringLiteral("s3cret"));
    QCOMPARE(items[1].toObject().value(u"title").toString(), kTitle2);
    QVERIFY(items[1].toObject().value(u"meta").isNull());
    QCOMPARE(items[2].toObject().value(u"title").toString(), kTitle3);
    QCOMPARE(items[2].toObject().value(u"meta").toString(), QStringLiteral("just text"));
}

void TestTransfer::exportHonoursListRule()
{
    QVERIFY(createCollection(object(R"j({"name":"gated","listRule":"flag = true","fields":[
        {"name":"title","type":"text"},{"name":"flag","type":"bool"},{"name":"secret","type":"text","hidden":true}]})j")));
    for (const char *json : {R"j({"title":"open 1","flag":true,"secret":"a"})j", R"j({"title":"closed","flag":false})j",
                             R"j({"title":"open 2","flag":true,"secret":"b"})j"})
        QVERIFY(!addRecord(QStringLiteral("gated"), object(json)).isEmpty());

    const Received guest = request("GET", "/api/collections/gated/export", false);
    QVERIFY2(guest.status == 200 && guest.complete, guest.summary().constData());
    const QList<QStringList> rows = parseCsv(guest.body);
    QCOMPARE(rows.size(), 3);
    QVERIFY(!rows[0].contains(QStringLiteral("secret"))); // hidden fields are for superusers
    QCOMPARE(rows[1].value(rows[0].indexOf(QStringLiteral("title"))), QStringLiteral("open 1"));
    QCOMPARE(rows[2].value(rows[0].indexOf(QStringLiteral("title"))), QStringLiteral("open 2"));
    const Received guestJson = request("GET", "/api/collections/gated/export?format=json", false);
    const QJsonArray items = QJsonDocument::fromJson(guestJson.body).array();
    QCOMPARE(items.size(), 2);
    QVERIFY(!items[0].toObject().contains(QStringLiteral("secret")));

    const Received admin = request("GET", "/api/collections/gated/export", true);
    QVERIFY2(admin.status == 200 && admin.complete, admin.summary().constData());
    const QList<QStringList> all = parseCsv(admin.body);
    QCOMPARE(all.size(), 4);
    QVERIFY(all[0].contains(QStringLiteral("secret")));
}

void TestTransfer::exportNullListRuleIsSuperuserOnly()
{
    QVERIFY(createCollection(object(R"j({"name":"closed","fields":[{"name":"title","type":"text"}]})j")));
    QVERIFY(!addRecord(QStringLiteral("closed"), object(R"j({"title":"t"})j")).isEmpty());
    for (const char *format : {"csv", "json"}) {
        const Received guest = request("GET", "/api/collections/closed/export?format=" + QByteArray(format), false);
        QCOMPARE(guest.status, 403);
        QCOMPARE(guest.header("Content-Type"), QByteArray("application/problem+json"));
        QVERIFY(guest.header("Transfer-Encoding").isEmpty());
        QCOMPARE(request("HEAD", "/api/collections/closed/export?format=" + QByteArray(format), false).status, 403);
    }
    QCOMPARE(request("GET", "/api/collections/closed/export", false, {}, {}).status, 403);
    const Received admin = request("GET", "/api/collections/closed/export", true);
    QVERIFY2(admin.status == 200 && admin.complete, admin.summary().constData());
    QCOMPARE(parseCsv(admin.body).size(), 2);
}

void TestTransfer::exportFilterAndSort()
{
    QVERIFY(seedThings());
    const Received r = request("GET",
                               "/api/collections/things/export?format=json&filter="
                                   + QUrl::toPercentEncoding(QStringLiteral("n > 0")) + "&sort=n",
                               true);
    QVERIFY2(r.status == 200 && r.complete, r.summary().constData());
    const QJsonArray items = QJsonDocument::fromJson(r.body).array();
    QCOMPARE(items.size(), 2);
    QCOMPARE(items[0].toObject().value(u"n").toDouble(), 3.25);
    QCOMPARE(items[1].toObject().value(u"n").toDouble(), 42.0);
}

void TestTransfer::exportErrorsComeBeforeTheStream()
{
    QVERIFY(seedThings());
    // The filter is compiled on the export thread: its error still becomes an ordinary response.
    const Received badFilter = request(
        "GET", "/api/collections/things/export?filter=" + QUrl::toPercentEncoding(QStringLiteral("nope = 1")), true);
    QCOMPARE(badFilter.status, 400);
    QVERIFY(badFilter.json().value(u"message").toString().contains(QStringLiteral("nope")));
    QVERIFY(!badFilter.header("Content-Length").isEmpty());
    QCOMPARE(request("GET", "/api/collections/things/export?sort=nope", true).status, 400);
    QCOMPARE(request("GET", "/api/collections/things/export?format=xml", true).status, 400);
    QCOMPARE(request("GET", "/api/collections/missing/export", true).status, 404);
    QCOMPARE(request("POST", "/api/collections/things/export", true).status, 405);
}

void TestTransfer::headExportHasNoBody()
{
    QVERIFY(seedThings());
    StreamClient client;
    QVERIFY(client.connectTo(m_http->port()));
    HeaderList auth {{"Authorization", m_authorization}};
    QVERIFY(client.send(httpRequest("HEAD", "/api/collections/things/export", {}, auth)
                        + httpRequest("GET", "/api/collections/people/export", {}, auth)));
    const Received head = client.read(true);
    QCOMPARE(head.status, 200);
    QCOMPARE(head.header("Content-Disposition"), QByteArray("attachment; filename=\"things.csv\""));
    QCOMPARE(head.header("Transfer-Encoding"), QByteArray("chunked"));
    // No body followed: the next bytes on the connection are the next response.
    const Received next = client.read();
    QVERIFY2(next.status == 200 && next.complete, next.summary().constData());
    QCOMPARE(next.header("Content-Disposition"), QByteArray("attachment; filename=\"people.csv\""));
    QCOMPARE(parseCsv(next.body).size(), 3);
}

void TestTransfer::http10ExportEndsWithTheClose()
{
    QVERIFY(seedRows(QStringLiteral("mid"), 5000));
    StreamClient client;
    QVERIFY(client.connectTo(m_http->port()));
    QVERIFY(client.send("GET /api/collections/mid/export HTTP/1.0\r\nAuthorization: " + m_authorization + "\r\n\r\n"));
    const Received r = client.read(false, {}, 16 * 1024);
    QVERIFY2(r.status == 200 && r.complete, r.summary().constData()); // no chunked coding in HTTP/1.0
    QVERIFY(r.header("Transfer-Encoding").isEmpty());
    QCOMPARE(r.header("Connection"), QByteArray("close"));
    QCOMPARE(parseCsv(r.body).size(), 5001);
}

void TestTransfer::largeExportStreamsWithFlatMemory()
{
    constexpr int kRows = 100'000;
    QVERIFY(seedRows(QStringLiteral("big"), kRows));
    StreamClient client(120'000);
    QVERIFY(client.connectTo(m_http->port()));
    const qint64 rssBefore = procStatusKiB("VmRSS:");
    const bool peakReset = resetPeakRss();
    QElapsedTimer timer;
    timer.start();
    QVERIFY(client.send(exportRequest("big/export?format=csv", true)));
    qint64 lines = 0;
    // About 16 MB/s at most: slower than the server produces, so flow control must hold it back.
    const Received r = client.read(
        false, [&lines](QByteArrayView bytes) { lines += bytes.count('\n'); }, 32 * 1024);
    const qint64 peak = procStatusKiB("VmHWM:");
    QVERIFY2(r.status == 200 && r.complete, r.summary().constData());
    QCOMPARE(lines, kRows + 1);
    const qint64 growthKiB = peak - rssBefore;
    qInfo("exported %d rows, %lld bytes in %lld ms; RSS before %lld KiB, peak during the export %lld KiB "
          "(+%lld KiB)%s",
          kRows, r.bodyBytes, timer.elapsed(), rssBefore, peak, growthKiB,
          peakReset && !kAddressSanitizer ? "" : " (not checked: VmHWM cannot be reset, or AddressSanitizer)");
    QVERIFY(r.bodyBytes > 20'000'000);
    if (peakReset && !kAddressSanitizer)
        QVERIFY2(
            growthKiB * 1024 < r.bodyBytes / 4,
            qPrintable(QStringLiteral("peak RSS grew by %1 KiB for a %2-byte export").arg(growthKiB).arg(r.bodyBytes)));
}

void TestTransfer::disconnectMidExportReleasesTheStatement()
{
    QVERIFY(seedRows(QStringLiteral("big"), 100'000));
    StreamClient client;
    QVERIFY(client.connectTo(m_http->port()));
    QVERIFY(client.send(exportRequest("big/export", true)));
    const Received partial = client.read(
        false, [](QByteArrayView) {}, 16 * 1024, 256 * 1024);
    QCOMPARE(partial.status, 200);
    QVERIFY(!partial.complete);
    // The paused export holds its statement, so its read transaction blocks a full checkpoint.
    QVERIFY(!addRecord(QStringLiteral("people"), object(R"j({"name":"Cy"})j")).isEmpty());
    QVERIFY(checkpointBlocked());
    client.socket().abort();
    QVERIFY(eventually([this] { return !checkpointBlocked(); }));
    QVERIFY(!addRecord(QStringLiteral("people"), object(R"j({"name":"Di"})j")).isEmpty());
    const Received after = request("GET", "/api/collections/people/export", true);
    QVERIFY2(after.status == 200 && after.complete, after.summary().constData());
    QCOMPARE(parseCsv(after.body).size(), 5);
}

void TestTransfer::clientThatStopsReadingIsCutOff()
{
    Http::Limits limits;
    limits.bodyTimeoutMs = 1000;
    QVERIFY(startHttp(limits));
    QVERIFY(seedRows(QStringLiteral("big"), 100'000));
    StreamClient client;
    QVERIFY(client.connectTo(m_http->port()));
    QVERIFY(client.send(exportRequest("big/export", true)));
    const Received partial = client.read(
        false, [](QByteArrayView) {}, 16 * 1024, 64 * 1024);
    QCOMPARE(partial.status, 200);
    QVERIFY(!addRecord(QStringLiteral("people"), object(R"j({"name":"Cy"})j")).isEmpty());
    QVERIFY(checkpointBlocked());
    // The client reads nothing more and never closes: the server gives up after bodyTimeoutMs.
    QVERIFY(eventually([this] { return !checkpointBlocked(); }));
}

void TestTransfer::pipelinedRequestAfterExportIsAnsweredInOrder()
{
    QVERIFY(seedRows(QStringLiteral("mid"), 5000)); // > 1 MB: several flow-control rounds
    StreamClient client;
    QVERIFY(client.connectTo(m_http->port()));
    HeaderList auth {{"Authorization", m_authorization}};
    QVERIFY(client.send(httpRequest("GET", "/api/collections/mid/export", {}, auth)
                        + httpRequest("GET", "/api/collections/people/export?format=json", {}, auth)
                        + httpRequest("HEAD", "/api/collections/people/export", {}, auth)));
    const Received first = client.read(false, {}, 8 * 1024);
    QVERIFY2(first.status == 200 && first.complete, first.summary().constData());
    QCOMPARE(first.header("Content-Disposition"), QByteArray("attachment; filename=\"mid.csv\""));
    QCOMPARE(parseCsv(first.body).size(), 5001);
    const Received second = client.read();
    QVERIFY2(second.status == 200 && second.complete, second.summary().constData());
    QCOMPARE(second.header("Content-Disposition"), QByteArray("attachment; filename=\"people.json\""));
    QCOMPARE(QJsonDocument::fromJson(second.body).array().size(), 2);
    const Received third = client.read(true);
    QCOMPARE(third.status, 200);
    QCOMPARE(third.header("Content-Disposition"), QByteArray("attachment; filename=\"people.csv\""));
    QVERIFY(client.send(httpRequest("GET", "/api/collections/people/export", {}, auth)));
    QVERIFY(client.read().complete); // the connection is still in step
}

void TestTransfer::tooManyConcurrentExportsIs503()
{
    QVERIFY(seedRows(QStringLiteral("big"), 100'000));
    std::vector<std::unique_ptr<StreamClient>> clients;
    for (int i = 0; i < Http::TransferController::kMaxConcurrentExports; ++i) {
        clients.push_back(std::make_unique<StreamClient>());
        QVERIFY(clients.back()->connectTo(m_http->port()));
        QVERIFY(clients.back()->send(exportRequest("big/export", true)));
        QCOMPARE(clients.back()
                     ->read(
                         false, [](QByteArrayView) {}, 16 * 1024, 64 * 1024)
                     .status,
                 200);
    }
    const Received refused = request("GET", "/api/collections/people/export", true);
    QCOMPARE(refused.status, 503);
    QCOMPARE(refused.header("Retry-After"), QByteArray("1"));
    for (auto &client : clients)
        client->socket().abort();
    QVERIFY(eventually([this] { return request("GET", "/api/collections/people/export", true).status == 200; }));
}

void TestTransfer::stopDuringExportIsPrompt()
{
    QVERIFY(seedRows(QStringLiteral("big"), 100'000));
    StreamClient client;
    QVERIFY(client.connectTo(m_http->port()));
    QVERIFY(client.send(exportRequest("big/export", true)));
    QCOMPARE(client
                 .read(
                     false, [](QByteArrayView) {}, 16 * 1024, 64 * 1024)
                 .status,
             200);
    QElapsedTimer timer;
    timer.start();
    m_http->stop(300); // the export cannot finish: the client is not reading
    m_http.reset();
    m_transfer.reset(); // waits for the export thread, which the closed connection cancelled
    QVERIFY2(timer.elapsed() < 5000, qPrintable(QStringLiteral("stop took %1 ms").arg(timer.elapsed())));
    QVERIFY(!checkpointBlocked());
}

namespace {

QJsonObject itemsDefinition(const QString &name, const QString &peopleId, const QJsonValue &createRule = QString())
{
    QJsonObject definition = object(R"j({"listRule":"","fields":[
        {"name":"title","type":"text","required":true},{"name":"slug","type":"text"},{"name":"n","type":"number"}]})j");
    definition.insert(QStringLiteral("name"), name);
    definition.insert(QStringLiteral("createRule"), createRule);
    QJsonArray fields = definition.value(u"fields").toArray();
    fields.append(QJsonObject {{QStringLiteral("name"), QStringLiteral("owner")},
                               {QStringLiteral("type"), QStringLiteral("relation")},
                               {QStringLiteral("collectionId"), peopleId}});
    definition.insert(QStringLiteral("fields"), fields);
    definition.insert(QStringLiteral("indexes"),
                      QJsonArray {QStringLiteral("CREATE UNIQUE INDEX idx_%1_slug ON %1 (slug)").arg(name)});
    return definition;
}

// Seven rows; rows 2 (blank title), 4 (duplicate slug), 5 (not a number) and 6 (missing relation) fail.
QByteArray mixedCsv(const QString &person)
{
    return "title,slug,n,owner\r\n"
           "ok one,s1,1,\r\n"
           ",s2,2,\r\n"
           "ok three,s3,3,\r\n"
           "ok four,s1,4,\r\n"
           "ok five,s5,abc,\r\n"
           "ok six,s6,6,zzzzzzzzzzzzzzz\r\n"
           "ok seven,s7,7,"
        + person.toUtf8() + "\r\n";
}

QString codeAt(const QJsonObject &rows, const char *row, const char *field)
{
    return rows.value(QLatin1String(row))[QLatin1String(field)][QStringLiteral("code")].toString();
}

} // namespace

void TestTransfer::importAbortStoresNothingAndListsEveryBadRow()
{
    auto people = m_server->server().collections().get(QStringLiteral("people"));
    QVERIFY(people && createCollection(itemsDefinition(QStringLiteral("items"), people->id)));
    for (const QByteArray &query : {QByteArray(), QByteArray("?onError=abort")}) {
        const Received r
            = request("POST", "/api/collections/items/import" + query, true, mixedCsv(m_personA), "text/csv");
        QCOMPARE(r.status, 400);
        QCOMPARE(r.header("Content-Type"), QByteArray("application/problem+json"));
        const QJsonObject body = r.json();
        QCOMPARE(body.value(u"message").toString(), QStringLiteral("4 of 7 rows failed; nothing was imported."));
        const QJsonObject rows = body.value(u"data")[QStringLiteral("rows")].toObject();
        QCOMPARE(rows.keys(),
                 (QStringList {QStringLiteral("2"), QStringLiteral("4"), QStringLiteral("5"), QStringLiteral("6")}));
        QCOMPARE(codeAt(rows, "2", "title"), QStringLiteral("validation_required"));
        QCOMPARE(codeAt(rows, "4", "slug"), QStringLiteral("validation_not_unique"));
        QCOMPARE(codeAt(rows, "5", "n"), QStringLiteral("validation_not_a_number"));
        QCOMPARE(codeAt(rows, "6", "owner"), QStringLiteral("validation_missing_rel_records"));
        QCOMPARE(body.value(u"errors").toArray().size(), 4);
        QCOMPARE(countRows(QStringLiteral("items")), 0);
    }
}

void TestTransfer::importSkipStoresTheGoodRows()
{
    auto people = m_server->server().collections().get(QStringLiteral("people"));
    QVERIFY(people && createCollection(itemsDefinition(QStringLiteral("items"), people->id)));
    const Received r
        = request("POST", "/api/collections/items/import?onError=skip", true, mixedCsv(m_personA), "text/csv");
    QVERIFY2(r.status == 200, r.summary().constData());
    const QJsonObject body = r.json();
    QCOMPARE(body.value(u"imported").toInt(), 3);
    QCOMPARE(body.value(u"failed").toInt(), 4);
    const QJsonArray errors = body.value(u"errors").toArray();
    QCOMPARE(errors.size(), 4);
    QList<int> failedRows;
    for (const QJsonValue &e : errors)
        failedRows.append(e[QStringLiteral("row")].toInt());
    QCOMPARE(failedRows, (QList<int> {2, 4, 5, 6}));
    QCOMPARE(errors[0][QStringLiteral("message")].toString(), QStringLiteral("title: Cannot be blank."));
    QCOMPARE(errors[1][QStringLiteral("data")][QStringLiteral("slug")][QStringLiteral("code")].toString(),
             QStringLiteral("validation_not_unique"));
    QCOMPARE(countRows(QStringLiteral("items")), 3);
    const Received exported = request("GET", "/api/collections/items/export?format=json", true);
    QStringList slugs;
    for (const QJsonValue &item : QJsonDocument::fromJson(exported.body).array())
        slugs.append(item[QStringLiteral("slug")].toString());
    QCOMPARE(slugs, (QStringList {QStringLiteral("s1"), QStringLiteral("s3"), QStringLiteral("s7")}));
}

void TestTransfer::importJson()
{
    auto people = m_server->server().collections().get(QStringLiteral("people"));
    QVERIFY(people && createCollection(itemsDefinition(QStringLiteral("items"), people->id)));
    QJsonArray good {
        object(R"j({"title":"j1","slug":"j1","n":1,"collectionName":"elsewhere"})j"),
        QJsonObject {{QStringLiteral("Title"), QStringLiteral("j2")}, {QStringLiteral("owner"), m_personB}}};
    Received r
        = request("POST", "/api/collections/items/import", true, QJsonDocument(good).toJson(), "application/json");
    QVERIFY2(r.status == 200, r.summary().constData());
    QCOMPARE(r.json().value(u"imported").toInt(), 2);
    QCOMPARE(countRows(QStringLiteral("items")), 2);

    const QJsonArray bad {object(R"j({"title":"j3","slug":"j3"})j"), object(R"j({"title":"","slug":"j1"})j")};
    r = request("POST", "/api/collections/items/import", true, QJsonDocument(bad).toJson(), "application/json");
    QCOMPARE(r.status, 400);
    const QJsonObject rows = r.json().value(u"data")[QStringLiteral("rows")].toObject();
    QCOMPARE(rows.keys(), QStringList {QStringLiteral("2")});
    QCOMPARE(codeAt(rows, "2", "title"), QStringLiteral("validation_required"));
    QCOMPARE(countRows(QStringLiteral("items")), 2);

    r = request("POST", "/api/collections/items/import", true, R"({"title":"x"})", "application/json");
    QCOMPARE(r.status, 400);
    r = request("POST", "/api/collections/items/import", true, R"([{"title":"x"},{"nope":1}])", "application/json");
    QCOMPARE(r.status, 400);
    QVERIFY(r.json().value(u"message").toString().contains(QStringLiteral("Row 2")));
    QVERIFY(r.json().value(u"message").toString().contains(QStringLiteral("nope")));
    QCOMPARE(request("POST", "/api/collections/items/import", true, "[1, 2", "application/json").status, 400);
    QCOMPARE(countRows(QStringLiteral("items")), 2);
}

void TestTransfer::importMalformedCsvNamesTheLine_data()
{
    QTest::addColumn<QByteArray>("csv");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unbalanced quote") << QByteArray("title,slug\r\nok,s1\r\n\"broken,s2\r\nok,s3\r\n")
                                      << QStringLiteral("line 3: the quoted field starting here is never closed");
    QTest::newRow("quote in an unquoted field") << QByteArray("title,slug\r\nok,s1\r\nab\"c,s2\r\n")
                                                << QStringLiteral("line 3: a double quote inside an unquoted field");
    QTest::newRow("text after a closing quote")
        << QByteArray("title,slug\n\"ab\"c,s1\n") << QStringLiteral("line 2: unexpected text after a closing quote");
    QTest::newRow("too few cells") << QByteArray("title,slug\r\nok\r\n")
                                   << QStringLiteral("line 2: 1 fields where the header has 2");
    QTest::newRow("after a multi-line cell") << QByteArray("title,slug\r\n\"multi\r\nline\",s1\r\nok,s2,extra\r\n")
                                             << QStringLiteral("line 4: 3 fields where the header has 2");
}

void TestTransfer::importMalformedCsvNamesTheLine()
{
    QFETCH(QByteArray, csv);
    QFETCH(QString, expected);
    auto people = m_server->server().collections().get(QStringLiteral("people"));
    QVERIFY(people && createCollection(itemsDefinition(QStringLiteral("items"), people->id)));
    const Received r = request("POST", "/api/collections/items/import?onError=skip", true, csv, "text/csv");
    QCOMPARE(r.status, 400);
    QVERIFY2(r.json().value(u"message").toString().contains(expected), r.summary().constData());
    QCOMPARE(countRows(QStringLiteral("items")), 0);
}

void TestTransfer::importRefusals()
{
    auto people = m_server->server().collections().get(QStringLiteral("people"));
    QVERIFY(people && createCollection(itemsDefinition(QStringLiteral("items"), people->id)));
    const QByteArray path = "/api/collections/items/import";
    Received r = request("POST", path, true, "title,nope\r\nx,y\r\n", "text/csv");
    QCOMPARE(r.status, 400);
    QVERIFY(r.json().value(u"message").toString().contains(QStringLiteral("Unknown column \"nope\"")));
    QCOMPARE(request("POST", path, true, "title,title\r\nx,y\r\n", "text/csv").status, 400);
    QCOMPARE(request("POST", path, true, "title\r\nx\r\n", "text/plain").status, 415);
    QCOMPARE(request("POST", path + "?onError=maybe", true, "title\r\nx\r\n", "text/csv").status, 400);
    QCOMPARE(request("POST", path, true, "", "text/csv").status, 400);
    QCOMPARE(request("POST", path, true, "title\r\n\xff\xfe\r\n", "text/csv").status, 400);
    QCOMPARE(request("POST", "/api/collections/missing/import", true, "title\r\nx\r\n", "text/csv").status, 404);
    QCOMPARE(request("GET", path, true).status, 405);
    QCOMPARE(countRows(QStringLiteral("items")), 0);
    // A header alone is an empty import.
    r = request("POST", path, true, "\xEF\xBB\xBFtitle,slug\r\n", "text/csv");
    QVERIFY2(r.status == 200 && r.json().value(u"imported").toInt(-1) == 0, r.summary().constData());
}

void TestTransfer::importHonoursCreateRule()
{
    auto people = m_server->server().collections().get(QStringLiteral("people"));
    QVERIFY(people);
    QVERIFY(createCollection(itemsDefinition(QStringLiteral("locked"), people->id, QJsonValue::Null)));
    QVERIFY(createCollection(itemsDefinition(QStringLiteral("open"), people->id)));
    QVERIFY(createCollection(
        itemsDefinition(QStringLiteral("positive"), people->id, QStringLiteral("@request.body.n > 0"))));
    const QByteArray csv = "title,slug,n,created\r\na,a,1,2001-02-03 04:05:06.000Z\r\nb,b,-1,\r\n";

    const Received locked = request("POST", "/api/collections/locked/import", false, csv, "text/csv");
    QCOMPARE(locked.status, 403);
    QCOMPARE(countRows(QStringLiteral("locked")), 0);
    Received r = request("POST", "/api/collections/locked/import", true, csv, "text/csv");
    QVERIFY2(r.status == 200 && r.json().value(u"imported").toInt() == 2, r.summary().constData());

    r = request("POST", "/api/collections/open/import", false, csv, "text/csv");
    QVERIFY2(r.status == 200 && r.json().value(u"imported").toInt() == 2, r.summary().constData());
    // Only superusers keep the created/updated values given.
    const Received guestRows = request("GET", "/api/collections/open/export?format=json", false);
    QVERIFY(QJsonDocument::fromJson(guestRows.body).array()[0][QStringLiteral("created")].toString()
            != QStringLiteral("2001-02-03 04:05:06.000Z"));
    const Received adminRows = request("GET", "/api/collections/locked/export?format=json", true);
    QCOMPARE(QJsonDocument::fromJson(adminRows.body).array()[0][QStringLiteral("created")].toString(),
             QStringLiteral("2001-02-03 04:05:06.000Z"));

    r = request("POST", "/api/collections/positive/import?onError=skip", false, csv, "text/csv");
    QVERIFY2(r.status == 200, r.summary().constData());
    QCOMPARE(r.json().value(u"imported").toInt(), 1);
    QCOMPARE(r.json().value(u"errors").toArray()[0][QStringLiteral("row")].toInt(), 2);
    QCOMPARE(countRows(QStringLiteral("positive")), 1);
}

void TestTransfer::roundTripCsv()
{
    QVERIFY(seedThings());
    const Received original = request("GET", "/api/collections/things/export", true);
    QVERIFY2(original.status == 200 && original.complete, original.summary().constData());
    auto people = m_server->server().collections().get(QStringLiteral("people"));
    QVERIFY(createCollection(thingsDefinition(QStringLiteral("copy"), people->id)));
    m_clock->advanceMs(600'000); // an import that stamped "now" would show (tokens live 15 minutes)
    const Received imported = request("POST", "/api/collections/copy/import", true, original.body, "text/csv");
    QVERIFY2(imported.status == 200, imported.summary().constData());
    QCOMPARE(imported.json().value(u"imported").toInt(), 3);
    const Received copy = request("GET", "/api/collections/copy/export", true);
    QVERIFY2(copy.status == 200 && copy.complete, copy.summary().constData());
    QCOMPARE(copy.body, original.body);
    // The same file built by hand from the parsed rows imports just as well (the writer's own quoting).
    QCOMPARE(csvBody(parseCsv(original.body)), original.body);
}

void TestTransfer::roundTripJson()
{
    QVERIFY(seedThings());
    const Received original = request("GET", "/api/collections/things/export?format=json", true);
    QVERIFY2(original.status == 200 && original.complete, original.summary().constData());
    auto people = m_server->server().collections().get(QStringLiteral("people"));
    QVERIFY(createCollection(thingsDefinition(QStringLiteral("copy"), people->id)));
    m_clock->advanceMs(600'000);
    const Received imported = request("POST", "/api/collections/copy/import", true, original.body, "application/json");
    QVERIFY2(imported.status == 200, imported.summary().constData());
    const Received copy = request("GET", "/api/collections/copy/export?format=json", true);
    const auto records = [](const QByteArray &body) {
        QJsonArray out;
        for (const QJsonValue &item : QJsonDocument::fromJson(body).array()) {
            QJsonObject record = item.toObject();
            record.remove(QStringLiteral("collectionId"));
            record.remove(QStringLiteral("collectionName"));
            out.append(record);
        }
        return out;
    };
    QCOMPARE(records(copy.body).size(), 3);
    QCOMPARE(records(copy.body), records(original.body));
}

QTEST_GUILESS_MAIN(TestTransfer)
#include "tst_transfer.moc"
