#pragma once

#include <QWidget>

class QLabel;
class QTimer;

namespace Outpost {
class Server;
}

namespace Outpost::Console {

// The console's front page: where the API listens, how long it has run, where the data lives and
// how big it is, and live request counters.
//
// Reads the server in-process: the counters are relaxed atomics and the size is a stat() of the
// database files, so a refresh never blocks on the store. Refreshes every kRefreshMs while shown and
// not at all while hidden. Thread: GUI thread only. `server` must be running and outlive the page.
class DashboardPage final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DashboardPage)

public:
    static constexpr int kRefreshMs = 250;

    explicit DashboardPage(Server &server, QWidget *parent = nullptr);
    ~DashboardPage() override;

    // Reads the server's counters and sizes into the labels now.
    void refresh();

    static QString formatUptime(qint64 seconds); // "42 s", "3 min 07 s", "2 h 05 min", "3 d 4 h"
    static QString formatSize(qint64 bytes); // "512 bytes", "4.0 KiB", "48 KiB", "1.2 MiB"

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    QWidget *createServerSection();
    QWidget *createRequestSection();
    QWidget *createDatabaseSection();
    QWidget *createTile(const QString &caption, const QString &objectName, QLabel **value);

    Server &m_server;
    QTimer *m_timer = nullptr;
    QLabel *m_listenAddress = nullptr;
    QLabel *m_uptime = nullptr;
    QLabel *m_threads = nullptr;
    QLabel *m_requestCount = nullptr;
    QLabel *m_success = nullptr;
    QLabel *m_clientErrors = nullptr;
    QLabel *m_serverErrors = nullptr;
    QLabel *m_rejected = nullptr;
    QLabel *m_databasePath = nullptr;
    QLabel *m_databaseSize = nullptr;
};

} // namespace Outpost::Console
