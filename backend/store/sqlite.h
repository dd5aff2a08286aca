#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QVariant>
#include <memory>
#include <unordered_map>
#include <vector>

#include "../core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace Outpost::Store {

class Statement;

// Nanoseconds the calling thread spent in SQLite (statement steps and exec()) since it was last
// set, for the per-request store time (outpost_store_duration_seconds): the engine zeroes it before
// a handler and the responder reads it when the answer leaves that thread. Store::write() adds its
// whole wait, and data.db's writer thread sets it to a job's time from queueing to commit before
// the job's completion runs. A steady clock read per step: ~20 ns.
qint64 &threadStoreNs();
qint64 monotonicNs();
// Stops the calling thread's steps and exec()s from reading the clock for threadStoreNs(): for
// threads that serve no request, such as the logs' writers (two clock reads per row).
void untimedStoreThread();

// One SQLite connection (RAII). Not thread-safe: use a connection from one thread at a time
// (SQLite is built in serialized mode on Debian, but our design never shares a connection).
class Database
{
public:
    enum class Mode { ReadWrite, ReadOnly };

    ~Database();
    Database(const Database &) = delete;
    Database &operator=(const Database &) = delete;

    // Opens (and for ReadWrite creates) the file and applies our connection settings:
    // WAL, foreign_keys=ON, busy_timeout. Errors are Unavailable with SQLite's message.
    static Result<std::unique_ptr<Database>> open(const QString &path, Mode mode);

    Status exec(const char *sql);
    Result<Statement> prepare(const char *sql);
    // Prepared once per connection and kept: for statements on hot paths.
    Statement *cached(const char *sql);
    // The same for statements built at run time (keyed by their text; at most 256 are kept, the
    // cache starts over when full). Returned reset, without bindings.
    Result<Statement *> cachedQuery(const QString &sql);

    qint64 lastInsertRowId() const;
    int changes() const;
    QString path() const { return m_path; }
    sqlite3 *handle() const { return m_db; }
    Error lastError(const QString &context) const;

private:
    Database(sqlite3 *db, QString path);
    sqlite3 *m_db;
    QString m_path;
    std::vector<std::pair<const char *, std::unique_ptr<Statement>>> m_cache;
    std::unordered_map<QString, std::unique_ptr<Statement>> m_queryCache;
};

// A prepared statement. Bind indexes start at 1, column indexes at 0, as in SQLite.
class Statement
{
public:
    Statement(Statement &&other) noexcept;
    Statement &operator=(Statement &&other) noexcept;
    ~Statement();

    Statement &bind(int index, const QString &value);
    Statement &bind(int index, const QByteArray &value); // as a BLOB
    // UTF-8 text, bound where it lies, without a copy: the bytes must stay valid and unchanged
    // until the statement has run (or is reset). For hot loops such as the request log's writer.
    Statement &bindTextView(int index, QByteArrayView utf8);
    Statement &bind(int index, qint64 value);
    Statement &bind(int index, int value) { return bind(index, qint64(value)); }
    Statement &bind(int index, double value);
    Statement &bindNull(int index);
    // QString, QByteArray (BLOB), bool/int/qint64, double; a null or invalid QVariant binds NULL.
    Statement &bind(int index, const QVariant &value);

    // Advances: true when a row is available, false when done.
    Result<bool> step();
    // Runs to completion, for statements without result rows.
    Status run();
    void reset(); // also clears bindings

    QString text(int column) const;
    // The column as SQLite's own UTF-8 text: no copy, valid until the next step() or reset().
    QByteArrayView utf8(int column) const;
    QByteArray blob(int column) const;
    qint64 int64(int column) const;
    double real(int column) const;
    bool isNull(int column) const;

private:
    friend class Database;
    Statement(sqlite3_stmt *stmt, Database *db);
    sqlite3_stmt *m_stmt = nullptr;
    Database *m_db = nullptr;
};

// BEGIN IMMEDIATE … COMMIT, rolled back on destruction unless committed.
class Transaction
{
public:
    static Result<Transaction> begin(Database &db);
    Transaction(Transaction &&other) noexcept;
    ~Transaction();
    Status commit();

private:
    explicit Transaction(Database *db)
        : m_db(db)
    {
    }
    Database *m_db;
};

// Resets a cached statement when the scope ends, whatever the path: a statement left mid-result
// would hold its read transaction (and its stale snapshot) open until its next use.
class ResetOnExit
{
public:
    explicit ResetOnExit(Statement &s)
        : m_s(&s)
    {
    }
    ~ResetOnExit() { m_s->reset(); }
    ResetOnExit(const ResetOnExit &) = delete;
    ResetOnExit &operator=(const ResetOnExit &) = delete;

private:
    Statement *m_s;
};

} // namespace Outpost::Store
