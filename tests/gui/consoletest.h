// Helpers the console's GUI tests share: a real server in a temporary directory, and real HTTP
// requests to it over loopback.
#pragma once

#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

#include "core/clock.h"
#include "core/config.h"
#include "observe/metrics.h"
#include "server/server.h"
#include "server/servermetrics.h"

namespace Outpost::ConsoleTesting {

// A server on a free loopback port with its data in `dir`, two network threads, the given clock
// (nullptr: the system clock). Null, with `error` set, when it did not start.
inline std::unique_ptr<Server> startServer(const QTemporaryDir &dir, const Clock *clock, QString *error)
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("OUTPOST_THREADS"), QStringLiteral("2"));
    auto config = ConfigLoader::load({{QStringLiteral("data-dir"), dir.filePath(QStringLiteral("data"))},
                                      {QStringLiteral("listen"), QStringLiteral("127.0.0.1:0")}},
                                     env);
    if (!config) {
        *error = config.error().message;
        return nullptr;
    }
    auto server = std::make_unique<Server>(*config, clock);
    if (const Status started = server->start(); !started) {
        *error = started.error().message;
        return nullptr;
    }
    return server;
}

// One GET: a path (with its query) and, if not empty, the API key to send.
struct Get
{
    QString path;
    QByteArray apiKey;
};

// Sends `requests` at once (QNetworkAccessManager keeps 6 connections busy) and waits until every
// one is answered or `timeoutMs` passed. Returns the statuses in order (0: no answer).
inline QList<int> getAll(const QString &baseUrl, const QList<Get> &requests, int timeoutMs = 30'000)
{
    QNetworkAccessManager network;
    network.setProxy(QNetworkProxy::NoProxy);
    std::vector<std::unique_ptr<QNetworkReply>> replies;
    for (const Get &get : requests) {
        QNetworkRequest request(QUrl(baseUrl + get.path));
        if (!get.apiKey.isEmpty())
            request.setRawHeader("X-API-Key", get.apiKey);
        replies.emplace_back(network.get(request));
    }
    (void)QTest::qWaitFor(
        [&replies] {
            return std::all_of(replies.begin(), replies.end(), [](const auto &r) { return r->isFinished(); });
        },
        timeoutMs);
    QList<int> statuses;
    for (const auto &reply : replies)
        statuses.append(reply->isFinished() ? reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() : 0);
    return statuses;
}

// Requests the metrics have counted so far (a response is counted just after it is written).
inline quint64 countedRequests(Server &server)
{
    quint64 n = 0;
    for (quint64 c : server.metrics().metrics().totals().byClass)
        n += c;
    return n;
}

} // namespace Outpost::ConsoleTesting
