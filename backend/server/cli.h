#pragma once

#include <QStringList>

#include "../core/config.h"

namespace Outpost::Cli {

// Exit codes shared by both executables.
enum ExitCode { Ok = 0, Failure = 1, Usage = 2 };

// The options every serving command accepts (`outpost` and `outpostd serve`), without dashes.
QStringList configValueOptions();
QStringList configSwitches();

// Parses serving flags into a Config (flags > environment > config file > defaults). On error,
// prints one line to stderr and returns an error carrying the Usage exit code.
Result<Config> loadConfig(const QStringList &args, const QString &program);

// Serves until SIGINT/SIGTERM, printing where it listens and where the data lives. Needs a
// Q(Core)Application. Returns the process exit code.
int serveHeadless(const Config &config);

// `outpostd ARGS…` (args without the program name). Needs a QCoreApplication.
int runDaemon(const QStringList &args);

QString serveOptionsHelp();
void printError(const QString &program, const QString &message);

} // namespace Outpost::Cli
