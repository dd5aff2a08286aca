// outpost: the admin console with the API server embedded. One process, one window; the HTTP API
// listens on loopback meanwhile. Without a display it serves headless, as `outpostd serve` does.
#include <QApplication>
#include <QMessageBox>
#include <QStatusBar>
#include <QTextStream>

#include "auth/superusers.h"
#include "firstrundialog.h"
#include "mainwindow.h"
#include "server/cli.h"
#include "server/server.h"
#include "server/signalwatcher.h"

namespace {

QString program()
{
    return QStringLiteral("outpost");
}

QStringList argumentsOf(int argc, char *argv[])
{
    QStringList args;
    for (int i = 1; i < argc; ++i)
        args << QString::fromLocal8Bit(argv[i]);
    return args;
}

QString usage()
{
    return QStringLiteral("Usage: outpost [OPTIONS]\n"
                          "\n"
                          "The Outpost admin console, with the API server embedded. Without a display it\n"
                          "serves headless, the same as `outpostd serve`.\n"
                          "\n")
        + Outpost::Cli::serveOptionsHelp()
        + QStringLiteral("  --help                    print this help\n"
                         "  --version                 print the version\n");
}

// Decided before any Q*Application exists: QApplication aborts when it cannot reach a display.
bool hasDisplay()
{
    return !qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")
        || !qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM");
}

void offerFirstRun(Outpost::Server &server, Outpost::Console::MainWindow &window)
{
    auto count = server.superusers().count();
    if (!count || *count != 0)
        return;
    auto *dialog = new Outpost::Console::FirstRunDialog(server, &window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    QObject::connect(dialog, &Outpost::Console::FirstRunDialog::superuserCreated, &window,
                     [&window](const QString &email) {
                         window.statusBar()->showMessage(
                             Outpost::Console::MainWindow::tr("Superuser %1 created.").arg(email), 10'000);
                     });
    // Window-modal over the console rather than exec(): no nested event loop, so a SIGTERM or
    // closing the window still ends the one loop in main().
    dialog->open();
}

int runConsole(int &argc, char *argv[], const Outpost::Config &config)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(program());
    QApplication::setApplicationVersion(QStringLiteral(OUTPOST_VERSION));
    Outpost::Server server(config);
    if (auto s = server.start(); !s) {
        Outpost::Cli::printError(program(), s.error().message);
        QMessageBox::critical(nullptr, QStringLiteral("Outpost"),
                              QApplication::tr("Outpost cannot start.\n\n%1").arg(s.error().message));
        return Outpost::Cli::Failure;
    }
    QTextStream(stdout) << "Outpost " << OUTPOST_VERSION << " serving\n"
                        << "  API:  " << server.baseUrl() << "  (" << config.threads << " network threads)\n"
                        << "  Data: " << config.dataDir << Qt::endl;
    {
        Outpost::SignalWatcher watcher;
        Outpost::Console::MainWindow window(server);
        QObject::connect(&watcher, &Outpost::SignalWatcher::terminationRequested, &window, [&window](int) {
            window.close();
            QApplication::quit();
        });
        window.show();
        offerFirstRun(server, window);
        QApplication::exec();
    }
    QTextStream(stdout) << "Stopping: finishing in-flight requests..." << Qt::endl;
    server.stop(); // graceful: in-flight requests finish, the store closes
    QTextStream(stdout) << "Stopped cleanly." << Qt::endl;
    return Outpost::Cli::Ok;
}

} // namespace

int main(int argc, char *argv[])
{
    // Qt's own event dispatcher (poll) instead of glib's: measured 20-25% more requests per second
    // at 64 connections and twice as many at 2000 (docs/BENCHMARKS.md).
    qputenv("QT_NO_GLIB", "1");
    const QStringList args = argumentsOf(argc, argv);
    if (args.contains(u"--help") || args.contains(u"-h")) {
        QTextStream(stdout) << usage();
        return Outpost::Cli::Ok;
    }
    if (args.contains(u"--version")) {
        QTextStream(stdout) << "outpost " << OUTPOST_VERSION << Qt::endl;
        return Outpost::Cli::Ok;
    }
    auto config = Outpost::Cli::loadConfig(args, program());
    if (!config)
        return Outpost::Cli::Usage;
    if (!hasDisplay()) {
        QTextStream(stderr) << "outpost: no display found; running headless (the same as `outpostd serve`)."
                            << Qt::endl;
        QCoreApplication app(argc, argv);
        QCoreApplication::setApplicationName(program());
        QCoreApplication::setApplicationVersion(QStringLiteral(OUTPOST_VERSION));
        return Outpost::Cli::serveHeadless(*config);
    }
    return runConsole(argc, argv, *config);
}
