// HTTPS: the server speaks TLS with a PEM certificate and key from the config, and plain HTTP
// sent to the HTTPS port gets no answer.
#include <QProcess>
#include <QProcessEnvironment>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QTest>

#include "core/config.h"
#include "server/server.h"

using namespace Outpost;

class TestTls : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void servesHttps();
    void refusesPlainHttpOnTlsPort();
    void allowsRemoteBindWithTls();

private:
    Config tlsConfig(const QString &listen) const;
    QTemporaryDir m_dir;
    QString m_cert;
    QString m_key;
};

void TestTls::initTestCase()
{
    QVERIFY(QSslSocket::supportsSsl());
    m_cert = m_dir.filePath(QStringLiteral("cert.pem"));
    m_key = m_dir.filePath(QStringLiteral("key.pem"));
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
                  {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("ec"),
                   QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
                   QStringLiteral("-keyout"), m_key, QStringLiteral("-out"), m_cert, QStringLiteral("-days"),
                   QStringLiteral("1"), QStringLiteral("-subj"), QStringLiteral("/CN=localhost"),
                   QStringLiteral("-addext"), QStringLiteral("subjectAltName=DNS:localhost,IP:127.0.0.1")});
    QVERIFY(openssl.waitForFinished(20000));
    QCOMPARE(openssl.exitCode(), 0);
}

Config TestTls::tlsConfig(const QString &listen) const
{
    auto config = ConfigLoader::load({{QStringLiteral("data-dir"), m_dir.filePath(QStringLiteral("data"))},
                                      {QStringLiteral("listen"), listen},
                                      {QStringLiteral("tls-cert"), m_cert},
                                      {QStringLiteral("tls-key"), m_key}},
                                     QProcessEnvironment());
    if (!config)
        qFatal("config: %s", qPrintable(config.error().message));
    return *config;
}

void TestTls::servesHttps()
{
    Server server(tlsConfig(QStringLiteral("127.0.0.1:0")));
    QVERIFY2(server.start().ok(), "server start");
    QVERIFY(server.baseUrl().startsWith(QStringLiteral("https://127.0.0.1:")));

    QSslSocket client;
    QSslConfiguration tls = client.sslConfiguration();
    tls.setCaCertificates(QSslCertificate::fromPath(m_cert)); // trust exactly our certificate
    client.setSslConfiguration(tls);
    client.connectToHostEncrypted(QStringLiteral("127.0.0.1"), server.port(), QStringLiteral("localhost"));
    QVERIFY2(client.waitForEncrypted(5000), qPrintable(client.errorString()));
    QVERIFY(client.sessionProtocol() == QSsl::TlsV1_3 || client.sessionProtocol() == QSsl::TlsV1_2);
    client.write("GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    QByteArray response;
    for (int i = 0; i < 50 && !response.contains("\"status\":\"ok\""); ++i) {
        client.waitForReadyRead(100);
        response += client.readAll();
    }
    QVERIFY2(response.startsWith("HTTP/1.1 200 OK\r\n"), response.constData());
    QVERIFY(response.contains("\"database\":\"ok\""));
    // Over TLS, and only there (tst_hygiene checks plain HTTP), browsers are told to stay on HTTPS.
    const QByteArray head = response.left(response.indexOf("\r\n\r\n") + 2);
    QCOMPARE(head.count("\r\nStrict-Transport-Security: max-age=31536000\r\n"), 1);
    QVERIFY(head.contains("\r\nX-Content-Type-Options: nosniff\r\n"));
    server.stop();
}

void TestTls::refusesPlainHttpOnTlsPort()
{
    Server server(tlsConfig(QStringLiteral("127.0.0.1:0")));
    QVERIFY(server.start().ok());
    QTcpSocket plain;
    plain.connectToHost(QStringLiteral("127.0.0.1"), server.port());
    QVERIFY(plain.waitForConnected(5000));
    plain.write("GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    QByteArray answer;
    for (int i = 0; i < 50 && plain.state() == QAbstractSocket::ConnectedState; ++i) {
        plain.waitForReadyRead(100);
        answer += plain.readAll();
    }
    QCOMPARE(plain.state(), QAbstractSocket::UnconnectedState); // closed within 5 s
    QVERIFY(!answer.contains("HTTP/1.1 200"));
    server.stop();
}

void TestTls::allowsRemoteBindWithTls()
{
    // Without TLS this address needs --allow-insecure-remote; with TLS it is accepted.
    auto plain = ConfigLoader::load(
        {{QStringLiteral("data-dir"), m_dir.path()}, {QStringLiteral("listen"), QStringLiteral("0.0.0.0:0")}},
        QProcessEnvironment());
    QVERIFY(!plain.ok());
    QVERIFY(plain.error().message.contains(QStringLiteral("allow-insecure-remote")));
    const Config config = tlsConfig(QStringLiteral("0.0.0.0:0"));
    QVERIFY(config.tlsEnabled());
}

QTEST_GUILESS_MAIN(TestTls)
#include "tst_tls.moc"
