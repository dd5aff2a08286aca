#include "cards.h"

#include <QFrame>
#include <QLabel>
#include <QLocale>
#include <QVBoxLayout>

namespace Outpost::Console {

QFrame *makeCard()
{
    auto *card = new QFrame;
    card->setObjectName(QStringLiteral("card"));
    card->setStyleSheet(QStringLiteral("QFrame#card { background: palette(base); border: 1px solid palette(mid);"
                                       " border-radius: 6px; }"));
    return card;
}

QWidget *makeSection(const QString &title, QWidget *content)
{
    auto *section = new QWidget;
    auto *layout = new QVBoxLayout(section);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(6);
    auto *heading = new QLabel(title);
    QFont font = heading->font();
    font.setWeight(QFont::DemiBold);
    heading->setFont(font);
    layout->addWidget(heading);
    layout->addWidget(content, 1);
    return section;
}

QString formatPercent(double ratio)
{
    return QLocale().toString(100.0 * ratio, 'f', ratio > 0 && ratio < 0.1 ? 1 : 0) + u'%';
}

} // namespace Outpost::Console
