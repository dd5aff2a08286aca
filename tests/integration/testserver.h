#pragma once

#include <QByteArray>
#include <QDeadlineTimer>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <functional>
#include <memory>
#include <optional>

#include "core/clock.h"
#include "http/limits.h"
#include "server/server.h"

namespace Outpost::Testing {

using HeaderList = QList<QPair<QByteArray, QByteArray>>;

// One HTTP/1.1 response as RawClient read it off the wire.
struct HttpResponse
{
    int status = 0; // 0: no complete response arrived (closed or timed out first)
    QByteArray reason;
    HeaderList headers; // in order, names as sent
    QByteArray body;

    bool isValid() const { return status > 0; }
    bool hasHeader(QByteArrayView name) const;
    QByteArray header(QByteArrayView name) const; // first value, case-insensitive name; empty if absent
    int headerCount(QByteArrayView name) const;
    QJsonObject json() const; // the body as a JSON object; empty if it is not one
};

// Serialises a request exactly as given: `method target HTTP/1.1`, `Host`, the extra `headers`, and
// `Content-Length` when `body` is non-empty. Build malformed requests by hand instead.
QByteArray httpRequest(QByteArrayView method, QByteArrayView target, QByteArrayView body = {},
                       const HeaderList &headers = {});
QByteArray jsonRequest(QByteArrayView target, const QJsonObject &body, const HeaderList &headers = {});
QByteArray loginRequest(const QString &identity, const QString &password, QByteArrayView collection = "_superusers");

// A blocking HTTP/1.1 client over one raw QTcpSocket, for sending requests byte for byte, malformed
// ones included. Meant for the test thread while the server runs on its own threads. Every call is
// bounded by the timeout given to the constructor (or to the call).
//
// Not thread-safe; use it on the thread that created it.
class RawClient
{
public:
    explicit RawClient(int timeoutMs = 5000);

    bool connectTo(quint16 port);
    // Writes all of `bytes` and waits until the kernel has taken them. False if the connection
    // failed or the time ran out.
    bool send(const QByteArray &bytes);
    // Reads one response: status line, header fields, and a body of Content-Length bytes (none for
    // 1xx, 204, 304 or when `headRequest`; up to the close when there is no Content-Length).
    HttpResponse readResponse(bool headRequest = false);
    // True when the peer closes the connection (FIN or reset) within `timeoutMs`. Bytes that arrive
    // meanwhile are kept: see unread().
    bool waitForClosed(int timeoutMs);
    // True when nothing arrives and the connection stays open for `ms`.
    bool staysQuiet(int ms);
    // Streams `total` bytes: `prefix` then repetitions of `filler`, a chunk at a time. Stops early
    // when the server closes, or (if `untilAnswered`) answers. Returns the bytes the kernel accepted.
    qint64 stream(QByteArrayView prefix, char filler, qint64 total, bool untilAnswered = true);

    // Without waiting: true when bytes have arrived that readResponse() has not consumed, or the
    // peer has closed.
    bool poll();
    bool isClosed() const { return m_closed; }
    // Received bytes readResponse() has not consumed.
    const QByteArray &unread() const { return m_buffer; }
    QTcpSocket &socket() { return m_socket; }

private:
    // Moves what the socket has into m_buffer, waiting for more until `deadline`. False when nothing
    // new arrived (closed or timed out).
    bool receive(const QDeadlineTimer &deadline);
    void drainSocket();

    QTcpSocket m_socket;
    QByteArray m_buffer;
    int m_timeoutMs;
    bool m_closed = false;
};

// An in-process Outpost::Server on 127.0.0.1, port 0, with a fresh temporary data directory.
// Create, start and destroy on the test thread; the server answers from its own network threads,
// so RawClient may block in the same thread.
class TestServer
{
public:
    struct Options
    {
        int threads = 2;
        const Clock *clock = nullptr; // not owned; must outlive the server. Null: the system clock.
        std::optional<Http::Limits> limits;
        // Off unless a test is about them: most tests send more requests from one address than
        // the default auth limit allows.
        RateRules rateLimits = RateRules::off();
        // Changes the rest of the Config before the server is built.
        std::function<void(Config &)> configure = {};
    };

    TestServer();
    explicit TestServer(Options options);
    ~TestServer();

    // False (with errorString()) if the directory or the server cannot be set up.
    bool start();
    QString errorString() const { return m_error; }
    // Config::trustedProxies for the next start(); none by default.
    void setTrustedProxies(QList<QPair<QHostAddress, int>> cidrs) { m_trustedProxies = std::move(cidrs); }

    Server &server() { return *m_server; }
    quint16 port() const { return m_server ? m_server->port() : 0; }
    QString dataDir() const { return m_dir.path(); }

    // Through the service, not HTTP. False (with errorString()) when it fails.
    bool createSuperuser(const QString &email, const QByteArray &password);
    // Sends `raw` on a new connection and reads one response.
    HttpResponse roundTrip(const QByteArray &raw, bool headRequest = false, int timeoutMs = 5000);
    HttpResponse get(QByteArrayView target) { return roundTrip(httpRequest("GET", target)); }
    // Logs in over HTTP; the token, or empty on failure.
    QByteArray login(const QString &email, const QString &password);

private:
    Options m_options;
    QList<QPair<QHostAddress, int>> m_trustedProxies;
    QTemporaryDir m_dir;
    std::unique_ptr<Server> m_server;
    QString m_error;
};

} // namespace Outpost::Testing
