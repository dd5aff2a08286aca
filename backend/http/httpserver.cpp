#include "httpserver.h"

#include <QDeadlineTimer>
#include <QThread>
#include <cerrno>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../store/store.h"
#include "connection.h"
#include "engine.h"
#include "guardconfig.h"
#include "listener.h"

namespace Outpost::Http {

struct HttpServer::Worker
{
    QThread thread;
    QObject *context = nullptr; // lives in `thread`; parent of the engine
    Engine *engine = nullptr;
    Listener *listener = nullptr;
};

HttpServer::HttpServer(const Router &router, ResponseObserver observer, Store::Store &store, Options options)
    : m_router(router)
    , m_observer(std::move(observer))
    , m_store(store)
    , m_options(std::move(options))
{
}

HttpServer::~HttpServer()
{
    stop(0);
}

int HttpServer::connections() const
{
    return m_guard ? m_guard->clients.connections() : 0;
}

Status HttpServer::start()
{
    if (auto s = checkPortFree(m_options.host, m_options.port); !s)
        return s;
    auto bodyLimits = BodyLimits::create(m_router, m_options.limits.maxBodyBytes, m_options.routeBodyLimits);
    if (!bodyLimits)
        return bodyLimits.error();
    m_guard = std::make_unique<GuardConfig>(m_options.limits, &m_inflight, m_options.trustedProxies);
    m_guard->bodyLimits = std::move(*bodyLimits);
    m_guard->hosts = HostCheck::create(m_options.host, m_options.allowedHosts);
    m_guard->cors = Cors(m_options.corsOrigins);
    m_guard->fixedHeaders = securityHeaders(m_options.tls.has_value()) + m_guard->cors.fixedHeaders();
    std::vector<int> fds;
    quint16 port = m_options.port;
    for (int i = 0; i < m_options.threads; ++i) {
        auto fd = openReusePortSocket(m_options.host, port);
        if (!fd) {
            for (int open : fds)
                ::close(open);
            return fd.error();
        }
        port = boundPort(*fd); // threads after the first join the port the first one got
        fds.push_back(*fd);
    }
    m_port = port;

    for (int i = 0; i < m_options.threads; ++i) {
        auto reader = m_store.openReader();
        if (!reader)
            return reader.error();
        auto worker = std::make_unique<Worker>();
        worker->thread.setObjectName(QStringLiteral("outpost-net-%1").arg(i));
        worker->thread.start();
        worker->context = new QObject;
        worker->context->moveToThread(&worker->thread);
        Worker *w = worker.get();
        const int fd = fds[size_t(i)];
        auto *readerPtr = reader->release();
        bool ok = false;
        // Qt HTTP Server's bind() reparents the QTcpServer, so both must be created on the thread
        // that will serve them.
        QMetaObject::invokeMethod(
            w->context,
            [this, w, fd, readerPtr, &ok] {
                w->engine = new Engine(m_router, m_observer, std::unique_ptr<Store::Database>(readerPtr),
                                       m_options.trustedProxies, m_options.rateLimiter, w->context);
                w->listener = new Listener(*m_guard, m_options.tls);
                QObject::connect(w->listener, &Listener::connectionRejected, w->engine, [this](int status) {
                    if (m_rejected)
                        m_rejected(status);
                });
                ok = w->listener->setSocketDescriptor(fd);
                w->engine->bind(w->listener);
            },
            Qt::BlockingQueuedConnection);
        m_workers.push_back(std::move(worker));
        if (!ok) {
            stop(0);
            return makeError(ErrorCode::Unavailable, QStringLiteral("cannot adopt the listening socket"));
        }
    }
    return {};
}

void HttpServer::stop(int drainMs)
{
    if (m_workers.empty())
        return;
    // Stop accepting, and tell every connection to close once it is idle; requests already in the
    // kernel's buffers are read and dispatched by closeWhenIdle(), so the drain below waits for them.
    for (auto &w : m_workers)
        QMetaObject::invokeMethod(
            w->context,
            [w = w.get()] {
                w->listener->close();
                for (Connection *c : w->listener->findChildren<Connection *>(Qt::FindDirectChildrenOnly))
                    c->closeWhenIdle();
            },
            Qt::BlockingQueuedConnection);
    QDeadlineTimer deadline(drainMs);
    while (m_inflight.load() > 0 && !deadline.hasExpired())
        QThread::msleep(5);
    for (auto &w : m_workers) {
        QMetaObject::invokeMethod(
            w->context,
            [w = w.get()] {
                for (Connection *c : w->listener->findChildren<Connection *>(Qt::FindDirectChildrenOnly))
                    c->wire()->flush(); // answers written since the drain are still in Qt's buffer
                delete w->context; // the engine, its listener and every connection
                w->context = nullptr;
            },
            Qt::BlockingQueuedConnection);
        w->thread.quit();
        w->thread.wait();
    }
    m_workers.clear();
}

} // namespace Outpost::Http
