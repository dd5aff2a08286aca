#include "testserver.h"

#include <QHostAddress>
#include <QJsonDocument>

#include "auth/superusers.h"
#include "core/config.h"

namespace Outpost::Testing {

namespace {

constexpr qsizetype kStreamChunk = 64 * 1024;

int remainingMs(const QDeadlineTimer &deadline)
{
    return int(qMax<qint64>(0, deadline.remainingTime()));
}

} // namespace

bool HttpResponse::hasHeader(QByteArrayView name) const
{
    return headerCount(name) > 0;
}

QByteArray HttpResponse::header(QByteArrayView name) const
{
    for (const auto &[key, value] : headers)
        if (name.compare(key, Qt::CaseInsensitive) == 0)
            return value;
    return {};
}

int HttpResponse::headerCount(QByteArrayView name) const
{
    int n = 0;
    for (const auto &field : headers)
        n += name.compare(field.first, Qt::CaseInsensitive) == 0 ? 1 : 0;
    return n;
}

QJsonObject HttpResponse::json() const
{
    return QJsonDocument::fromJson(body).object();
}

QByteArray httpRequest(QByteArrayView method, QByteArrayView target, QByteArrayView body, const HeaderList &headers)
{
    QByteArray out;
    out.append(method).append(' ').append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (const auto &[name, value] : headers)
        out.append(name).append(": ").append(value).append("\r\n");
    if (!body.isEmpty() || method == "POST" || method == "PUT" || method == "PATCH")
        out.append("Content-Length: ").append(QByteArray::number(body.size())).append("\r\n");
    out.append("\r\n").append(body);
    return out;
}

QByteArray jsonRequest(QByteArrayView target, const QJsonObject &body, const HeaderList &headers)
{
    HeaderList all = headers;
    all.append(qMakePair(QByteArray("Content-Type"), QByteArray("application/json")));
    return httpRequest("POST", target, QJsonDocument(body).toJson(QJsonDocument::Compact), all);
}

QByteArray loginRequest(const QString &identity, const QString &password, QByteArrayView collection)
{
    QByteArray target("/api/collections/");
    target.append(collection).append("/auth-with-password");
    return jsonRequest(target,
                       QJsonObject {{QStringLiteral("identity"), identity}, {QStringLiteral("password"), password}});
}

RawClient::RawClient(int timeoutMs)
    : m_timeoutMs(timeoutMs)
{
}

bool RawClient::connectTo(quint16 port)
{
    m_buffer.clear();
    m_closed = false;
    m_socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
    return m_socket.waitForConnected(m_timeoutMs);
}

bool RawClient::send(const QByteArray &bytes)
{
    if (m_socket.state() != QAbstractSocket::ConnectedState)
        return false;
    if (m_socket.write(bytes) != bytes.size())
        return false;
    const QDeadlineTimer deadline(m_timeoutMs);
    while (m_socket.bytesToWrite() > 0) {
        if (deadline.hasExpired() || !m_socket.waitForBytesWritten(remainingMs(deadline)))
            return false;
    }
    return true;
}

void RawClient::drainSocket()
{
    if (m_socket.bytesAvailable() > 0)
        m_buffer.append(m_socket.readAll());
}

bool RawClient::receive(const QDeadlineTimer &deadline)
{
    if (m_socket.bytesAvailable() > 0) {
        drainSocket();
        return true;
    }
    if (m_closed)
        return false;
    if (m_socket.state() != QAbstractSocket::ConnectedState) {
        m_closed = true;
        return false;
    }
    // waitForReadyRead() is false both on timeout and when the peer closed; the state tells which.
    const bool ready = !deadline.hasExpired() && m_socket.waitForReadyRead(remainingMs(deadline));
    const qsizetype before = m_buffer.size();
    drainSocket();
    if (m_socket.state() != QAbstractSocket::ConnectedState)
        m_closed = true;
    return ready || m_buffer.size() > before;
}

HttpResponse RawClient::readResponse(bool headRequest)
{
    const QDeadlineTimer deadline(m_timeoutMs);
    qsizetype headEnd = -1;
    while ((headEnd = m_buffer.indexOf("\r\n\r\n")) < 0) {
        if (!receive(deadline))
            return {};
    }
    const QList<QByteArray> lines = m_buffer.first(headEnd).split('\n');
    HttpResponse response;
    const QByteArray statusLine = lines.value(0).trimmed();
    const QList<QByteArray> parts = statusLine.split(' ');
    if (parts.size() < 2 || !parts[0].startsWith("HTTP/1."))
        return {};
    bool ok = false;
    const int status = parts[1].toInt(&ok);
    if (!ok)
        return {};
    response.reason = statusLine.mid(parts[0].size() + parts[1].size() + 2);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            response.headers.append({line.left(colon), line.mid(colon + 1).trimmed()});
    }
    const qsizetype bodyStart = headEnd + 4;
    qint64 length = 0;
    const bool noBody = headRequest || status < 200 || status == 204 || status == 304;
    if (!noBody && response.hasHeader("Content-Length")) {
        length = response.header("Content-Length").toLongLong(&ok);
        if (!ok || length < 0)
            return {};
    } else if (!noBody) {
        while (receive(deadline)) { } // delimited by the close (RFC 9112 §6.3, item 8)
        if (!m_closed)
            return {};
        length = m_buffer.size() - bodyStart;
    }
    while (m_buffer.size() < bodyStart + length) {
        if (!receive(deadline))
            return {};
    }
    response.status = status;
    response.body = m_buffer.mid(bodyStart, length);
    m_buffer.remove(0, bodyStart + length);
    return response;
}

