#include "trafficcharts.h"

#include <QDateTime>
#include <QDateTimeAxis>
#include <QGraphicsLayout>
#include <QHBoxLayout>
#include <QLineSeries>
#include <QValueAxis>
#include <algorithm>

#include <QtCharts/QChartView>

namespace Outpost::Console {

namespace {

constexpr qint64 kMinuteMs = 60'000;
constexpr qint64 kHourMs = 60 * kMinuteMs;
constexpr qint64 kDayMs = 24 * kHourMs;
constexpr int kPointMarkersUpTo = 80; // a lone request in a long line would be invisible without

// The spacing of the time axis's ticks and how they are labelled.
std::pair<qint64, QString> timeTicks(Observe::Window window)
{
    switch (window) {
    case Observe::Window::FiveMinutes:
        return {kMinuteMs, QStringLiteral("HH:mm")};
    case Observe::Window::Hour:
        return {10 * kMinuteMs, QStringLiteral("HH:mm")};
    case Observe::Window::Day:
        return {4 * kHourMs, QStringLiteral("HH:mm")};
    case Observe::Window::Week:
        break;
    }
    return {kDayMs, QStringLiteral("ddd d")};
}

qint64 floorTo(qint64 ms, qint64 unit)
{
    return (ms >= 0 ? ms : ms - unit + 1) / unit * unit;
}

QFont smaller(QFont font)
{
    font.setPointSizeF(font.pointSizeF() * 0.85);
    return font;
}

} // namespace

TrafficCharts::TrafficCharts(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("trafficCharts"));
    m_requests = makeChart(QStringLiteral("requestsChart"), tr("Requests per second"),
                           {{tr("requests/s"), QColor(0x1e, 0x6f, 0xd9)}});
    m_latency = makeChart(QStringLiteral("latencyChart"), tr("Latency (ms)"),
                          {{QStringLiteral("p50"), QColor(0x2e, 0x9d, 0x5b)},
                           {QStringLiteral("p95"), QColor(0xe0, 0x8a, 0x00)},
                           {QStringLiteral("p99"), QColor(0xc6, 0x28, 0x28)}});
    m_errors = makeChart(QStringLiteral("errorsChart"), tr("Error rate (%)"),
                         {{tr("4xx"), QColor(0xe0, 0x8a, 0x00)}, {tr("5xx"), QColor(0xc6, 0x28, 0x28)}});
    auto *row = new QHBoxLayout(this);
    row->setContentsMargins(0, 0, 0, 0);
    row->setSpacing(12);
    for (const Chart *chart : {&m_requests, &m_latency, &m_errors})
        row->addWidget(chart->view, 1);
}

TrafficCharts::~TrafficCharts() = default;

TrafficCharts::Chart TrafficCharts::makeChart(const QString &objectName, const QString &title,
                                              const QList<std::pair<QString, QColor>> &series)
{
    Chart c;
    auto *chart = new QChart;
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->setBackgroundRoundness(4);
    chart->setMargins(QMargins(2, 2, 6, 2));
    chart->layout()->setContentsMargins(0, 0, 0, 0);
    QFont titleFont = font();
    titleFont.setWeight(QFont::DemiBold);
    chart->setTitleFont(titleFont);
    chart->setTitle(title);
    chart->legend()->setVisible(series.size() > 1);
    chart->legend()->setAlignment(Qt::AlignTop);
    chart->legend()->setFont(smaller(font()));

    c.time = new QDateTimeAxis;
    c.time->setLabelsFont(smaller(font()));
    chart->addAxis(c.time, Qt::AlignBottom);
    c.value = new QValueAxis;
    c.value->setLabelFormat(QStringLiteral("%g"));
    c.value->setLabelsFont(smaller(font()));
    c.value->setRange(0, 1);
    chart->addAxis(c.value, Qt::AlignLeft);
    for (const auto &[name, color] : series) {
        auto *line = new QLineSeries;
        line->setName(name);
        QPen pen(color);
        pen.setWidthF(1.6);
        line->setPen(pen);
        chart->addSeries(line);
        line->attachAxis(c.time);
        line->attachAxis(c.value);
        c.series.append(line);
        c.points.append(QList<QPointF>());
    }
    c.view = new QChartView(chart);
    c.view->setObjectName(objectName);
    c.view->setRenderHint(QPainter::Antialiasing);
    c.view->setMinimumHeight(230);
    c.view->setMinimumWidth(220);
    return c;
}

