#pragma once

#include <QByteArray>
#include <QList>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <csignal>

// For the tests that drive the real `outpostd` executable in child processes.
namespace Outpost::Testing {

// Bounds each wait below: a start, a command, an exit.
constexpr int kDaemonTimeoutMs = 10'000;

// The outpostd under test: $OUTPOSTD (ctest sets it), else the one in the build tree.
QString outpostdProgram();
// The system environment without OUTPOST_* variables, with HOME and XDG_DATA_HOME inside `home`:
// nothing from the developer's environment or home directory leaks into the runs.
QProcessEnvironment isolatedEnvironment(const QTemporaryDir &home);
// `--data-dir dataDir --listen 127.0.0.1:0 --threads 2`, the arguments of a test's `outpostd serve`.
QStringList serveArguments(const QString &dataDir);

// How one outpostd command ended.
struct Run
{
    bool finished = false; // false: it did not start, or was killed after kDaemonTimeoutMs
    QProcess::ExitStatus status = QProcess::CrashExit;
    int exitCode = -1;
    QByteArray out;
    QByteArray err;

    QList<QByteArray> errLines() const { return err.trimmed().split('\n'); }
};

// Runs `program args` to its end with `input` on its standard input (closed after it).
Run runOutpostd(const QString &program, const QProcessEnvironment &env, const QStringList &args,
                const QByteArray &input = {});

// One running `outpostd serve`. Kills the process if a test leaves it running. Use it on the thread
// that created it.
class Daemon
{
public:
    // With QProcess::ForwardedErrorChannel its warnings go to the test's log, and err() is empty.
    Daemon(const QString &program, const QProcessEnvironment &env,
           QProcess::ProcessChannelMode channels = QProcess::SeparateChannels);
    ~Daemon();
    Q_DISABLE_COPY_MOVE(Daemon)

    // Starts `outpostd serve ARGS` and waits for its banner (where it listens, then how to stop it).
    // False when it exits first or the banner does not come within kDaemonTimeoutMs.
    bool start(const QStringList &args);
    // Sends `signal` without waiting.
    bool signal(int signal);
    // Sends `signal` and waits for the exit.
    bool stop(int signal = SIGTERM);
    bool waitForExit();

    QProcess &process() { return m_process; }
    quint16 port() const { return m_port; }
    int threads() const { return m_threads; }
    // Its standard output so far (up to the banner, or the exit once waited for).
    const QByteArray &out() const { return m_out; }
    QByteArray err() { return m_process.readAllStandardError(); }

private:
    QProcess m_process;
    QByteArray m_out;
    quint16 m_port = 0;
    int m_threads = 0;
};

} // namespace Outpost::Testing
