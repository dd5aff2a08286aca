#include "daemon.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QRegularExpression>

#include <sys/types.h>

namespace Outpost::Testing {

QString outpostdProgram()
{
    const QString program = qEnvironmentVariable("OUTPOSTD");
    if (!program.isEmpty())
        return program;
    return QCoreApplication::applicationDirPath() + QStringLiteral("/../../app/outpostd"); // run by hand
}

QProcessEnvironment isolatedEnvironment(const QTemporaryDir &home)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString &key : env.keys())
        if (key.startsWith(QStringLiteral("OUTPOST_")))
            env.remove(key);
    env.insert(QStringLiteral("HOME"), home.path());
    env.insert(QStringLiteral("XDG_DATA_HOME"), home.filePath(QStringLiteral("xdg")));
    return env;
}

QStringList serveArguments(const QString &dataDir)
{
    return {QStringLiteral("--data-dir"), dataDir,
            QStringLiteral("--listen"),   QStringLiteral("127.0.0.1:0"),
            QStringLiteral("--threads"),  QStringLiteral("2")};
}

Run runOutpostd(const QString &program, const QProcessEnvironment &env, const QStringList &args,
                const QByteArray &input)
{
    QProcess process;
    process.setProcessEnvironment(env);
    process.start(program, args);
    Run result;
    if (!process.waitForStarted(kDaemonTimeoutMs))
        return result;
    if (!input.isEmpty())
        process.write(input);
    process.closeWriteChannel();
    result.finished = process.waitForFinished(kDaemonTimeoutMs);
    if (!result.finished) {
        process.kill();
        process.waitForFinished(3000);
    }
    result.status = process.exitStatus();
    result.exitCode = process.exitCode();
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}

Daemon::Daemon(const QString &program, const QProcessEnvironment &env, QProcess::ProcessChannelMode channels)
{
    m_process.setProgram(program);
    m_process.setProcessEnvironment(env);
    m_process.setProcessChannelMode(channels);
}

Daemon::~Daemon()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(3000);
    }
}

bool Daemon::start(const QStringList &args)
{
    m_process.setArguments(QStringList {QStringLiteral("serve")} + args);
    m_process.start();
    if (!m_process.waitForStarted(kDaemonTimeoutMs))
        return false;
    static const QRegularExpression apiLine(
        QStringLiteral(R"(^  API:  http://127\.0\.0\.1:(\d+)  \((\d+) network threads\)$)"),
        QRegularExpression::MultilineOption);
    const QDeadlineTimer deadline(kDaemonTimeoutMs);
    while (!deadline.hasExpired()) {
        m_out += m_process.readAllStandardOutput();
        const QRegularExpressionMatch match = apiLine.match(QString::fromUtf8(m_out));
        if (match.hasMatch() && m_out.contains("Stop with Ctrl-C or SIGTERM.\n")) {
            m_port = quint16(match.captured(1).toUInt());
            m_threads = match.captured(2).toInt();
            return m_port != 0;
        }
        if (m_process.state() == QProcess::NotRunning)
            return false;
        m_process.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
    }
    return false;
}

bool Daemon::signal(int signal)
{
    return ::kill(pid_t(m_process.processId()), signal) == 0;
}

bool Daemon::stop(int signal)
{
    return this->signal(signal) && waitForExit();
}

bool Daemon::waitForExit()
{
    const bool done = m_process.state() == QProcess::NotRunning || m_process.waitForFinished(kDaemonTimeoutMs);
    m_out += m_process.readAllStandardOutput();
    return done;
}

} // namespace Outpost::Testing
