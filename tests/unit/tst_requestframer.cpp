#include <QTest>

#include "http/requestframer.h"

using namespace Outpost::Http;

namespace {

QByteArray head(const QByteArray &requestLine, const QList<QByteArray> &fields = {})
{
    QByteArray out = requestLine + "\r\n";
    for (const QByteArray &field : fields)
        out += field + "\r\n";
    return out + "\r\n";
}

QByteArray getWithFields(const QList<QByteArray> &fields)
{
    return head("GET / HTTP/1.1", QList<QByteArray> {"Host: a"} + fields);
}

QList<QByteArray> numberedFields(int count, int valueSize = 1)
{
    QList<QByteArray> fields;
    for (int i = 0; i < count; ++i)
        fields << "X-Field-" + QByteArray::number(i) + ": " + QByteArray(valueSize, 'v');
    return fields;
}

const char *resultName(HeadResult result)
{
    switch (result) {
    case HeadResult::NeedMore:
        return "NeedMore";
    case HeadResult::Complete:
        return "Complete";
    case HeadResult::Error:
        return "Error";
    }
    return "?";
}

const char *resultName(ChunkedDecoder::Result result)
{
    switch (result) {
    case ChunkedDecoder::Result::NeedMore:
        return "NeedMore";
    case ChunkedDecoder::Result::Done:
        return "Done";
    case ChunkedDecoder::Result::Error:
        return "Error";
    }
    return "?";
}

} // namespace

class TestRequestFramer : public QObject
{
    Q_OBJECT

private slots:
    void validHeads_data();
    void validHeads();
    void fieldsKeptInOrder();
    void needMore_data();
    void needMore();
    void everyPrefixOfAHeadNeedsMore();
    void errors_data();
    void errors();
    void chunked_data();
    void chunked();
    void chunkedByteByByte_data();
    void chunkedByteByByte();
    void chunkedErrors_data();
    void chunkedErrors();
    void forwardedRequest_data();
    void forwardedRequest();

private:
    const Limits m_limits;
};

