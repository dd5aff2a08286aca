#pragma once

#include <span>

#include "sqlite.h"

namespace Outpost::Store {

// One forward-only schema step. Versions start at 1 and have no gaps.
struct Migration
{
    int version;
    const char *description;
    const char *sql;
};

// Brings `db` to the newest version in `migrations`, each step in its own transaction together with
// its row in `schema_version`. Running it again is a no-op. A database whose schema is newer than
// the newest known migration is refused (Unavailable): an older binary must not write to it.
Status migrate(Database &db, std::span<const Migration> migrations);

// The highest applied version, 0 for a new database.
Result<int> schemaVersion(Database &db);

// The schemas of our two files.
std::span<const Migration> dataMigrations();
std::span<const Migration> logsMigrations();

} // namespace Outpost::Store
