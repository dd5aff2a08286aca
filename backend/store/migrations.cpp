#include "migrations.h"

#include <QDateTime>

#include "../observe/metricsstore.h"

namespace Outpost::Store {

namespace {

constexpr Migration kData[] = {
    {1, "settings and superusers",
     "CREATE TABLE _settings (key TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT;"
     "CREATE TABLE _superusers ("
     " id TEXT PRIMARY KEY,"
     " email TEXT NOT NULL UNIQUE COLLATE NOCASE,"
     " password_hash TEXT NOT NULL,"
     " token_key TEXT NOT NULL,"
     " created TEXT NOT NULL,"
     " updated TEXT NOT NULL) STRICT;"},
    {2, "collections",
     "CREATE TABLE _collections ("
     " id TEXT PRIMARY KEY,"
     " name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
     " type TEXT NOT NULL,"
     " definition TEXT NOT NULL," // the collection's JSON as the API shows it
     " created TEXT NOT NULL,"
     " updated TEXT NOT NULL) STRICT;"},
    {3, "api keys",
     "CREATE TABLE _apikeys ("
     " id TEXT PRIMARY KEY,"
     " name TEXT NOT NULL,"
     " prefix TEXT NOT NULL,"
     " scopes TEXT NOT NULL," // JSON array of scope strings
     " allowed_cidrs TEXT NOT NULL," // JSON array, empty: any address
     " created_by TEXT NOT NULL,"
     " created INTEGER NOT NULL," // Unix ms, as the other times of this table
     " expires INTEGER,"
     " revoked INTEGER,"
     " secret_hash TEXT NOT NULL UNIQUE," // hex SHA-256 of the secret
     " previous_hash TEXT," // the secret before the last rotation, during its grace period
     " previous_valid_until INTEGER,"
     " last_used INTEGER NOT NULL DEFAULT 0,"
     " last_used_from TEXT NOT NULL DEFAULT '',"
     " request_count INTEGER NOT NULL DEFAULT 0) STRICT;"},
    // Superusers that existed before roles keep what they could do: everything.
    {4, "superuser roles",
     "ALTER TABLE _superusers ADD COLUMN role TEXT NOT NULL DEFAULT 'owner'"
     " CHECK (role IN ('owner', 'admin', 'editor', 'viewer'));"},
    // Logins of superusers and app users, and the refresh tokens of each (Auth::Sessions).
    {5, "sessions",
     "CREATE TABLE _sessions ("
     " id TEXT PRIMARY KEY,"
     " collection_id TEXT NOT NULL,"
     " record_id TEXT NOT NULL,"
     " created INTEGER NOT NULL," // Unix ms, as the other times of both tables
     " expires INTEGER NOT NULL,"
     " last_refreshed INTEGER NOT NULL,"
     " address TEXT NOT NULL,"
     " revoked INTEGER,"
     " revoke_reason TEXT) STRICT;"
     "CREATE INDEX _sessions_account ON _sessions(collection_id, record_id);"
     "CREATE TABLE _refresh_tokens ("
     " hash TEXT PRIMARY KEY," // hex SHA-256 of the token
     " session_id TEXT NOT NULL REFERENCES _sessions(id) ON DELETE CASCADE,"
     " issued INTEGER NOT NULL,"
     " spent INTEGER) STRICT;"
     "CREATE INDEX _refresh_tokens_session ON _refresh_tokens(session_id);"},
};

constexpr Migration kLogs[] = {
    {1, "audit log",
     "CREATE TABLE audit_log ("
     " id INTEGER PRIMARY KEY,"
     " time TEXT NOT NULL,"
     " actor TEXT NOT NULL,"
     " action TEXT NOT NULL,"
     " target TEXT NOT NULL,"
     " address TEXT NOT NULL,"
     " success INTEGER NOT NULL) STRICT;"
     "CREATE INDEX audit_log_time ON audit_log(time);"},
    // What an entry changed (a record's or a collection's values before and after), as JSON text;
    // and the lookups of one record's or one actor's history.
    {2, "audit details",
     "ALTER TABLE audit_log ADD COLUMN details TEXT NOT NULL DEFAULT '{}';"
     "CREATE INDEX audit_log_target ON audit_log(target, time);"
     "CREATE INDEX audit_log_actor ON audit_log(actor, time);"},
    // The 1-minute request series, so that it survives a restart (Outpost::ServerMetrics).
    {3, "metrics minute series", Observe::kMetricsMinuteSchema},
    // Every answered request (Store::RequestLog). The console and GET /api/logs/requests page by id;
    // the one index serves time ranges and retention. More indexes would each cost every insert.
    {4, "request log",
     "CREATE TABLE requests ("
     " id INTEGER PRIMARY KEY,"
     " time INTEGER NOT NULL," // Unix ms when the request head was dispatched
     " method TEXT NOT NULL,"
     " path TEXT NOT NULL," // without the query string: query strings can carry secrets
     " route TEXT NOT NULL," // the matched pattern, e.g. /api/collections/{c}/records, or (unmatched)
     " status INTEGER NOT NULL,"
     " duration_us INTEGER NOT NULL,"
     " client TEXT NOT NULL," // the client address, trusted proxies honoured
     " caller TEXT NOT NULL," // Caller::label(): guest, apikey:ID, superuser:ID, user:COLLECTION:ID
     " request_id TEXT NOT NULL,"
     " bytes_in INTEGER NOT NULL,"
     " bytes_out INTEGER NOT NULL) STRICT;"
     "CREATE INDEX requests_time ON requests(time);"},
};

} // namespace

std::span<const Migration> dataMigrations()
{
    return kData;
}

std::span<const Migration> logsMigrations()
{
    return kLogs;
}

Result<int> schemaVersion(Database &db)
{
    if (auto s = db.exec("CREATE TABLE IF NOT EXISTS schema_version ("
                         " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied TEXT NOT NULL)");
        !s)
        return s.error();
    auto stmt = db.prepare("SELECT coalesce(max(version), 0) FROM schema_version");
    if (!stmt)
        return stmt.error();
    auto row = stmt->step();
    if (!row)
        return row.error();
    return int(stmt->int64(0));
}

Status migrate(Database &db, std::span<const Migration> migrations)
{
    auto current = schemaVersion(db);
    if (!current)
        return current.error();
    const int newest = migrations.empty() ? 0 : migrations.back().version;
    if (*current > newest)
        return makeError(ErrorCode::Unavailable,
                         QStringLiteral("%1 has schema version %2, newer than this Outpost knows (%3); "
                                        "use a newer Outpost or restore a backup")
                             .arg(db.path())
                             .arg(*current)
                             .arg(newest));
    for (const Migration &m : migrations) {
        if (m.version <= *current)
            continue;
        auto tx = Transaction::begin(db);
        if (!tx)
            return tx.error();
        if (auto s = db.exec(m.sql); !s)
            return makeError(ErrorCode::Internal,
                             QStringLiteral("migration %1 (%2) failed: %3")
                                 .arg(m.version)
                                 .arg(QString::fromUtf8(m.description), s.error().message));
        auto record = db.prepare("INSERT INTO schema_version(version, description, applied) VALUES (?, ?, ?)");
        if (!record)
            return record.error();
        record->bind(1, m.version)
            .bind(2, QString::fromUtf8(m.description))
            .bind(3, QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs));
        if (auto s = record->run(); !s)
            return s;
        if (auto s = tx->commit(); !s)
            return s;
    }
    return {};
}

} // namespace Outpost::Store
