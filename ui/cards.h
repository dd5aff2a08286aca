#pragma once

#include <QString>

class QFrame;
class QWidget;

namespace Outpost::Console {

// The Dashboard's building blocks, shared by its parts so that they look alike.

// A framed card on the base colour with rounded corners.
QFrame *makeCard();
// `content` under a bold heading; beside other sections, the content grows so headings line up.
QWidget *makeSection(const QString &title, QWidget *content);
// A ratio (0.123) as a percentage: "12%", and "0.4%" below 10%.
QString formatPercent(double ratio);

} // namespace Outpost::Console
