#include "processstats.h"

#include <QByteArray>
#include <QFile>
#include <QList>

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

namespace Outpost::Observe {

namespace {

QByteArray readProcFile(const char *path)
{
    // /proc files report a size of 0: read until EOF rather than trusting size().
    QFile file(QString::fromLatin1(path));
    if (!file.open(QIODevice::ReadOnly | QIODevice::Unbuffered))
        return QByteArray();
    return file.readAll();
}

// Boot time in Unix seconds: the `btime` line of /proc/stat.
qint64 bootTime()
{
    const QByteArray stat = readProcFile("/proc/stat");
    const qsizetype at = stat.indexOf("\nbtime ");
    if (at < 0)
        return -1;
    const qsizetype end = stat.indexOf('\n', at + 1);
    bool ok = false;
    const qint64 value = stat.mid(at + 7, end < 0 ? -1 : end - at - 7).trimmed().toLongLong(&ok);
    return ok ? value : -1;
}

qint64 countOpenFds()
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return -1;
    qint64 n = 0;
    while (const dirent *entry = readdir(dir))
        if (entry->d_name[0] != '.')
            ++n;
    closedir(dir);
    return n - 1; // the descriptor opendir() itself holds
}

} // namespace

ProcessStats ProcessStats::read(qint64 nowMs)
{
    ProcessStats out;
    const long pageSize = sysconf(_SC_PAGESIZE);
    const long ticksPerSecond = sysconf(_SC_CLK_TCK);

    const QList<QByteArray> statm = readProcFile("/proc/self/statm").split(' ');
    if (statm.size() >= 2) {
        out.virtualBytes = statm[0].toLongLong() * pageSize;
        out.residentBytes = statm[1].toLongLong() * pageSize;
    }

    // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
    const QByteArray stat = readProcFile("/proc/self/stat");
    const qsizetype close = stat.lastIndexOf(')');
    if (close > 0 && ticksPerSecond > 0) {
        const QList<QByteArray> fields = stat.mid(close + 2).split(' '); // fields[0] is field 3
        if (fields.size() > 19) {
            out.cpuSeconds = double(fields[11].toLongLong() + fields[12].toLongLong()) / double(ticksPerSecond);
            const qint64 boot = bootTime();
            if (boot >= 0) {
                out.startTimeSeconds = double(boot) + double(fields[19].toLongLong()) / double(ticksPerSecond);
                out.uptimeSeconds = double(qMax<qint64>(0, nowMs - qRound64(out.startTimeSeconds * 1000))) / 1000;
            }
        }
    }

    out.openFds = countOpenFds();
    rlimit limit {};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0)
        out.maxFds = limit.rlim_cur == RLIM_INFINITY ? -1 : qint64(limit.rlim_cur);
    return out;
}

} // namespace Outpost::Observe
