#pragma once

#include <QColor>
#include <QList>
#include <QPointF>
#include <QWidget>

#include "observe/metricsseries.h"

class QChartView;
class QDateTimeAxis;
class QLineSeries;
class QValueAxis;

namespace Outpost::Console {

// The Dashboard's three charts of a window of the request series: requests per second; latency
// p50, p95 and p99 in ms; and the share of 4xx and 5xx answers in %. The time axis spans the
// window, aligned to ticks that read well for its length (every minute for 5 min, 10 min for 1 h,
// 4 h for 24 h, a day for 7 d, in local time); the value axes grow to the data in 1-2-5 steps.
// Intervals without requests plot as 0 requests/s and leave a gap in latency and error rate
// (there is no latency of nothing).
//
// The series are made once; plot() replaces their points (QXYSeries::replace) and leaves a series
// alone when its points did not change, so a refresh each second costs one redraw at most.
// Thread: GUI thread only.
class TrafficCharts final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrafficCharts)

public:
    explicit TrafficCharts(QWidget *parent = nullptr);
    ~TrafficCharts() override;

    // `points` oldest first, each `stepMs` long; the axis shows [toMs - the window's length, toMs].
    void plot(const QList<Observe::SeriesPoint> &points, qint64 stepMs, qint64 toMs, Observe::Window window);

    static qint64 windowMs(Observe::Window window);

private:
    struct Chart
    {
        QChartView *view = nullptr;
        QDateTimeAxis *time = nullptr;
        QValueAxis *value = nullptr;
        QList<QLineSeries *> series;
        QList<QList<QPointF>> points; // as last plotted, per series
    };
    Chart makeChart(const QString &objectName, const QString &title, const QList<std::pair<QString, QColor>> &series);
    void setPoints(Chart &chart, QList<QList<QPointF>> points, double minimumTop, qint64 fromMs, qint64 toMs,
                   Observe::Window window);

    Chart m_requests;
    Chart m_latency;
    Chart m_errors;
};

} // namespace Outpost::Console