void TestRequestFramer::validHeads_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<int>("minorVersion");
    QTest::addColumn<int>("skipped");
    QTest::addColumn<int>("headLength"); // -1: everything after `skipped`
    QTest::addColumn<bool>("keepAlive");
    QTest::addColumn<bool>("expectContinue");
    QTest::addColumn<qint64>("contentLength");
    QTest::addColumn<bool>("chunked");

    QTest::newRow("GET with Host") << head("GET / HTTP/1.1", {"Host: example.com"}) << QByteArray("GET")
                                   << QByteArray("/") << 1 << 0 << -1 << true << false << qint64(0) << false;
    QTest::newRow("HTTP/1.0 without Host")
        << head("GET /index.html?q=1 HTTP/1.0") << QByteArray("GET") << QByteArray("/index.html?q=1") << 0 << 0 << -1
        << false << false << qint64(0) << false;
    QTest::newRow("HTTP/1.0 keep-alive") << head("GET / HTTP/1.0", {"Connection: keep-alive"}) << QByteArray("GET")
                                         << QByteArray("/") << 0 << 0 << -1 << true << false << qint64(0) << false;
    QTest::newRow("HTTP/1.0 with Host") << head("HEAD / HTTP/1.0", {"Host: a"}) << QByteArray("HEAD") << QByteArray("/")
                                        << 0 << 0 << -1 << false << false << qint64(0) << false;
    QTest::newRow("leading CRLFs skipped") << "\r\n\r\n" + head("GET / HTTP/1.1", {"Host: a"}) << QByteArray("GET")
                                           << QByteArray("/") << 1 << 4 << -1 << true << false << qint64(0) << false;
    QTest::newRow("leading LF skipped") << "\n" + head("GET / HTTP/1.1", {"Host: a"}) << QByteArray("GET")
                                        << QByteArray("/") << 1 << 1 << -1 << true << false << qint64(0) << false;
    QTest::newRow("LF-only line endings")
        << QByteArray("GET /x HTTP/1.1\nHost: a\nAccept: */*\n\n") << QByteArray("GET") << QByteArray("/x") << 1 << 0
        << -1 << true << false << qint64(0) << false;
    QTest::newRow("Connection: close") << getWithFields({"Connection: close"}) << QByteArray("GET") << QByteArray("/")
                                       << 1 << 0 << -1 << false << false << qint64(0) << false;
    // RFC 9112 §9.3: "close" ends the connection whatever else the field says.
    QTest::newRow("HTTP/1.0 close wins over keep-alive")
        << head("GET / HTTP/1.0", {"Connection: close, keep-alive"}) << QByteArray("GET") << QByteArray("/") << 0 << 0
        << -1 << false << false << qint64(0) << false;
    QTest::newRow("Connection list with CLOSE")
        << getWithFields({"Connection: foo, CLOSE"}) << QByteArray("GET") << QByteArray("/") << 1 << 0 << -1 << false
        << false << qint64(0) << false;
    QTest::newRow("Expect: 100-continue")
        << head("POST /api HTTP/1.1", {"Host: a", "Content-Length: 5", "Expect: 100-continue"}) << QByteArray("POST")
        << QByteArray("/api") << 1 << 0 << -1 << true << true << qint64(5) << false;
    QTest::newRow("Expect in HTTP/1.0 ignored")
        << head("POST /api HTTP/1.0", {"Content-Length: 5", "Expect: 100-Continue"}) << QByteArray("POST")
        << QByteArray("/api") << 0 << 0 << -1 << false << false << qint64(5) << false;
    const QByteArray post = head("POST /api HTTP/1.1", {"Host: a", "Content-Length: 5"});
    QTest::newRow("body follows the head") << post + "hello" << QByteArray("POST") << QByteArray("/api") << 1 << 0
                                           << int(post.size()) << true << false << qint64(5) << false;
    QTest::newRow("pipelined request follows") << post + "helloGET / HTTP/1.1\r\n"
                                               << QByteArray("POST") << QByteArray("/api") << 1 << 0 << int(post.size())
                                               << true << false << qint64(5) << false;
    QTest::newRow("Content-Length 0") << head("PUT /x HTTP/1.1", {"Host: a", "Content-Length: 0"}) << QByteArray("PUT")
                                      << QByteArray("/x") << 1 << 0 << -1 << true << false << qint64(0) << false;
    QTest::newRow("Content-Length leading zeros")
        << head("PATCH /x HTTP/1.1", {"Host: a", "Content-Length: 007"}) << QByteArray("PATCH") << QByteArray("/x") << 1
        << 0 << -1 << true << false << qint64(7) << false;
    QTest::newRow("Content-Length at the limit")
        << head("POST / HTTP/1.1", {"Host: a", "Content-Length: 16777216"}) << QByteArray("POST") << QByteArray("/")
        << 1 << 0 << -1 << true << false << qint64(16 * 1024 * 1024) << false;
    QTest::newRow("lower-case names") << head("DELETE /x HTTP/1.1", {"host: a", "content-length: 3"})
                                      << QByteArray("DELETE") << QByteArray("/x") << 1 << 0 << -1 << true << false
                                      << qint64(3) << false;
    QTest::newRow("chunked") << head("POST / HTTP/1.1", {"Host: a", "Transfer-Encoding: chunked"}) << QByteArray("POST")
                             << QByteArray("/") << 1 << 0 << -1 << true << false << qint64(0) << true;
    QTest::newRow("chunked, any case") << head("POST / HTTP/1.1", {"Host: a", "transfer-encoding: Chunked"})
                                       << QByteArray("POST") << QByteArray("/") << 1 << 0 << -1 << true << false
                                       << qint64(0) << true;
    QTest::newRow("Content-Length: 5, 5")
        << head("POST / HTTP/1.1", {"Host: a", "Content-Length: 5, 5"}) << QByteArray("POST") << QByteArray("/") << 1
        << 0 << -1 << true << false << qint64(5) << false;
    QTest::newRow("Content-Length twice, same value")
        << head("POST / HTTP/1.1", {"Host: a", "Content-Length: 5", "Content-Length: 5"}) << QByteArray("POST")
        << QByteArray("/") << 1 << 0 << -1 << true << false << qint64(5) << false;
    QTest::newRow("Upgrade") << getWithFields({"Connection: Upgrade", "Upgrade: websocket"}) << QByteArray("GET")
                             << QByteArray("/") << 1 << 0 << -1 << true << false << qint64(0) << false;
    QTest::newRow("Upgrade field alone") << getWithFields({"Upgrade: h2c"}) << QByteArray("GET") << QByteArray("/") << 1
                                         << 0 << -1 << true << false << qint64(0) << false;
    QTest::newRow("Connection: upgrade alone")
        << getWithFields({"Connection: keep-alive, upgrade"}) << QByteArray("GET") << QByteArray("/") << 1 << 0 << -1
        << true << false << qint64(0) << false;
    QTest::newRow("OPTIONS *") << head("OPTIONS * HTTP/1.1", {"Host: a"}) << QByteArray("OPTIONS") << QByteArray("*")
                               << 1 << 0 << -1 << true << false << qint64(0) << false;
    QTest::newRow("absolute-form target")
        << head("GET http://example.com/x HTTP/1.1", {"Host: example.com"}) << QByteArray("GET")
        << QByteArray("http://example.com/x") << 1 << 0 << -1 << true << false << qint64(0) << false;
    QTest::newRow("tab and obs-text in a value")
        << getWithFields({"X-A: a\tb", "X-B: caf\xc3\xa9"}) << QByteArray("GET") << QByteArray("/") << 1 << 0 << -1
        << true << false << qint64(0) << false;
    QTest::newRow("exactly maxHeaderCount fields")
        << getWithFields(numberedFields(63)) << QByteArray("GET") << QByteArray("/") << 1 << 0 << -1 << true << false
        << qint64(0) << false;
    const QByteArray longTarget = '/' + QByteArray(8192 - int(qstrlen("GET / HTTP/1.1")), 'a');
    QTest::newRow("request line of exactly maxRequestLine")
        << head("GET " + longTarget + " HTTP/1.1", {"Host: a"}) << QByteArray("GET") << longTarget << 1 << 0 << -1
        << true << false << qint64(0) << false;
}

