#pragma once

#include <QBasicTimer>
#include <QTcpSocket>
#include <memory>
#include <optional>

#include "clienttable.h"
#include "guardconfig.h"
#include "requestframer.h"

namespace Outpost::Http {

struct Exchange;

// The guard in front of Qt HTTP Server's parser (Qt 6.4.2 has no limits, ignores its own header
// parse failures and then runs the body as a second request; see docs/DESIGN.md).
//
// A Connection terminates the real socket (`wire`, plain or TLS), frames each request itself with
// strict limits and timeouts, answers `Expect: 100-continue`, and rejects what it cannot parse with
// a 4xx problem response. Only a complete, validated request is handed on: the Connection is
// itself a QTcpSocket, and Qt's parser reads that one request from it. Requests are handed on one
// at a time, so pipelined requests are answered in order even when a handler answers later from
// a worker thread (QTBUG-105202 cannot happen).
//
// It also enforces the server's connection limits (GuardConfig::clients): a connection over the
// total or its client's maximum is answered 503 or 429 with Retry-After and closed, and a request
// while its client has maxInflightPerClient in flight is answered 429 (the connection stays open).
// Every response it writes itself carries the server's fixed headers.
//
// A streamed response (Responder::stream) keeps the request dispatched until its last piece is
// written: pieces are taken from the producer only while the socket has less than
// kStreamHighWaterBytes queued (resumed by bytesWritten), a client that reads nothing for
// `bodyTimeoutMs` is cut off, and a disconnect cancels the producer.
//
// Thread: lives on its network thread; every method must be called there.
class Connection final : public QTcpSocket
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Connection)

public:
    static constexpr qint64 kStreamHighWaterBytes = 256 * 1024;

    // Takes ownership of `wire`, which must be connected, and counts it in `guard.clients`.
    // `guard` must outlive the connection. Call start() once it is connected to its consumers.
    Connection(QTcpSocket *wire, const GuardConfig &guard, QObject *parent = nullptr);
    ~Connection() override;

    // Starts reading, or refuses the connection when it is over a connection limit.
    void start();
    const GuardConfig &guard() const { return m_guard; }

    // The head of the request currently handed to Qt.
    const RequestHead &head() const { return m_head; }
    bool isDispatched() const { return m_state == State::Dispatched; }
    // The connection closes after the current response (the client asked, or the server stops):
    // the response must say `Connection: close` (RFC 9112 §9.6).
    bool willClose() const { return !m_head.keepAlive || m_closeWhenIdle; }
    QTcpSocket *wire() const { return m_wire; }

    // Sends the complete response to the dispatched request, then reads the next one (or closes
    // when the request or `keepAlive` said so).
    void respond(const QByteArray &bytes, bool keepAlive);
    // Server shutdown: close now if idle, else right after the current response. A request the
    // kernel has already received is read and dispatched first, so it is answered.
    void closeWhenIdle();

    // Streamed responses, driven by `exchange` (Exchange::pump): starts one for the dispatched
    // request, and pumps it now and whenever its producer or the socket makes progress.
    void beginStream(std::shared_ptr<Exchange> exchange);
    void pumpStream();
    // For Exchange::pump: whether the socket has room for another piece; queues part of the
    // response (flushed by pumpStream()); ends the response without completing it: `reset` aborts
    // the connection, else it closes after what was written.
    bool canSendPart() const;
    void sendPart(QByteArrayView bytes);
    void abortResponse(bool reset);

    qint64 bytesAvailable() const override;
    void close() override;
    void disconnectFromHost() override;

Q_SIGNALS:
    // The guard refused a request with `status` before it reached a handler.
    void rejected(int status);

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    qint64 readLineData(char *data, qint64 maxSize) override;
    qint64 writeData(const char *data, qint64 size) override;
    void timerEvent(QTimerEvent *event) override;

private:
    enum class State { Idle, Head, Body, Chunked, Dispatched, Closing, Closed };

    void onWireReadyRead();
    void onWireBytesWritten();
    void onWireDisconnected();
    void process();
    void dispatch(QByteArray request);
    // Ends a dispatched request's bookkeeping (the in-flight counts).
    void leaveDispatched();
    // Answers a complete request without dispatching it (429: the client has too many in flight).
    void answerBusy();
    // Writes a response, then reads the next request, or closes when `keepAlive` is false or the
    // request or closeWhenIdle() said so.
    void sendAndContinue(const QByteArray &bytes, bool keepAlive);
    // Answers `status` with a problem response, drains the client's input briefly, and closes.
    void reject(int status, const QString &detail, int retryAfterSeconds = 0);
    QByteArray responseHeaderLines() const;
    void arm(int ms);
    void releaseStream();

    QTcpSocket *m_wire;
    const GuardConfig &m_guard;
    const Limits &m_limits;
    ClientTable::Client *m_client = nullptr; // null: exempt from per-client limits
    ClientTable::Admission m_admission;
    State m_state = State::Idle;
    bool m_closeWhenIdle = false;
    QByteArray m_in; // received, not yet handed on
    QByteArray m_deliver; // handed on, not yet read by Qt's parser
    qsizetype m_deliverPos = 0;
    RequestHead m_head;
    std::optional<ChunkedDecoder> m_decoder;
    QByteArray m_body; // decoded chunked body
    QBasicTimer m_timer;
    std::shared_ptr<Exchange> m_stream; // the streamed response in progress, if any
    bool m_pumping = false;
};

} // namespace Outpost::Http
