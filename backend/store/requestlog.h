#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QString>
#include <array>
#include <cstring>
#include <functional>
#include <vector>

#include "../core/result.h"
#include "queuedlog.h"

namespace Outpost::Store {

class Database;
class Store;

// Text held inside an entry up to N bytes, on the heap beyond (rarely: a path longer than N).
// Entries are made on network threads and destroyed on the log's thread; sharing a request's own
// buffers would leave their last reference, and so their free, to the log's thread, and glibc frees
// another thread's memory under that thread's arena lock: a third of the log thread's CPU, and
// slower allocation on the network threads (BENCHMARKS.md, metrics and request log cost).
template <qsizetype N> class InlineText
{
public:
    InlineText() = default;
    InlineText(QByteArrayView text) { assign(text); } // NOLINT(google-explicit-constructor): text-like
    InlineText &operator=(QByteArrayView text)
    {
        assign(text);
        return *this;
    }
    QByteArrayView view() const { return m_size <= N ? QByteArrayView(m_inline, m_size) : QByteArrayView(m_heap); }

private:
    void assign(QByteArrayView text)
    {
        m_size = text.size();
        if (m_size <= N) {
            if (m_size > 0)
                std::memcpy(m_inline, text.data(), size_t(m_size));
            m_heap.clear();
        } else {
            m_heap = text.toByteArray();
        }
    }

    char m_inline[N];
    qsizetype m_size = 0;
    QByteArray m_heap;
};

// A client address as plain bytes, for the same reason (a QHostAddress shares a heap block).
// IPv6 scope ids (fe80::1%eth0) are not kept.
struct ClientAddress
{
    ClientAddress() = default;
    ClientAddress(const QHostAddress &address); // NOLINT(google-explicit-constructor): a conversion
    QHostAddress toHostAddress() const;
    bool operator==(const ClientAddress &) const = default;

    quint8 family = 0; // 0: none, 4: IPv4 (the first 4 bytes), 6: IPv6
    std::array<quint8, 16> bytes {};
};

// One answered request, a row of logs.db's `requests`. Built on a network thread for every request
// and destroyed on the log's thread, so it owns no memory it shares with the request: it holds
// plain values, the route pattern (the router's own, whose references never reach zero here) and
// the caller's ids (shared with the caller caches). The text the row stores is made on the log's
// thread.
struct RequestEntry
{
    // The same order as Http::Caller::Kind.
    enum class CallerKind : quint8 { Guest, Superuser, ApiKey, User };

    qint64 timeMs = 0; // Unix ms when the request head was dispatched
    const char *method = "GET"; // a string with static storage
    InlineText<112> path; // percent-encoded as sent, without the query string (it can carry secrets)
    QByteArray route; // the matched pattern, e.g. "/api/collections/{c}/records", or "(unmatched)"
    int status = 0;
    qint64 durationUs = 0; // from dispatch to the response written
    ClientAddress client; // with trusted proxies honoured (Http::Request::client)
    CallerKind callerKind = CallerKind::Guest;
    QString callerCollection; // a user's auth collection
    QString callerId;
    InlineText<64> requestId; // what X-Request-Id said in the response (64 bytes at most)
    qint64 bytesIn = 0; // request head and body
    qint64 bytesOut = 0; // response head and body as written

    // "guest", "apikey:ID", "superuser:ID" or "user:COLLECTION:ID", as Http::Caller::label().
    QString callerLabel() const;
};

// The single writer of logs.db's `requests`: the request log. append() queues an entry and returns
// at once; a thread of its own writes the queue in batches of up to kMaxBatch rows, one transaction
// each (Store::writeLog), lingering up to kLingerMs for a batch to fill. When the writer falls
// behind and `capacity` entries wait, further entries are dropped and counted (droppedCount()),
// never queued without bound; a warning (outpost.requestlog) says so once per overflow. See
// QueuedLog for the details. The destructor writes everything queued.
//
// Threads: every method is thread-safe. append() takes one short lock and never waits for I/O: it
// is meant for the network threads. flush() blocks: never call it on a network thread.
class RequestLog
{
public:
    static constexpr qsizetype kDefaultCapacity = 65'536;
    static constexpr qsizetype kMaxBatch = 2048; // rows per transaction
    static constexpr int kLingerMs = 50;

    // Writes one batch; called on the log's thread. An error drops the batch.
    using BatchWriter = std::function<Status(const std::vector<RequestEntry> &)>;

    // Writes to `store`'s logs.db (Store::writeLog), which must outlive this object.
    explicit RequestLog(Store &store, qsizetype capacity = kDefaultCapacity);
    // Hands batches to `writer` instead (tests).
    explicit RequestLog(BatchWriter writer, qsizetype capacity = kDefaultCapacity);
    ~RequestLog();
    RequestLog(const RequestLog &) = delete;
    RequestLog &operator=(const RequestLog &) = delete;

    // False when the entry was dropped (and counted).
    bool append(RequestEntry entry) { return m_queue.append(std::move(entry)); }
    // Returns once every entry appended before the call is written (or dropped). Blocks.
    void flush() { m_queue.flush(); }

    // Entries lost since construction: the queue was full, the log had stopped, or a write failed.
    quint64 droppedCount() const { return m_queue.droppedCount(); }
    // Entries committed to logs.db since construction.
    quint64 writtenCount() const { return m_queue.writtenCount(); }
    qsizetype capacity() const { return m_queue.capacity(); }

    // Inserts `entries` with `db` (inside the caller's transaction).
    static Status insert(Database &db, const std::vector<RequestEntry> &entries);

private:
    QueuedLog<RequestEntry> m_queue;
};

} // namespace Outpost::Store