void TestRequestFramer::validHeads()
{
    QFETCH(QByteArray, data);
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(int, minorVersion);
    QFETCH(int, skipped);
    QFETCH(int, headLength);
    QFETCH(bool, keepAlive);
    QFETCH(bool, expectContinue);
    QFETCH(qint64, contentLength);
    QFETCH(bool, chunked);

    RequestHead parsed;
    FrameError error;
    const HeadResult result = parseRequestHead(data, m_limits, &parsed, &error);
    QVERIFY2(result == HeadResult::Complete,
             qPrintable(QStringLiteral("%1 (%2): %3")
                            .arg(QString::fromLatin1(resultName(result)))
                            .arg(error.status)
                            .arg(error.detail)));
    QCOMPARE(parsed.method, method);
    QCOMPARE(parsed.target, target);
    QCOMPARE(parsed.minorVersion, minorVersion);
    QCOMPARE(parsed.skipped, qsizetype(skipped));
    QCOMPARE(parsed.headLength, headLength < 0 ? data.size() - skipped : qsizetype(headLength));
    QCOMPARE(parsed.keepAlive, keepAlive);
    QCOMPARE(parsed.expectContinue, expectContinue);
    QCOMPARE(parsed.contentLength, contentLength);
    QCOMPARE(parsed.chunked, chunked);
}