bool RawClient::poll()
{
    if (!m_closed && m_socket.state() == QAbstractSocket::ConnectedState && m_socket.bytesAvailable() == 0)
        m_socket.waitForReadyRead(0);
    drainSocket();
    if (m_socket.state() != QAbstractSocket::ConnectedState)
        m_closed = true;
    return !m_buffer.isEmpty() || m_closed;
}

bool RawClient::waitForClosed(int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    while (!m_closed && !deadline.hasExpired())
        receive(deadline);
    drainSocket();
    return m_closed;
}

bool RawClient::staysQuiet(int ms)
{
    const QDeadlineTimer deadline(ms);
    const qsizetype before = m_buffer.size();
    while (!m_closed && !deadline.hasExpired() && m_buffer.size() == before)
        receive(deadline);
    return !m_closed && m_buffer.size() == before;
}

qint64 RawClient::stream(QByteArrayView prefix, char filler, qint64 total, bool untilAnswered)
{
    const QByteArray chunk(kStreamChunk, filler);
    const QDeadlineTimer deadline(m_timeoutMs);
    qint64 queued = 0;
    while (queued < total && !m_closed && (!untilAnswered || m_buffer.isEmpty()) && !deadline.hasExpired()) {
        if (m_socket.state() != QAbstractSocket::ConnectedState)
            break;
        const QByteArrayView piece = queued < prefix.size()
            ? prefix.sliced(queued, qMin<qint64>(prefix.size() - queued, kStreamChunk))
            : QByteArrayView(chunk).first(qMin<qint64>(kStreamChunk, total - queued));
        const qint64 written = m_socket.write(piece.data(), piece.size());
        if (written <= 0)
            break;
        queued += written;
        // waitForBytesWritten() also reads whatever the server sends meanwhile.
        while (m_socket.bytesToWrite() > 0 && !deadline.hasExpired())
            if (!m_socket.waitForBytesWritten(remainingMs(deadline)))
                break;
        drainSocket();
        if (m_socket.state() != QAbstractSocket::ConnectedState)
            m_closed = true;
    }
    return queued - m_socket.bytesToWrite();
}

TestServer::TestServer()
    : TestServer(Options {})
{
}

TestServer::TestServer(Options options)
    : m_options(std::move(options))
{
}

TestServer::~TestServer()
{
    if (m_server)
        m_server->stop(0);
}

bool TestServer::start()
{
    if (!m_dir.isValid()) {
        m_error = QStringLiteral("cannot create a temporary directory: %1").arg(m_dir.errorString());
        return false;
    }
    Config config;
    config.dataDir = m_dir.path();
    config.listenHost = QHostAddress(QHostAddress::LocalHost);
    config.listenPort = 0;
    config.threads = m_options.threads;
    config.trustedProxies = m_trustedProxies;
    config.rateLimits = m_options.rateLimits;
    if (m_options.configure)
        m_options.configure(config);
    m_server = std::make_unique<Server>(config, m_options.clock);
    if (m_options.limits)
        m_server->setLimits(*m_options.limits);
    if (auto s = m_server->start(); !s) {
        m_error = s.error().message;
        return false;
    }
    return true;
}

bool TestServer::createSuperuser(const QString &email, const QByteArray &password)
{
    auto user = m_server->superusers().create(email, password);
    if (!user)
        m_error = user.error().message;
    return user.ok();
}

HttpResponse TestServer::roundTrip(const QByteArray &raw, bool headRequest, int timeoutMs)
{
    RawClient client(timeoutMs);
    if (!client.connectTo(port()) || !client.send(raw))
        return {};
    return client.readResponse(headRequest);
}

QByteArray TestServer::login(const QString &email, const QString &password)
{
    const HttpResponse response = roundTrip(loginRequest(email, password));
    return response.status == 200 ? response.json().value(QStringLiteral("token")).toString().toLatin1() : QByteArray();
}

} // namespace Outpost::Testing
