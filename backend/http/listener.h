#pragma once

#include <QHostAddress>
#include <QSslConfiguration>
#include <QTcpServer>
#include <optional>

#include "../core/result.h"

namespace Outpost::Http {

struct GuardConfig;

// Creates a listening TCP socket with SO_REUSEPORT (backlog 4096), so that each network thread can
// accept on its own socket and the kernel spreads connections between them. Returns the fd.
Result<int> openReusePortSocket(const QHostAddress &host, quint16 port);
// SO_REUSEPORT would let us silently share a port with another process that also set it (a second
// Outpost, say). A plain bind first tells whether the port is really free: Unavailable if taken.
Status checkPortFree(const QHostAddress &host, quint16 port);
// The port an open socket is bound to.
quint16 boundPort(int fd);

// A QTcpServer around one such socket that wraps every accepted connection in a Connection guard
// (and TLS, when configured) before Qt HTTP Server sees it. Resumes accepting after EMFILE.
// `guard` is shared by the whole server and must outlive the listener.
//
// Thread: create on the network thread that will serve its connections.
class Listener final : public QTcpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Listener)

public:
    Listener(const GuardConfig &guard, std::optional<QSslConfiguration> tls, QObject *parent = nullptr);

Q_SIGNALS:
    void connectionRejected(int status);

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    const GuardConfig &m_guard;
    std::optional<QSslConfiguration> m_tls;
};

} // namespace Outpost::Http