void TestRequestFramer::fieldsKeptInOrder()
{
    const QByteArray data = head("GET / HTTP/1.1", {"Host:   example.com  ", "X-Empty:", "x-lower: Value, Two"});
    RequestHead parsed;
    FrameError error;
    QCOMPARE(parseRequestHead(data, m_limits, &parsed, &error), HeadResult::Complete);
    const QList<QPair<QByteArray, QByteArray>> expected {
        {"Host", "example.com"}, {"X-Empty", ""}, {"x-lower", "Value, Two"}};
    QCOMPARE(parsed.fields, expected);
}

void TestRequestFramer::needMore_data()
{
    QTest::addColumn<QByteArray>("data");

    QTest::newRow("nothing") << QByteArray();
    QTest::newRow("empty lines only") << QByteArray("\r\n\r\n");
    QTest::newRow("method only") << QByteArray("GET");
    QTest::newRow("request line without CRLF") << QByteArray("GET / HTTP/1.1");
    QTest::newRow("request line with CR only") << QByteArray("GET / HTTP/1.1\r");
    QTest::newRow("request line") << QByteArray("GET / HTTP/1.1\r\n");
    QTest::newRow("partial field") << QByteArray("GET / HTTP/1.1\r\nHo");
    QTest::newRow("field without end of head") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n");
    QTest::newRow("CR of the empty line") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n\r");
    QTest::newRow("long but within limits") << QByteArray("GET / HTTP/1.1\r\nX-Big: ") + QByteArray(30000, 'b');
}

void TestRequestFramer::needMore()
{
    QFETCH(QByteArray, data);
    RequestHead parsed;
    FrameError error;
    const HeadResult result = parseRequestHead(data, m_limits, &parsed, &error);
    QVERIFY2(result == HeadResult::NeedMore, qPrintable(QString::fromLatin1(resultName(result)) + u' ' + error.detail));
}

void TestRequestFramer::everyPrefixOfAHeadNeedsMore()
{
    const QByteArray data = head("POST /api/x?y=1 HTTP/1.1",
                                 {"Host: example.com", "Content-Length: 2", "Expect: 100-continue", "X-A: b"});
    RequestHead parsed;
    FrameError error;
    for (qsizetype n = 0; n < data.size(); ++n) {
        const HeadResult result = parseRequestHead(data.first(n), m_limits, &parsed, &error);
        QVERIFY2(result == HeadResult::NeedMore,
                 qPrintable(QStringLiteral("prefix of %1 bytes: %2 %3")
                                .arg(n)
                                .arg(QString::fromLatin1(resultName(result)))
                                .arg(error.detail)));
    }
    QCOMPARE(parseRequestHead(data, m_limits, &parsed, &error), HeadResult::Complete);
}

