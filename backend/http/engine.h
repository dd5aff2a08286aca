#pragma once

#include <QAbstractHttpServer>
#include <atomic>
#include <memory>

#include "limits.h"
#include "router.h"

namespace Outpost::Store {
class Database;
}

namespace Outpost::Http {

// One network thread's HTTP server: Qt HTTP Server's connection handling and parser, fed by our
// Connection guards, dispatching to the shared Router. Each network thread owns one Engine and one
// read connection to the store.
//
// Thread: create, use and destroy on its network thread.
class Engine final : public QAbstractHttpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Engine)

public:
    Engine(const Router &router, const ResponseObserver &observer, std::unique_ptr<Store::Database> reader,
           QObject *parent = nullptr);
    ~Engine() override;

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    const Router &m_router;
    const ResponseObserver &m_observer;
    std::unique_ptr<Store::Database> m_reader;
};

} // namespace Outpost::Http
