#pragma once

#include <QElapsedTimer>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "router.h"

namespace Outpost::Http {

class Connection;

// The pipe between a streamed response's producer (one worker thread) and its connection (the
// network thread). The producer blocks in write() while kWindowBytes are waiting; the connection
// takes pieces only while its socket has room (Connection::kStreamHighWaterBytes), so what the
// server holds per stream stays bounded however slowly the client reads. Thread-safe.
class BodyChannel
{
public:
    static constexpr qsizetype kWindowBytes = 64 * 1024;

    // `headOnly` (a HEAD request): the first write() is kept as an empty piece, which only releases
    // the head, and cancels the stream.
    explicit BodyChannel(bool headOnly);

    // Producer side (see BodyWriter).
    bool write(QByteArray piece);
    bool isCancelled() const;
    // The producer is done; `status` is its outcome.
    void finish(Status status);

    // Connection side (network thread).
    enum class Take { Piece, Pending, End };
    // Piece: `piece` is the next one. Pending: nothing yet; the attached connection's pumpStream()
    // is queued once when there is. End: the producer finished with `status`.
    Take take(QByteArray &piece, Status &status);
    // Stops the producer (its write() returns false) and drops what is queued.
    void cancel();
    // `connection` must call detach() before it is destroyed.
    void attach(Connection *connection);
    void detach();

private:
    void wakeLocked();

    mutable std::mutex m_mutex;
    std::condition_variable m_space;
    std::deque<QByteArray> m_pieces;
    qsizetype m_queued = 0;
    const bool m_headOnly;
    bool m_cancelled = false;
    bool m_finished = false;
    bool m_wantWake = false; // take() answered Pending; the next write()/finish() wakes the connection
    Status m_status;
    Connection *m_connection = nullptr;
};

// The shared state of one request/response pair: the one place where a response is serialised,
// written and observed (metrics), whichever path produced it.
struct Exchange
{
    std::atomic<bool> answered {false};
    Method method = Method::Get;
    QByteArray route; // the matched pattern, e.g. "/api/health"; for logs
    int routeIndex = -1; // Router::Match::route
    QElapsedTimer timer;
    qint64 startMs = 0; // Unix ms (wall clock) when the request was dispatched
    qint64 bytesIn = 0;
    qint64 bytesOut = 0; // of a streamed response, what was written so far
    std::atomic<qint64> storeNs {0}; // waiting for and in the store (Responder::addStoreTime)
    Caller::Kind callerKind = Caller::Kind::Guest; // copied from the request after the gate
    QString callerId;
    QHostAddress client; // Request::client
    QByteArray path; // Request::path: without the query string
    QString callerCollection; // a user's auth collection, copied with callerId
    QByteArray requestId; // sent back as X-Request-Id; the client's own when acceptable (requestid.h)
    // Added to whatever response the request gets (the rate-limit state, say). Network thread.
    QList<QPair<QByteArray, QByteArray>> headers;
    // The header lines every response of this request carries: empty for the server's fixed ones
    // (GuardConfig::fixedHeaders); for a cross-origin request, those and its CORS fields.
    QByteArray headerLines;
    const ResponseObserver *observer = nullptr;

    // A streamed response (Responder::stream): its head (body unused), its body's source, and
    // whether the head is on the wire yet.
    Response streamHead;
    std::shared_ptr<BodyChannel> body;
    bool headSent = false;

    // Network thread only.
    void finish(Connection &connection, Response response);
    // Network thread only, for a streamed response: writes what the producer has ready while the
    // connection has room, and completes (or cuts) the response when the producer is done. True
    // when it stopped because the connection had no room (rather than nothing to send, or done).
    bool pump(Connection &connection);
    // Network thread only: the connection lets go of a streamed response (it ended, was cut short,
    // or the client left or stalled). Reports it to the observer, once, as far as it went, so that a
    // stream whose client did not wait for its end (a HEAD, say) is counted and logged too.
    void release();

private:
    void sendStreamHead(Connection &connection);
    void sendPart(Connection &connection, QByteArrayView bytes);
    void observe(int status);

    bool observed = false; // observe() ran
};

} // namespace Outpost::Http