void TestRequestFramer::errors_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<int>("status");

    const QByteArray longLine = "GET /" + QByteArray(8200, 'a') + " HTTP/1.1";
    QTest::newRow("414 long request line") << head(longLine, {"Host: a"}) << 414;
    QTest::newRow("414 long request line, incomplete") << longLine.left(8500) << 414;
    QTest::newRow("431 head too big") << getWithFields(numberedFields(10, 4000)) << 431;
    QTest::newRow("431 head too big, no end yet")
        << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n") + numberedFields(10, 4000).join("\r\n") << 431;
    QTest::newRow("431 head too big, in one unfinished field")
        << QByteArray("GET / HTTP/1.1\r\nX-Big: ") + QByteArray(33000, 'b') << 431;
    QTest::newRow("431 101 fields") << getWithFields(numberedFields(100)) << 431;
    QTest::newRow("431 maxHeaderCount + 1 fields") << getWithFields(numberedFields(64)) << 431;
    QTest::newRow("400 obs-fold with space") << getWithFields({"X-A: a", " b"}) << 400;
    QTest::newRow("400 obs-fold with tab") << getWithFields({"X-A: a", "\tb"}) << 400;
    QTest::newRow("400 space before colon") << head("GET / HTTP/1.1", {"Host : a"}) << 400;
    QTest::newRow("400 space inside name") << getWithFields({"X A: b"}) << 400;
    QTest::newRow("400 missing colon") << getWithFields({"X-A b"}) << 400;
    QTest::newRow("400 empty name") << getWithFields({": b"}) << 400;
    QTest::newRow("400 control character in value") << getWithFields({"X-A: a\x01z"}) << 400;
    QTest::newRow("400 NUL in value") << getWithFields({QByteArray("X-A: a\0z", 8)}) << 400;
    QTest::newRow("400 DEL in value") << getWithFields({"X-A: a\x7fz"}) << 400;
    QTest::newRow("400 bare CR in value") << getWithFields({"X-A: a\rz"}) << 400;
    QTest::newRow("400 Transfer-Encoding and Content-Length")
        << getWithFields({"Transfer-Encoding: chunked", "Content-Length: 5"}) << 400;
    QTest::newRow("400 Content-Length and Transfer-Encoding")
        << getWithFields({"Content-Length: 5", "Transfer-Encoding: chunked"}) << 400;
    QTest::newRow("400 differing Content-Length fields")
        << getWithFields({"Content-Length: 5", "Content-Length: 6"}) << 400;
    QTest::newRow("400 differing Content-Length list") << getWithFields({"Content-Length: 5, 6"}) << 400;
    QTest::newRow("400 non-numeric Content-Length") << getWithFields({"Content-Length: abc"}) << 400;
    QTest::newRow("400 negative Content-Length") << getWithFields({"Content-Length: -1"}) << 400;
    QTest::newRow("400 signed Content-Length") << getWithFields({"Content-Length: +5"}) << 400;
    QTest::newRow("400 hex Content-Length") << getWithFields({"Content-Length: 0x10"}) << 400;
    QTest::newRow("400 fractional Content-Length") << getWithFields({"Content-Length: 1.5"}) << 400;
    QTest::newRow("400 empty Content-Length") << getWithFields({"Content-Length:"}) << 400;
    QTest::newRow("400 empty second Content-Length") << getWithFields({"Content-Length: 5", "Content-Length:"}) << 400;
    QTest::newRow("400 huge Content-Length") << getWithFields({"Content-Length: 1234567890123456"}) << 400;
    QTest::newRow("501 unknown transfer coding") << getWithFields({"Transfer-Encoding: gzip"}) << 501;
    QTest::newRow("501 gzip before chunked") << getWithFields({"Transfer-Encoding: gzip, chunked"}) << 501;
    QTest::newRow("400 chunked not last") << getWithFields({"Transfer-Encoding: chunked, gzip"}) << 400;
    QTest::newRow("400 chunked twice") << getWithFields({"Transfer-Encoding: chunked", "Transfer-Encoding: chunked"})
                                       << 400;
    QTest::newRow("400 empty Transfer-Encoding") << getWithFields({"Transfer-Encoding: "}) << 400;
    QTest::newRow("400 Transfer-Encoding in HTTP/1.0")
        << head("POST / HTTP/1.0", {"Transfer-Encoding: chunked"}) << 400;
    QTest::newRow("501 TRACE") << head("TRACE / HTTP/1.1", {"Host: a"}) << 501;
    QTest::newRow("501 FOO") << head("FOO / HTTP/1.1", {"Host: a"}) << 501;
    QTest::newRow("501 CONNECT") << head("CONNECT example.com:443 HTTP/1.1", {"Host: example.com"}) << 501;
    QTest::newRow("501 lower-case method") << head("get / HTTP/1.1", {"Host: a"}) << 501;
    QTest::newRow("505 HTTP/2.0") << head("GET / HTTP/2.0", {"Host: a"}) << 505;
    QTest::newRow("505 HTTP/1.2") << head("GET / HTTP/1.2", {"Host: a"}) << 505;
    QTest::newRow("505 HTTP/0.9") << head("GET / HTTP/0.9") << 505;
    QTest::newRow("400 version without minor") << head("GET / HTTP/1", {"Host: a"}) << 400;
    QTest::newRow("400 lower-case version") << head("GET / http/1.1", {"Host: a"}) << 400;
    QTest::newRow("400 garbage request line") << head("HELLO") << 400;
    QTest::newRow("400 binary request line")
        << head(QByteArray("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)) << 400;
    QTest::newRow("400 no version") << head("GET /") << 400;
    QTest::newRow("400 double space") << head("GET  / HTTP/1.1", {"Host: a"}) << 400;
    QTest::newRow("400 trailing space") << head("GET / HTTP/1.1 ", {"Host: a"}) << 400;
    QTest::newRow("400 tabs as separators") << head("GET\t/\tHTTP/1.1", {"Host: a"}) << 400;
    QTest::newRow("400 stray CR in request line") << head("GET / HTTP/1.1\r", {"Host: a"}) << 400;
    QTest::newRow("400 bad character in method") << head("G(T / HTTP/1.1", {"Host: a"}) << 400;
    QTest::newRow("400 relative target") << head("GET index.html HTTP/1.1", {"Host: a"}) << 400;
    QTest::newRow("400 asterisk for GET") << head("GET * HTTP/1.1", {"Host: a"}) << 400;
    QTest::newRow("400 non-ASCII target") << head("GET /caf\xc3\xa9 HTTP/1.1", {"Host: a"}) << 400;
    QTest::newRow("400 missing Host in HTTP/1.1") << head("GET / HTTP/1.1", {"Accept: */*"}) << 400;
    QTest::newRow("400 two Host fields") << head("GET / HTTP/1.1", {"Host: a", "Host: b"}) << 400;
    QTest::newRow("400 two Host fields in HTTP/1.0") << head("GET / HTTP/1.0", {"Host: a", "host: a"}) << 400;
    QTest::newRow("400 too many empty lines first")
        << QByteArray(66, '\n') + head("GET / HTTP/1.1", {"Host: a"}) << 400;
    QTest::newRow("413 Content-Length over maxBodyBytes") << getWithFields({"Content-Length: 16777217"}) << 413;
    QTest::newRow("417 Expect other than 100-continue") << getWithFields({"Expect: 200-ok"}) << 417;
    QTest::newRow("417 Expect with parameters") << getWithFields({"Expect: 100-continue; foo"}) << 417;
}

void TestRequestFramer::errors()
{
    QFETCH(QByteArray, data);
    QFETCH(int, status);

    RequestHead parsed;
    FrameError error;
    const HeadResult result = parseRequestHead(data, m_limits, &parsed, &error);
    QVERIFY2(result == HeadResult::Error, resultName(result));
    QCOMPARE(error.status, status);
    QVERIFY(!error.detail.isEmpty());
    QVERIFY(!error.detail.contains(u'\n'));
}

void TestRequestFramer::chunked_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<qint64>("maxBody");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("consumed"); // -1: all of the input

    const qint64 limit = 1024;
    QTest::newRow("simple body") << QByteArray("5\r\nhello\r\n0\r\n\r\n") << limit << QByteArray("hello") << -1;
    QTest::newRow("several chunks") << QByteArray("5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n") << limit
                                    << QByteArray("hello world") << -1;
    QTest::newRow("hex sizes") << QByteArray("a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n") << limit
                               << QByteArray("0123456789abcdefghijk") << -1;
    QTest::newRow("leading zeros") << QByteArray("0005\r\nhello\r\n000\r\n\r\n") << limit << QByteArray("hello") << -1;
    QTest::newRow("chunk extensions") << QByteArray(
        "5;name=value\r\nhello\r\n6 ; quoted=\"a;b\"\r\n world\r\n0;last\r\n\r\n")
                                      << limit << QByteArray("hello world") << -1;
    QTest::newRow("trailers") << QByteArray("5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\n") << limit
                              << QByteArray("hello") << -1;
    QTest::newRow("LF-only line endings") << QByteArray("5\nhello\n0\n\n") << limit << QByteArray("hello") << -1;
    QTest::newRow("empty body") << QByteArray("0\r\n\r\n") << limit << QByteArray() << -1;
    QTest::newRow("CRLF inside data") << QByteArray("4\r\n\r\n\r\n\r\n0\r\n\r\n") << limit << QByteArray("\r\n\r\n")
                                      << -1;
    QTest::newRow("binary data") << QByteArray("3\r\n\0\xff\n\r\n0\r\n\r\n", 13) << limit << QByteArray("\0\xff\n", 3)
                                 << -1;
    QTest::newRow("body exactly at the limit")
        << QByteArray("5\r\nhello\r\n0\r\n\r\n") << qint64(5) << QByteArray("hello") << -1;
    const QByteArray message("3\r\nabc\r\n0\r\n\r\n");
    QTest::newRow("next request follows") << message + "GET / HTTP/1.1\r\n"
                                          << limit << QByteArray("abc") << int(message.size());
}

