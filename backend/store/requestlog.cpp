#include "requestlog.h"

#include <QLoggingCategory>
#include <algorithm>

#include "sqlite.h"
#include "store.h"

Q_LOGGING_CATEGORY(lcRequestLog, "outpost.requestlog")

namespace Outpost::Store {

QString RequestEntry::callerLabel() const
{
    switch (callerKind) {
    case CallerKind::Superuser:
        return QStringLiteral("superuser:") + callerId;
    case CallerKind::ApiKey:
        return QStringLiteral("apikey:") + callerId;
    case CallerKind::User:
        return QStringLiteral("user:") + callerCollection + u':' + callerId;
    case CallerKind::Guest:
        break;
    }
    return QStringLiteral("guest");
}

ClientAddress::ClientAddress(const QHostAddress &address)
{
    bool v4 = false;
    const quint32 ipv4 = address.toIPv4Address(&v4);
    if (v4) {
        family = 4;
        for (int i = 0; i < 4; ++i)
            bytes[size_t(i)] = quint8(ipv4 >> (24 - 8 * i));
    } else if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        family = 6;
        const Q_IPV6ADDR ipv6 = address.toIPv6Address();
        std::memcpy(bytes.data(), ipv6.c, bytes.size());
    }
}

QHostAddress ClientAddress::toHostAddress() const
{
    if (family == 4)
        return QHostAddress(quint32(bytes[0]) << 24 | quint32(bytes[1]) << 16 | quint32(bytes[2]) << 8 | bytes[3]);
    if (family == 6)
        return QHostAddress(bytes.data());
    return {};
}

RequestLog::RequestLog(Store &store, qsizetype capacity)
    : RequestLog(
        [&store](const std::vector<RequestEntry> &entries) {
            return store.writeLog([&entries](Database &db) { return insert(db, entries); });
        },
        capacity)
{
}

RequestLog::RequestLog(BatchWriter writer, qsizetype capacity)
    : m_queue(std::move(writer),
              QueuedLogOptions {
                  .name = "request log",
                  .category = lcRequestLog,
                  .capacity = capacity,
                  .maxBatch = kMaxBatch,
                  .lingerMs = kLingerMs,
                  .threadName = "outpost-reqlog",
              })
{
}

RequestLog::~RequestLog() = default;

namespace {

// The text of a column that repeats from row to row (one client address, a few callers), kept from
// the row before so that a batch converts each distinct value once rather than once per row.
template <typename Key> class LastText
{
public:
    template <typename MakeText> const QByteArray &of(const Key &key, MakeText make)
    {
        if (!m_valid || !(key == m_key)) {
            m_key = key;
            m_text = make();
            m_valid = true;
        }
        return m_text;
    }

private:
    Key m_key {};
    QByteArray m_text;
    bool m_valid = false;
};

struct CallerKey
{
    RequestEntry::CallerKind kind;
    QString collection;
    QString id;
    bool operator==(const CallerKey &) const = default;
};

constexpr int kColumns = 11;
// Rows per INSERT statement: a statement's own cost (step, halt, reset, clearing the bindings) is
// about that of inserting a row, so a batch goes in statements of this many rows.
constexpr int kRowsPerStatement = 16;

QByteArray insertSql(int rows)
{
    QByteArray sql = "INSERT INTO requests(time, method, path, route, status, duration_us, client, caller, request_id, "
                     "bytes_in, bytes_out) VALUES ";
    for (int r = 0; r < rows; ++r)
        sql += r == 0 ? "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    return sql;
}

// Text that is valid UTF-8 as it is, or `fixed` made so (U+FFFD for what is not).
QByteArrayView validText(QByteArrayView bytes, QByteArray &fixed)
{
    // ASCII first: what nearly every row holds, checked far faster than UTF-8 in general.
    if (std::all_of(bytes.begin(), bytes.end(), [](char c) { return uchar(c) < 0x80; }) || bytes.isValidUtf8())
        return bytes;
    fixed = QString::fromUtf8(bytes.data(), bytes.size()).toUtf8();
    return fixed;
}

} // namespace

Status RequestLog::insert(Database &db, const std::vector<RequestEntry> &entries)
{
    static const QByteArray manySql = insertSql(kRowsPerStatement);
    static const QByteArray oneSql = insertSql(1);
    Statement *many = db.cached(manySql.constData());
    Statement *one = db.cached(oneSql.constData());
    if (!many || !one)
        return db.lastError(QStringLiteral("prepare request log insert"));
    // Text is bound as the UTF-8 it already is, without copies (bindTextView), so what a statement's
    // rows bind lives until it has run: the entries' own text, and these per-row slots. A row costs
    // about a microsecond of the log's thread. Paths are percent-encoded ASCII, except what a client
    // sent raw, stored with U+FFFD for what is not UTF-8: the column always holds valid text.
    LastText<ClientAddress> client;
    LastText<CallerKey> caller;
    std::array<QByteArray, kRowsPerStatement> clientText, callerText, pathFixed, idFixed;
    for (size_t first = 0; first < entries.size();) {
        const int rows = entries.size() - first >= size_t(kRowsPerStatement) ? kRowsPerStatement : 1;
        Statement &insert = rows == kRowsPerStatement ? *many : *one;
        for (int r = 0; r < rows; ++r) {
            const RequestEntry &e = entries[first + size_t(r)];
            const auto slot = size_t(r);
            clientText[slot] = client.of(e.client, [&] {
                return e.client.family == 0 ? QByteArray() : e.client.toHostAddress().toString().toUtf8();
            });
            callerText[slot]
                = caller.of({e.callerKind, e.callerCollection, e.callerId}, [&] { return e.callerLabel().toUtf8(); });
            const int at = r * kColumns;
            insert.bind(at + 1, e.timeMs)
                .bindTextView(at + 2, e.method)
                .bindTextView(at + 3, validText(e.path.view(), pathFixed[slot]))
                .bindTextView(at + 4, e.route)
                .bind(at + 5, e.status)
                .bind(at + 6, e.durationUs)
                .bindTextView(at + 7, clientText[slot])
                .bindTextView(at + 8, callerText[slot])
                .bindTextView(at + 9, validText(e.requestId.view(), idFixed[slot]))
                .bind(at + 10, e.bytesIn)
                .bind(at + 11, e.bytesOut);
        }
        if (auto s = insert.run(); !s)
            return s;
        first += size_t(rows);
    }
    return {};
}

} // namespace Outpost::Store
