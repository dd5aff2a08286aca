#include "connection.h"

#include <QLoggingCategory>
#include <QSslSocket>
#include <QTimerEvent>

#include <sys/socket.h>

#include "exchange.h"
#include "response.h"

Q_LOGGING_CATEGORY(lcGuard, "outpost.http.guard")

namespace Outpost::Http {

namespace {
// Bounds what the wire socket buffers while a request is being handled: the rest waits in the
// kernel, and TCP flow control slows the client down.
constexpr qint64 kWireBufferBytes = 64 * 1024;
// A connection refused at admission lingers only briefly: refused sockets still hold descriptors
// and count towards max_connections, and a client that opens them fast must not fill the table.
constexpr int kRefusedLingerMs = 100;

} // namespace

Connection::Connection(QTcpSocket *wire, const GuardConfig &guard, QObject *parent)
    : QTcpSocket(parent)
    , m_wire(wire)
    , m_guard(guard)
    , m_limits(guard.limits)
    , m_admission(guard.clients.open(wire->peerAddress(), &m_client))
{
    m_wire->setParent(this);
    m_wire->setReadBufferSize(kWireBufferBytes);
    setPeerAddress(m_wire->peerAddress());
    setPeerPort(m_wire->peerPort());
    setLocalAddress(m_wire->localAddress());
    setLocalPort(m_wire->localPort());
    setSocketState(QAbstractSocket::ConnectedState);
    setOpenMode(QIODevice::ReadWrite);
    connect(m_wire, &QTcpSocket::readyRead, this, &Connection::onWireReadyRead);
    connect(m_wire, &QTcpSocket::bytesWritten, this, &Connection::onWireBytesWritten);
    connect(m_wire, &QTcpSocket::disconnected, this, &Connection::onWireDisconnected);
}

void Connection::start()
{
    switch (m_admission) {
    case ClientTable::Admission::ServerBusy:
        reject(503, QStringLiteral("The server has too many open connections; try again shortly."), 1);
        arm(qMin(m_limits.lingerMs, kRefusedLingerMs));
        return;
    case ClientTable::Admission::ClientBusy:
        reject(429,
               QStringLiteral("Too many open connections from your address (at most %1); try again shortly.")
                   .arg(m_limits.maxConnectionsPerClient),
               1);
        arm(qMin(m_limits.lingerMs, kRefusedLingerMs));
        return;
    case ClientTable::Admission::Admitted:
        break;
    }
    arm(m_limits.headerTimeoutMs); // the first request (and a TLS handshake) must come promptly
    if (m_wire->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &Connection::onWireReadyRead, Qt::QueuedConnection);
}

Connection::~Connection()
{
    releaseStream();
    if (m_state == State::Dispatched)
        leaveDispatched();
    m_guard.clients.close(m_client);
    // QAbstractSocket's destructor would abort() a socket it believes connected; we have no engine.
    setSocketState(QAbstractSocket::UnconnectedState);
    setOpenMode(QIODevice::NotOpen);
}

void Connection::arm(int ms)
{
    m_timer.start(ms, Qt::CoarseTimer, this);
}

qint64 Connection::bytesAvailable() const
{
    return QIODevice::bytesAvailable() + (m_deliver.size() - m_deliverPos);
}

qint64 Connection::readData(char *data, qint64 maxSize)
{
    const qint64 n = qMin<qint64>(maxSize, m_deliver.size() - m_deliverPos);
    if (n > 0) {
        memcpy(data, m_deliver.constData() + m_deliverPos, size_t(n));
        m_deliverPos += n;
        if (m_deliverPos == m_deliver.size()) {
            m_deliver.clear();
            m_deliverPos = 0;
        }
    }
    return n;
}

qint64 Connection::readLineData(char *data, qint64 maxSize)
{
    return QIODevice::readLineData(data, maxSize);
}

qint64 Connection::writeData(const char *data, qint64 size)
{
    // Only reached if Qt writes on its own (it does not for our handlers); pass it through.
    return m_wire->write(data, size);
}

void Connection::close()
{
    disconnectFromHost();
}

void Connection::disconnectFromHost()
{
    if (m_state == State::Closed)
        return;
    m_wire->disconnectFromHost();
}

void Connection::closeWhenIdle()
{
    m_closeWhenIdle = true;
    if (m_state == State::Idle || m_state == State::Head) {
        // A request may already sit in the kernel's buffer, not yet read: read it now (this
        // dispatches it if complete), so that the drain waits for its answer instead of dropping it.
        m_wire->waitForReadyRead(0);
    }
    if (m_state != State::Dispatched && m_state != State::Closing && m_state != State::Closed)
        m_wire->disconnectFromHost();
}

void Connection::onWireReadyRead()
{
    switch (m_state) {
    case State::Closing:
        m_wire->skip(m_wire->bytesAvailable()); // lingering close: drain, do not answer
        return;
    case State::Dispatched:
    case State::Closed:
        return; // the next request waits (bounded by the wire's buffer and the kernel's)
    default:
        break;
    }
    const qint64 available = m_wire->bytesAvailable();
    if (available <= 0)
        return;
    const qsizetype old = m_in.size();
    m_in.resize(old + available);
    const qint64 got = m_wire->read(m_in.data() + old, available);
    m_in.resize(old + qMax<qint64>(got, 0));
    if (m_state == State::Body || m_state == State::Chunked)
        arm(m_limits.bodyTimeoutMs); // the body made progress
    process();
}

void Connection::process()
{
    for (;;) {
        switch (m_state) {
        case State::Idle:
        case State::Head: {
            if (m_in.isEmpty())
                return;
            // The head timeout runs from the head's first byte. It is armed only if the head is
            // still incomplete after this parse: a head that arrives whole (the usual case) would
            // only have started a timer that dispatch() stops at once.
            const bool headStarted = m_state == State::Idle;
            m_state = State::Head;
            FrameError error;
            switch (parseRequestHead(m_in, m_limits, &m_head, &error, m_guard.headChecks())) {
            case HeadResult::NeedMore:
                if (headStarted)
                    arm(m_limits.headerTimeoutMs);
                return;
            case HeadResult::Error:
                reject(error.status, error.detail);
                return;
            case HeadResult::Complete:
                break;
            }
            m_in.remove(0, m_head.skipped);
            m_head.skipped = 0;
            const bool hasBody = m_head.chunked || m_head.contentLength > 0;
            // RFC 9110 §10.1.1: answer 100 only if the body has not started arriving already.
            if (m_head.expectContinue && hasBody && m_in.size() == m_head.headLength)
                m_wire->write("HTTP/1.1 100 Continue\r\n\r\n");
            if (m_head.chunked) {
                m_decoder.emplace(m_head.maxBody);
                m_body.clear();
                m_state = State::Chunked;
            } else {
                m_state = State::Body;
            }
            if (hasBody)
                arm(m_limits.bodyTimeoutMs);
            continue;
        }
        case State::Body: {
            const qint64 total = m_head.headLength + m_head.contentLength;
            if (m_in.size() < total)
                return;
            QByteArray request
                = forwardedRequest(m_head, QByteArrayView(m_in).sliced(m_head.headLength, m_head.contentLength));
            m_in.remove(0, total);
            dispatch(std::move(request));
            return;
        }
        case State::Chunked: {
            qsizetype consumed = 0;
            FrameError error;
            const auto result
                = m_decoder->feed(QByteArrayView(m_in).sliced(m_head.headLength), m_body, consumed, &error);
            m_in.remove(m_head.headLength, consumed);
            if (result == ChunkedDecoder::Result::Error) {
                reject(error.status, error.detail);
                return;
            }
            if (result == ChunkedDecoder::Result::NeedMore)
                return;
            QByteArray request = forwardedRequest(m_head, m_body);
            m_in.remove(0, m_head.headLength);
            m_body.clear();
            m_decoder.reset();
            dispatch(std::move(request));
            return;
        }
        case State::Dispatched:
        case State::Closing:
        case State::Closed:
            return;
        }
    }
}

void Connection::dispatch(QByteArray request)
{
    m_timer.stop();
    if (!m_guard.clients.enter(m_client)) {
        answerBusy();
        return;
    }
    m_state = State::Dispatched;
    ++*m_guard.inflight;
    m_deliver = std::move(request);
    m_deliverPos = 0;
    Q_EMIT readyRead(); // Qt's parser reads the request and calls Engine::handleRequest
}

void Connection::leaveDispatched()
{
    --*m_guard.inflight;
    m_guard.clients.leave(m_client);
}

void Connection::answerBusy()
{
    qCDebug(lcGuard) << "too many requests in flight from" << m_wire->peerAddress();
    Q_EMIT rejected(429);
    Response busy = Response::problem(
        429,
        QStringLiteral("Too many requests in flight from your address (at most %1); try again shortly.")
            .arg(m_limits.maxInflightPerClient));
    busy.withHeader("Retry-After", "1");
    const bool keepAlive = m_head.keepAlive && !m_closeWhenIdle;
    sendAndContinue(busy.serialize(m_head.method == "HEAD", keepAlive, httpDate(), responseHeaderLines()), keepAlive);
}

void Connection::respond(const QByteArray &bytes, bool keepAlive)
{
    if (m_state != State::Dispatched)
        return;
    releaseStream();
    leaveDispatched();
    sendAndContinue(bytes, keepAlive);
}

void Connection::sendAndContinue(const QByteArray &bytes, bool keepAlive)
{
    const bool close = !keepAlive || !m_head.keepAlive || m_closeWhenIdle;
    // The state moves first: a failing write aborts the wire and emits disconnected() from inside
    // flush(), and onWireDisconnected() must not count this request a second time.
    m_state = close ? State::Closed : State::Idle;
    m_wire->write(bytes);
    m_wire->flush(); // now, not on the next write notification: saves an event-loop pass per response
    if (close) {
        m_wire->disconnectFromHost(); // after the response is flushed
        return;
    }
    if (m_state != State::Idle)
        return; // the write failed and the connection is gone
    arm(m_limits.keepAliveTimeoutMs);
    if (!m_in.isEmpty() || m_wire->bytesAvailable() > 0) {
        // Pipelined input: continue after Qt has left its readyRead handler.
        QMetaObject::invokeMethod(
            this,
            [this] {
                process();
                onWireReadyRead();
            },
            Qt::QueuedConnection);
    }
}

void Connection::beginStream(std::shared_ptr<Exchange> exchange)
{
    if (m_state != State::Dispatched) {
        exchange->body->cancel();
        return;
    }
    m_stream = std::move(exchange);
    m_stream->body->attach(this);
    arm(m_limits.bodyTimeoutMs);
    pumpStream();
}

void Connection::pumpStream()
{
    if (!m_stream || m_pumping || m_state != State::Dispatched)
        return;
    m_pumping = true;
    const std::shared_ptr<Exchange> stream = m_stream; // pump() may end the stream and release it
    // Stopped for want of room: flush, and go on if that made some. A flush from inside a
    // bytesWritten handler emits no further bytesWritten (QAbstractSocket does not recurse), so if
    // it empties the buffer no signal would ever resume the stream.
    while (stream->pump(*this) && m_state == State::Dispatched) {
        m_wire->flush();
        if (!canSendPart())
            break; // the rest goes when the kernel takes it, and bytesWritten calls us again
    }
    m_pumping = false;
    if (m_state == State::Dispatched)
        m_wire->flush();
}

bool Connection::canSendPart() const
{
    return m_wire->bytesToWrite() < kStreamHighWaterBytes;
}

void Connection::sendPart(QByteArrayView bytes)
{
    m_wire->write(bytes.data(), bytes.size());
}

void Connection::abortResponse(bool reset)
{
    if (m_state != State::Dispatched)
        return;
    releaseStream();
    leaveDispatched();
    m_state = State::Closed;
    m_timer.stop();
    if (reset)
        m_wire->abort();
    else
        m_wire->disconnectFromHost(); // after what was written: the client sees the body end early
}

void Connection::releaseStream()
{
    if (!m_stream)
        return;
    m_stream->body->cancel(); // a producer still running stops at its next write
    m_stream->body->detach();
    m_stream->release(); // counted and logged, also when the client did not wait for the end
    m_stream.reset();
}

QByteArray Connection::responseHeaderLines() const
{
    if (!m_guard.cors.isEnabled())
        return m_guard.fixedHeaders;
    QByteArrayView origin;
    for (const auto &[name, value] : m_head.fields)
        if (name.compare("origin", Qt::CaseInsensitive) == 0)
            origin = value;
    return m_guard.fixedHeaders + m_guard.cors.responseHeaders(origin);
}

void Connection::reject(int status, const QString &detail, int retryAfterSeconds)
{
    qCDebug(lcGuard) << "rejected" << status << detail << "from" << m_wire->peerAddress();
    Q_EMIT rejected(status);
    Response problem = Response::problem(status, detail);
    if (retryAfterSeconds > 0)
        problem.withHeader("Retry-After", QByteArray::number(retryAfterSeconds));
    // The head may be partial or absent: its Origin, if parsed, lets a browser app read the answer.
    m_wire->write(problem.serialize(false, false, httpDate(), responseHeaderLines()));
    m_in.clear();
    m_body.clear();
    m_state = State::Closing;
    arm(m_limits.lingerMs);
    onWireBytesWritten();
}

void Connection::onWireBytesWritten()
{
    if (m_stream) {
        arm(m_limits.bodyTimeoutMs); // the client is reading
        pumpStream();
        return;
    }
    if (m_state != State::Closing || m_wire->bytesToWrite() > 0)
        return;
    // Lingering close: stop sending but keep reading for a moment, so that the client's unread
    // request bytes do not make our kernel reset the connection before it reads the error.
    if (qobject_cast<QSslSocket *>(m_wire))
        m_wire->disconnectFromHost();
    else
        ::shutdown(int(m_wire->socketDescriptor()), SHUT_WR);
}

void Connection::onWireDisconnected()
{
    if (m_state == State::Closed && state() == QAbstractSocket::UnconnectedState)
        return;
    releaseStream();
    if (m_state == State::Dispatched)
        leaveDispatched();
    m_state = State::Closed;
    m_timer.stop();
    setSocketState(QAbstractSocket::UnconnectedState);
    Q_EMIT disconnected(); // Qt HTTP Server deletes us (later) on this
}

void Connection::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_timer.timerId())
        return QTcpSocket::timerEvent(event);
    m_timer.stop();
    switch (m_state) {
    case State::Idle:
        m_wire->disconnectFromHost(); // silent since connecting, or keep-alive timeout
        return;
    case State::Head:
        reject(408, QStringLiteral("The request head did not arrive within %1 ms.").arg(m_limits.headerTimeoutMs));
        return;
    case State::Body:
    case State::Chunked:
        reject(408, QStringLiteral("The request body made no progress for %1 ms.").arg(m_limits.bodyTimeoutMs));
        return;
    case State::Closing:
        m_wire->abort();
        onWireDisconnected();
        return;
    case State::Dispatched:
        if (m_stream && m_wire->bytesToWrite() > 0) {
            // Nothing was read for the whole period: a client that stops reading would otherwise
            // hold the producer's thread and its read transaction forever.
            qCDebug(lcGuard) << "streamed response stalled; closing" << m_wire->peerAddress();
            abortResponse(true);
        } else if (m_stream) {
            arm(m_limits.bodyTimeoutMs); // waiting for the producer, not the client
        }
        return;
    case State::Closed:
        return;
    }
}

} // namespace Outpost::Http