void TestRequestFramer::chunked()
{
    QFETCH(QByteArray, input);
    QFETCH(qint64, maxBody);
    QFETCH(QByteArray, body);
    QFETCH(int, consumed);

    ChunkedDecoder decoder(maxBody);
    QByteArray out;
    qsizetype used = -1;
    FrameError error;
    const ChunkedDecoder::Result result = decoder.feed(input, out, used, &error);
    QVERIFY2(result == ChunkedDecoder::Result::Done,
             qPrintable(QString::fromLatin1(resultName(result)) + u' ' + error.detail));
    QCOMPARE(out, body);
    QCOMPARE(used, consumed < 0 ? input.size() : qsizetype(consumed));

    // Once done, the decoder consumes nothing more.
    QCOMPARE(decoder.feed("5\r\nextra\r\n", out, used, &error), ChunkedDecoder::Result::Done);
    QCOMPARE(used, qsizetype(0));
    QCOMPARE(out, body);
}

void TestRequestFramer::chunkedByteByByte_data()
{
    chunked_data();
}

void TestRequestFramer::chunkedByteByByte()
{
    QFETCH(QByteArray, input);
    QFETCH(qint64, maxBody);
    QFETCH(QByteArray, body);
    QFETCH(int, consumed);
    const qsizetype end = consumed < 0 ? input.size() : consumed;

    // As a connection does: keep what the decoder did not consume, append what arrives.
    ChunkedDecoder decoder(maxBody);
    QByteArray out;
    QByteArray pending;
    FrameError error;
    ChunkedDecoder::Result result = ChunkedDecoder::Result::NeedMore;
    qsizetype fed = 0;
    while (fed < input.size() && result == ChunkedDecoder::Result::NeedMore) {
        pending += input[fed++];
        qsizetype used = -1;
        result = decoder.feed(pending, out, used, &error);
        QVERIFY(used >= 0 && used <= pending.size());
        pending.remove(0, used);
    }
    QVERIFY2(result == ChunkedDecoder::Result::Done,
             qPrintable(QString::fromLatin1(resultName(result)) + u' ' + error.detail));
    QCOMPARE(fed, end); // done exactly when the last byte of the body arrived
    QVERIFY(pending.isEmpty());
    QCOMPARE(out, body);
}

