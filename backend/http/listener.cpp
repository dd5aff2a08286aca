#include "listener.h"

#include <QLoggingCategory>
#include <QSslSocket>
#include <QTimer>
#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connection.h"

Q_LOGGING_CATEGORY(lcListen, "outpost.http.listen")

namespace Outpost::Http {

namespace {

socklen_t toSockaddr(const QHostAddress &host, quint16 port, sockaddr_storage *out)
{
    std::memset(out, 0, sizeof(*out));
    if (host.protocol() == QAbstractSocket::IPv6Protocol) {
        auto *a = reinterpret_cast<sockaddr_in6 *>(out);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        const Q_IPV6ADDR ip = host.toIPv6Address();
        std::memcpy(&a->sin6_addr, &ip, sizeof(ip));
        return sizeof(sockaddr_in6);
    }
    auto *a = reinterpret_cast<sockaddr_in *>(out);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(host.toIPv4Address());
    return sizeof(sockaddr_in);
}

Error socketError(const char *what, const QHostAddress &host, quint16 port)
{
    return makeError(ErrorCode::Unavailable,
                     QStringLiteral("cannot listen on %1:%2: %3 failed: %4")
                         .arg(host.toString())
                         .arg(port)
                         .arg(QString::fromLatin1(what), QString::fromLocal8Bit(strerror(errno))));
}

} // namespace

Result<int> openReusePortSocket(const QHostAddress &host, quint16 port)
{
    sockaddr_storage address;
    const socklen_t length = toSockaddr(host, port, &address);
    const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return socketError("socket", host, port);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (address.ss_family == AF_INET6)
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr *>(&address), length) != 0 || ::listen(fd, 4096) != 0) {
        Error e = socketError("bind", host, port);
        ::close(fd);
        return e;
    }
    return fd;
}

Status checkPortFree(const QHostAddress &host, quint16 port)
{
    if (port == 0)
        return {};
    sockaddr_storage address;
    const socklen_t length = toSockaddr(host, port, &address);
    const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return {};
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr *>(&address), length) == 0;
    const int err = errno;
    ::close(fd);
    if (!ok && err == EADDRINUSE)
        return makeError(
            ErrorCode::Unavailable,
            QStringLiteral("cannot listen on %1:%2: the address is already in use").arg(host.toString()).arg(port));
    return {};
}

quint16 boundPort(int fd)
{
    sockaddr_storage address;
    socklen_t length = sizeof(address);
    if (::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return 0;
    if (address.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<sockaddr_in6 *>(&address)->sin6_port);
    return ntohs(reinterpret_cast<sockaddr_in *>(&address)->sin_port);
}

Listener::Listener(const GuardConfig &guard, std::optional<QSslConfiguration> tls, QObject *parent)
    : QTcpServer(parent)
    , m_guard(guard)
    , m_tls(std::move(tls))
{
    // Out of file descriptors: QTcpServer pauses accepting and, in 6.4, may never resume.
    connect(this, &QTcpServer::acceptError, this, [this](QAbstractSocket::SocketError error) {
        qCWarning(lcListen) << "accept failed:" << error << errorString();
        QTimer::singleShot(100, this, [this] { resumeAccepting(); });
    });
}

void Listener::incomingConnection(qintptr descriptor)
{
    QTcpSocket *wire = nullptr;
    if (m_tls) {
        auto *tls = new QSslSocket;
        tls->setSslConfiguration(*m_tls);
        wire = tls;
    } else {
        wire = new QTcpSocket;
    }
    if (!wire->setSocketDescriptor(descriptor)) {
        qCWarning(lcListen) << "cannot adopt socket:" << wire->errorString();
        delete wire;
        ::close(int(descriptor));
        return;
    }
    wire->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    if (auto *tls = qobject_cast<QSslSocket *>(wire)) {
        // Handshake errors just close; the guard's header timeout bounds a stalled handshake.
        connect(tls, &QSslSocket::sslErrors, tls, [tls] { tls->abort(); });
        connect(tls, &QSslSocket::errorOccurred, tls, [tls](QAbstractSocket::SocketError error) {
            if (error == QAbstractSocket::SslHandshakeFailedError || error == QAbstractSocket::SslInternalError)
                tls->abort(); // e.g. plain HTTP sent to the HTTPS port
        });
        tls->startServerEncryption();
    }
    auto *connection = new Connection(wire, m_guard, this);
    connect(connection, &Connection::rejected, this, &Listener::connectionRejected);
    addPendingConnection(connection);
    connection->start(); // after the connects, so that a refusal is counted and the socket freed
}

} // namespace Outpost::Http
