#pragma once

#include <QWidget>

#include "observe/metricsseries.h"

class QButtonGroup;
class QLabel;
class QTimer;

namespace Outpost {
class Server;
}

namespace Outpost::Observe {
struct MetricsSummary;
}

namespace Outpost::Console {

class BusiestTables;
class TrafficCharts;

// The console's front page: where the API listens, how long it has run, where the data lives and
// how big it is, live request counters, and the traffic of a window (5 min, 1 h, 24 h or 7 d):
// its totals and latency quantiles, charts of requests/s, latency and error rate (TrafficCharts),
// and the busiest routes and API keys (BusiestTables).
//
// Reads the server in-process: the counters are relaxed atomics, the window's figures come from
// the metrics series (Observe::summarizeMetrics, the same computation as
// GET /api/metrics/summary) and the size is a stat() of the database files, so a refresh never
// blocks on the store (only the names of API keys are read, in the background: see BusiestTables).
// Refreshes every kRefreshMs while shown and not at all while hidden. Thread: GUI thread only.
// `server` must be running and outlive the page.
class DashboardPage final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DashboardPage)

public:
    static constexpr int kRefreshMs = 1000;
    static constexpr int kTopRows = 10;

    explicit DashboardPage(Server &server, QWidget *parent = nullptr);
    ~DashboardPage() override;

    // Reads the server's counters, sizes and series into the labels, charts and tables now.
    void refresh();

    Observe::Window window() const { return m_window; }
    // Shows the traffic of `window` (as the selector's buttons do) and refreshes.
    void setWindow(Observe::Window window);

    static QString formatUptime(qint64 seconds); // "42 s", "3 min 07 s", "2 h 05 min", "3 d 4 h"
    static QString formatSize(qint64 bytes); // "512 bytes", "4.0 KiB", "48 KiB", "1.2 MiB"

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    QWidget *createServerSection();
    QWidget *createRequestSection();
    QWidget *createDatabaseSection();
    QWidget *createTrafficSection();
    QWidget *createTile(const QString &caption, const QString &objectName, QLabel **value);
    void refreshTraffic();
    void showSummary(const Observe::MetricsSummary &summary);

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
    Observe::Window m_window = Observe::Window::FiveMinutes;
    QButtonGroup *m_windowButtons = nullptr;
    QLabel *m_windowSummary = nullptr;
    TrafficCharts *m_charts = nullptr;
    BusiestTables *m_busiest = nullptr;
};

} // namespace Outpost::Console