void TestRequestFramer::chunkedErrors_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<qint64>("maxBody");
    QTest::addColumn<int>("status");

    const qint64 limit = 1024;
    QTest::newRow("malformed size") << QByteArray("xyz\r\nhello\r\n0\r\n\r\n") << limit << 400;
    QTest::newRow("empty size line") << QByteArray("\r\nhello\r\n") << limit << 400;
    QTest::newRow("negative size") << QByteArray("-5\r\nhello\r\n") << limit << 400;
    QTest::newRow("0x prefix") << QByteArray("0x5\r\nhello\r\n") << limit << 400;
    QTest::newRow("size with sign") << QByteArray("+5\r\nhello\r\n") << limit << 400;
    QTest::newRow("size too many digits") << QByteArray("1000000000000000\r\n") << limit << 400;
    QTest::newRow("size line too long") << "5;ext=" + QByteArray(2000, 'e') << limit << 400;
    QTest::newRow("missing CRLF after data") << QByteArray("5\r\nhelloX\r\n0\r\n\r\n") << limit << 400;
    QTest::newRow("CR without LF after data") << QByteArray("5\r\nhello\rX0\r\n\r\n") << limit << 400;
    QTest::newRow("data longer than its size") << QByteArray("3\r\nhello\r\n0\r\n\r\n") << limit << 400;
    QTest::newRow("body over the limit") << QByteArray("5\r\nhello\r\n0\r\n\r\n") << qint64(4) << 413;
    QTest::newRow("body over the limit across chunks")
        << QByteArray("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n") << qint64(8) << 413;
    QTest::newRow("huge chunk announced") << QByteArray("fffffffffffff\r\n") << limit << 413;
    QTest::newRow("trailer section too large") << "0\r\nX-Big: " + QByteArray(9000, 't') + "\r\n\r\n" << limit << 431;
}

