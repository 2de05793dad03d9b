// SPDX-License-Identifier: MIT
#include "valueformat.h"

#include <cmath>

namespace QtAio {

namespace {

// Three significant digits without an exponent, and no trailing ".0".
QString compact(double value)
{
    const double magnitude = std::abs(value);
    const int decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : 2;
    QString text = QString::number(value, 'f', decimals);
    if (text.contains(QLatin1Char('.'))) {
        while (text.endsWith(QLatin1Char('0')))
            text.chop(1);
        if (text.endsWith(QLatin1Char('.')))
            text.chop(1);
    }
    return text;
}

// A count with a k/M/G suffix from 10 000 on (exact below, so that "1234" stays an integer).
QString count(double value)
{
    const double magnitude = std::abs(value);
    if (magnitude < 10000 && value == std::floor(value))
        return QString::number(static_cast<qint64>(value));
    if (magnitude < 1000)
        return compact(value);
    if (magnitude < 1e6)
        return compact(value / 1e3) + QLatin1Char('k');
    if (magnitude < 1e9)
        return compact(value / 1e6) + QLatin1Char('M');
    return compact(value / 1e9) + QLatin1Char('G');
}

} // namespace

QString formatInspectorValue(double value, const QString &unit)
{
    if (!std::isfinite(value))
        return QStringLiteral("–");
    if (value == 0)
        return QStringLiteral("0"); // an axis' origin, in any unit
    if (unit == QLatin1String("ms")) {
        const double magnitude = std::abs(value);
        if (magnitude < 1000)
            return compact(value) + QLatin1String(" ms");
        if (magnitude < 60000)
            return compact(value / 1000) + QLatin1String(" s");
        if (magnitude < 3600000)
            return compact(value / 60000) + QLatin1String(" min");
        return compact(value / 3600000) + QLatin1String(" h");
    }
    if (unit == QLatin1String("/s"))
        return count(value) + QLatin1String("/s");
    if (unit.isEmpty())
        return count(value);
    return count(value) + QLatin1Char(' ') + unit;
}

} // namespace QtAio
