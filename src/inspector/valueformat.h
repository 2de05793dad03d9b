// SPDX-License-Identifier: MIT
#pragma once

#include "qtaioinspector_export.h"

#include <QtCore/QString>

namespace QtAio {

//! Formats \a value for an axis label or a readout: at most three significant digits, no
//! exponent, and a unit where it helps.
/*!
 * \a unit `"ms"` reads as a duration (`850 ms`, `13.9 s`, `2.5 min`); `"/s"` as a rate
 * (`170/s`, `13.9k/s`); anything else is appended after a space, and an empty \a unit gives a
 * plain count (`42`, `13.9k`, `1.2M`). Integers below 10 000 are shown exactly, and 0 without a
 * unit.
 */
QTAIO_INSPECTOR_EXPORT QString formatInspectorValue(double value, const QString &unit = {});

} // namespace QtAio