void TestRequestFramer::chunkedErrors()
{
    QFETCH(QByteArray, input);
    QFETCH(qint64, maxBody);
    QFETCH(int, status);

    ChunkedDecoder decoder(maxBody);
    QByteArray out;
    qsizetype used = 0;
    FrameError error;
    const ChunkedDecoder::Result result = decoder.feed(input, out, used, &error);
    QVERIFY2(result == ChunkedDecoder::Result::Error, resultName(result));
    QCOMPARE(error.status, status);
    QVERIFY(!error.detail.isEmpty());
}

void TestRequestFramer::forwardedRequest_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("expected");

    // Qt's parser gets the request line and, with a body, a plain Content-Length: none of the
    // client's fields (chunked, Expect, Upgrade, a Content-Length list) can mean anything to it.
    QTest::newRow("chunked") << head("POST /upload?x=1 HTTP/1.1",
                                     {"Host: a", "Transfer-Encoding: chunked", "Expect: 100-continue", "X-Custom: y"})
                             << QByteArray("hello world")
                             << QByteArray("POST /upload?x=1 HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world");
    QTest::newRow("Content-Length list") << head("PUT /x HTTP/1.1", {"Host: a", "Content-Length: 5, 5"})
                                         << QByteArray("abcde")
                                         << QByteArray("PUT /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde");
    QTest::newRow("Upgrade, no body") << head("GET /ws HTTP/1.1",
                                              {"Host: a", "Connection: Upgrade", "Upgrade: websocket"})
                                      << QByteArray() << QByteArray("GET /ws HTTP/1.1\r\n\r\n");
    QTest::newRow("HTTP/1.0, LF-only input")
        << QByteArray("POST /p HTTP/1.0\nContent-Length: 3\nX-A: b\n\n") << QByteArray("abc")
        << QByteArray("POST /p HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
}

void TestRequestFramer::forwardedRequest()
{
    QFETCH(QByteArray, data);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, expected);

    RequestHead parsed;
    FrameError error;
    QCOMPARE(parseRequestHead(data, m_limits, &parsed, &error), HeadResult::Complete);
    QCOMPARE(Outpost::Http::forwardedRequest(parsed, body), expected);
}

QTEST_GUILESS_MAIN(TestRequestFramer)
#include "tst_requestframer.moc"
