#include "queuedlog.h"

#include <QLoggingCategory>
#include <exception>

#include <pthread.h>
#include <sched.h>

#include "sqlite.h"

namespace Outpost::Store::QueuedLogDetail {

void prepareThread(const QueuedLogOptions &options)
{
    // Named for top/perf ("outpost-log-request"); 15 characters at most, as Linux allows.
    if (options.threadName)
        ::pthread_setname_np(::pthread_self(), options.threadName);
    // A batch of a few thousand rows takes a few milliseconds of CPU. Woken at normal priority, the
    // thread preempted a network thread for that long: with the request log on, W1's p99 rose from
    // 4 to 6 ms (BENCHMARKS.md, metrics and request log cost). SCHED_BATCH keeps its fair share of
    // the CPU, so it keeps up as before, but it never preempts on waking. Best effort: a refusal
    // leaves the normal policy.
    sched_param param {};
    ::sched_setscheduler(0, SCHED_BATCH, &param);
    untimedStoreThread(); // it serves no request
}

Status callWriter(const std::function<Status()> &write)
{
    // The log's thread is ours: an exception must not end the process through std::terminate.
    try {
        return write();
    } catch (const std::exception &e) {
        return makeError(ErrorCode::Internal, QString::fromUtf8(e.what()));
    } catch (...) {
        return makeError(ErrorCode::Internal, QStringLiteral("unknown exception"));
    }
}

void warnRefused(const QueuedLogOptions &options, quint64 count, bool overflowStarted, bool stopped)
{
    // Once per overflow: the thread reports the total when the queue has drained.
    if (overflowStarted)
        qCWarning(options.category, "%s queue full (%lld entries): dropping entries until it drains", options.name,
                  qint64(options.capacity));
    if (stopped)
        qCWarning(options.category, "the %s queue has stopped: dropped %llu entries", options.name, count);
}

void warnFailed(const QueuedLogOptions &options, quint64 count, const QString &why)
{
    qCWarning(options.category, "dropped %llu %s entries: %s", count, options.name, qPrintable(why));
}

void warnDrained(const QueuedLogOptions &options, quint64 dropped)
{
    qCWarning(options.category, "the %s queue has drained; %llu entries were dropped while it was full", options.name,
              dropped);
}

} // namespace Outpost::Store::QueuedLogDetail
