#pragma once

#include <QMetaObject>
#include <QPointer>
#include <QThreadPool>

#include "server/server.h"

namespace Outpost::Console {

// Runs `work` on server.blockingPool() and then `done(result)` on the GUI thread, unless
// `receiver` has been deleted meanwhile (the late result is then dropped). The queued call's
// context is the server, not the receiver: the server outlives every task of its pool (stop()
// waits for them), the receiver may not. Call on the GUI thread.
template <typename Receiver, typename Work, typename Done>
void runInBackground(Server &server, Receiver *receiver, Work work, Done done)
{
    QPointer<Receiver> self(receiver);
    Server *context = &server;
    server.blockingPool()->start([context, self, work, done] {
        auto result = work();
        QMetaObject::invokeMethod(
            context,
            [self, done, result] {
                if (self)
                    done(result);
            },
            Qt::QueuedConnection);
    });
}

} // namespace Outpost::Console
