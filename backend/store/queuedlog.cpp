#include "queuedlog.h"

#include <QLoggingCategory>
#include <exception>

namespace Outpost::Store::QueuedLogDetail {

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
