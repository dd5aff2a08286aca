#include "sqlite.h"

#include <mutex>

#include <sqlite3.h>
#include <time.h>

namespace Outpost::Store {

qint64 &threadStoreNs()
{
    thread_local qint64 ns = 0;
    return ns;
}

namespace {
thread_local bool storeTimed = true;

qint64 timedNs()
{
    return storeTimed ? monotonicNs() : 0;
}
} // namespace

void untimedStoreThread()
{
    storeTimed = false;
}

qint64 monotonicNs()
{
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return qint64(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

Database::Database(sqlite3 *db, QString path)
    : m_db(db)
    , m_path(std::move(path))
{
}

Database::~Database()
{
    m_queryCache.clear();
    m_cache.clear(); // statements must be finalized before the connection closes
    sqlite3_close_v2(m_db);
}

Result<std::unique_ptr<Database>> Database::open(const QString &path, Mode mode)
{
    // Memory statistics take a process-wide mutex on every allocation; with one connection per
    // network thread that mutex was ~10% of the server's CPU (futex contention, docs/BENCHMARKS.md).
    // Must run before SQLite initialises itself, i.e. before the first open.
    static std::once_flag configured;
    std::call_once(configured, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
    sqlite3 *db = nullptr;
    const int flags = (mode == Mode::ReadWrite ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY)
        | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    const int rc = sqlite3_open_v2(path.toUtf8().constData(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        const QString message = db ? QString::fromUtf8(sqlite3_errmsg(db)) : QString::fromUtf8(sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return makeError(ErrorCode::Unavailable, QStringLiteral("cannot open %1: %2").arg(path, message));
    }
    std::unique_ptr<Database> out(new Database(db, path));
    // busy_timeout: a reader that meets a checkpoint, or a second process, waits instead of failing.
    const char *settings = mode == Mode::ReadWrite
        ? "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;"
        : "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;";
    if (auto s = out->exec(settings); !s)
        return s.error();
    return out;
}

Error Database::lastError(const QString &context) const
{
    const int code = sqlite3_extended_errcode(m_db);
    const ErrorCode ours = (code & 0xff) == SQLITE_CONSTRAINT ? ErrorCode::Conflict : ErrorCode::Unavailable;
    return makeError(ours, QStringLiteral("%1: %2").arg(context, QString::fromUtf8(sqlite3_errmsg(m_db))));
}

Status Database::exec(const char *sql)
{
    char *message = nullptr;
    const qint64 start = timedNs();
    const int rc = sqlite3_exec(m_db, sql, nullptr, nullptr, &message);
    threadStoreNs() += timedNs() - start;
    if (rc != SQLITE_OK) {
        Error e = lastError(QString::fromUtf8(sql).left(60));
        sqlite3_free(message);
        return e;
    }
    return {};
}

Result<Statement> Database::prepare(const char *sql)
{
    sqlite3_stmt *stmt = nullptr;
    if (sqlite3_prepare_v3(m_db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
        return lastError(QStringLiteral("prepare"));
    return Statement(stmt, this);
}

Statement *Database::cached(const char *sql)
{
    for (auto &[key, stmt] : m_cache)
        if (key == sql)
            return stmt.get();
    auto prepared = prepare(sql);
    if (!prepared)
        return nullptr;
    m_cache.emplace_back(sql, std::make_unique<Statement>(std::move(prepared).value()));
    return m_cache.back().second.get();
}

Result<Statement *> Database::cachedQuery(const QString &sql)
{
    if (auto it = m_queryCache.find(sql); it != m_queryCache.end()) {
        it->second->reset();
        return it->second.get();
    }
    auto prepared = prepare(sql.toUtf8().constData());
    if (!prepared)
        return prepared.error();
    if (m_queryCache.size() >= 256)
        m_queryCache.clear();
    auto &slot = m_queryCache[sql];
    slot = std::make_unique<Statement>(std::move(prepared).value());
    return slot.get();
}

qint64 Database::lastInsertRowId() const
{
    return sqlite3_last_insert_rowid(m_db);
}

int Database::changes() const
{
    return sqlite3_changes(m_db);
}

Statement::Statement(sqlite3_stmt *stmt, Database *db)
    : m_stmt(stmt)
    , m_db(db)
{
}

Statement::Statement(Statement &&other) noexcept
    : m_stmt(std::exchange(other.m_stmt, nullptr))
    , m_db(other.m_db)
{
}

Statement &Statement::operator=(Statement &&other) noexcept
{
    if (this != &other) {
        sqlite3_finalize(m_stmt);
        m_stmt = std::exchange(other.m_stmt, nullptr);
        m_db = other.m_db;
    }
    return *this;
}

Statement::~Statement()
{
    sqlite3_finalize(m_stmt);
}

Statement &Statement::bind(int index, const QString &value)
{
    const QByteArray utf8 = value.toUtf8();
    sqlite3_bind_text(m_stmt, index, utf8.constData(), int(utf8.size()), SQLITE_TRANSIENT);
    return *this;
}

Statement &Statement::bind(int index, const QByteArray &value)
{
    sqlite3_bind_blob(m_stmt, index, value.constData(), int(value.size()), SQLITE_TRANSIENT);
    return *this;
}

Statement &Statement::bindTextView(int index, QByteArrayView utf8)
{
    // A null view binds the empty text, as bind(QString()) does, never SQL NULL.
    sqlite3_bind_text(m_stmt, index, utf8.data() ? utf8.data() : "", int(utf8.size()), SQLITE_STATIC);
    return *this;
}

Statement &Statement::bind(int index, qint64 value)
{
    sqlite3_bind_int64(m_stmt, index, value);
    return *this;
}

Statement &Statement::bind(int index, double value)
{
    sqlite3_bind_double(m_stmt, index, value);
    return *this;
}

Statement &Statement::bindNull(int index)
{
    sqlite3_bind_null(m_stmt, index);
    return *this;
}

Statement &Statement::bind(int index, const QVariant &value)
{
    switch (value.typeId()) {
    case QMetaType::QString:
        return bind(index, value.toString());
    case QMetaType::QByteArray:
        return bind(index, value.toByteArray());
    case QMetaType::Bool:
    case QMetaType::Int:
    case QMetaType::UInt:
    case QMetaType::LongLong:
    case QMetaType::ULongLong:
        return bind(index, value.toLongLong());
    case QMetaType::Double:
    case QMetaType::Float:
        return bind(index, value.toDouble());
    default:
        return value.isNull() ? bindNull(index) : bind(index, value.toString());
    }
}

Result<bool> Statement::step()
{
    const qint64 start = timedNs();
    const int rc = sqlite3_step(m_stmt);
    threadStoreNs() += timedNs() - start;
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    return m_db->lastError(QStringLiteral("step"));
}

Status Statement::run()
{
    auto r = step();
    reset();
    if (!r)
        return r.error();
    return {};
}

void Statement::reset()
{
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

QString Statement::text(int column) const
{
    const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(m_stmt, column));
    return p ? QString::fromUtf8(p, sqlite3_column_bytes(m_stmt, column)) : QString();
}

QByteArrayView Statement::utf8(int column) const
{
    const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(m_stmt, column));
    return p ? QByteArrayView(p, sqlite3_column_bytes(m_stmt, column)) : QByteArrayView();
}

QByteArray Statement::blob(int column) const
{
    const auto *p = static_cast<const char *>(sqlite3_column_blob(m_stmt, column));
    return p ? QByteArray(p, sqlite3_column_bytes(m_stmt, column)) : QByteArray();
}

qint64 Statement::int64(int column) const
{
    return sqlite3_column_int64(m_stmt, column);
}

double Statement::real(int column) const
{
    return sqlite3_column_double(m_stmt, column);
}

bool Statement::isNull(int column) const
{
    return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}

Result<Transaction> Transaction::begin(Database &db)
{
    if (auto s = db.exec("BEGIN IMMEDIATE"); !s)
        return s.error();
    return Transaction(&db);
}

Transaction::Transaction(Transaction &&other) noexcept
    : m_db(std::exchange(other.m_db, nullptr))
{
}

Transaction::~Transaction()
{
    if (m_db)
        (void)m_db->exec("ROLLBACK");
}

Status Transaction::commit()
{
    Database *db = std::exchange(m_db, nullptr);
    if (auto s = db->exec("COMMIT"); !s) {
        (void)db->exec("ROLLBACK");
        return s;
    }
    return {};
}

} // namespace Outpost::Store
