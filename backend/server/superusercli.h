#pragma once

#include <QString>
#include <QStringList>

namespace Outpost::Cli {

// `outpostd superuser list`, `set-role EMAIL ROLE` and `delete EMAIL` (`action`; `args` are the rest,
// with the serving options such as --data-dir). They work on the data directory's store through
// Auth::Superusers, as the admin API does, so its rules hold here too: the last owner can be neither
// demoted nor deleted. The operator acts as an owner; audit entries name `cli`. A running server sees
// the change on its next request. Errors are one line on stderr. Returns the exit code (Cli::ExitCode).
int manageSuperusers(const QString &action, const QStringList &args);

} // namespace Outpost::Cli
