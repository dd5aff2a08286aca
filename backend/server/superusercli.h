#pragma once

#include <QString>
#include <QStringList>
#include <memory>

#include "../auth/jwt.h"
#include "../auth/passwordhasher.h"
#include "../auth/sessions.h"
#include "../auth/superusers.h"
#include "../core/config.h"
#include "../store/store.h"

namespace Outpost::Cli {

// The superuser service on a data directory's store, with what it needs, for the CLI commands.
struct SuperuserServices
{
    std::unique_ptr<Store::Store> store;
    SystemClock clock;
    Auth::PasswordHasher hasher;
    std::unique_ptr<Auth::Jwt> jwt;
    std::unique_ptr<Auth::Sessions> sessions;
    std::unique_ptr<Auth::Superusers> superusers;

    // Opens (and migrates) the store and loads or creates the token signing key.
    static Result<std::unique_ptr<SuperuserServices>> open(const Config &config);
};

// `outpostd superuser list`, `set-role EMAIL ROLE` and `delete EMAIL` (`action`; `args` are the rest,
// with the serving options such as --data-dir). They work on the data directory's store through
// Auth::Superusers, as the admin API does, so its rules hold here too: the last owner can be neither
// demoted nor deleted. The operator acts as an owner; audit entries name `cli`. A running server sees
// the change on its next request. Errors are one line on stderr. Returns the exit code (Cli::ExitCode).
int manageSuperusers(const QString &action, const QStringList &args);

} // namespace Outpost::Cli