qint64 TrafficCharts::windowMs(Observe::Window window)
{
    switch (window) {
    case Observe::Window::FiveMinutes:
        return 5 * kMinuteMs;
    case Observe::Window::Hour:
        return kHourMs;
    case Observe::Window::Day:
        return kDayMs;
    case Observe::Window::Week:
        break;
    }
    return 7 * kDayMs;
}

void TrafficCharts::plot(const QList<Observe::SeriesPoint> &points, qint64 stepMs, qint64 toMs, Observe::Window window)
{
    QList<QList<QPointF>> rate(1), latency(3), errors(2);
    rate[0].reserve(points.size());
    for (const Observe::SeriesPoint &p : points) {
        const double x = double(p.startMs);
        rate[0].append({x, double(p.requests) * 1000.0 / double(stepMs)});
        if (p.requests == 0)
            continue;
        latency[0].append({x, p.p50Ms});
        latency[1].append({x, p.p95Ms});
        latency[2].append({x, p.p99Ms});
        errors[0].append({x, 100.0 * double(p.clientErrors) / double(p.requests)});
        errors[1].append({x, 100.0 * double(p.serverErrors) / double(p.requests)});
    }
    const qint64 fromMs = toMs - windowMs(window);
    setPoints(m_requests, std::move(rate), 1, fromMs, toMs, window);
    setPoints(m_latency, std::move(latency), 1, fromMs, toMs, window);
    setPoints(m_errors, std::move(errors), 1, fromMs, toMs, window);
}

void TrafficCharts::setPoints(Chart &chart, QList<QList<QPointF>> points, double minimumTop, qint64 fromMs, qint64 toMs,
                              Observe::Window window)
{
    double top = minimumTop;
    for (qsizetype i = 0; i < points.size(); ++i) {
        for (const QPointF &p : points[i])
            top = qMax(top, p.y());
        const QList<QPointF> &before = chart.points[i];
        if (points[i] == before)
            continue;
        // Within a minute only the current minute's point moves: update it alone (a whole 7-day
        // series is 10,080 points).
        const qsizetype n = points[i].size();
        const bool tailOnly
            = n == before.size() && n > 0 && std::equal(points[i].begin(), points[i].end() - 1, before.begin());
        if (tailOnly) {
            chart.series[i]->replace(int(n - 1), points[i].last());
        } else {
            chart.series[i]->setPointsVisible(n <= kPointMarkersUpTo);
            chart.series[i]->replace(points[i]);
        }
        chart.points[i] = std::move(points[i]);
    }
    chart.value->setRange(0, top * 1.05);
    chart.value->applyNiceNumbers();

    // Ticks on round local times: the range grows to the next tick on either side.
    const auto [tick, format] = timeTicks(window);
    const qint64 offset = qint64(QDateTime::fromMSecsSinceEpoch(toMs).offsetFromUtc()) * 1000;
    const qint64 first = floorTo(fromMs + offset, tick) - offset;
    const qint64 last = floorTo(toMs + offset + tick - 1, tick) - offset;
    chart.time->setFormat(format);
    chart.time->setTickCount(int((last - first) / tick) + 1);
    chart.time->setRange(QDateTime::fromMSecsSinceEpoch(first), QDateTime::fromMSecsSinceEpoch(last));
}

} // namespace Outpost::Console
