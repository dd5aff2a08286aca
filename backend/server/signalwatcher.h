#pragma once

#include <QObject>

class QSocketNotifier;

namespace Outpost {

// Turns SIGINT and SIGTERM into a Qt signal on the thread that created the watcher (self-pipe:
// the handler only writes a byte, which is all that is async-signal-safe). One per process.
class SignalWatcher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SignalWatcher)

public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

Q_SIGNALS:
    void terminationRequested(int signal);

private:
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace Outpost
